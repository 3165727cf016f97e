package stack

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/acmedata/tokenservice/pkg/httpapi"
)

func TestAdminManagesUsers(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	u := a.createUser(t, acc, "ann@example.com")
	if u.ID == "" || u.Email != "ann@example.com" || u.CreatedAt == "" {
		t.Errorf("created %+v", u)
	}
	wantError(t, a.call(t, "POST", "/admin/users", acc.Key, map[string]string{"email": "ANN@example.com", "name": "Dup"}), http.StatusConflict, "")

	got := want[httpapi.UserView](t, a.call(t, "GET", "/admin/users/"+u.ID, acc.Key, nil), http.StatusOK)
	if got != u {
		t.Errorf("GET %+v, want %+v", got, u)
	}
	renamed := want[httpapi.UserView](t, a.call(t, "PATCH", "/admin/users/"+u.ID, acc.Key, map[string]string{"name": "Ann B"}), http.StatusOK)
	if renamed.Name != "Ann B" || renamed.Email != u.Email {
		t.Errorf("PATCH %+v", renamed)
	}
	want[any](t, a.call(t, "DELETE", "/admin/users/"+u.ID, acc.Key, nil), http.StatusNoContent)
	wantError(t, a.call(t, "GET", "/admin/users/"+u.ID, acc.Key, nil), http.StatusNotFound, "")
	wantError(t, a.call(t, "DELETE", "/admin/users/"+u.ID, acc.Key, nil), http.StatusNotFound, "")
}

func TestUserListingPagesThroughEveryUserOnce(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	const n = 7
	made := map[string]bool{}
	for i := range n {
		made[a.createUser(t, acc, fmt.Sprintf("u%d@example.com", i)).ID] = true
	}
	seen := map[string]bool{}
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > n {
			t.Fatal("the listing does not end")
		}
		path := "/admin/users?limit=3"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		page := want[httpapi.List[httpapi.UserView]](t, a.call(t, "GET", path, acc.Key, nil), http.StatusOK)
		if len(page.Items) > 3 {
			t.Fatalf("%d items with limit 3", len(page.Items))
		}
		for _, u := range page.Items {
			if seen[u.ID] {
				t.Fatalf("user %s listed twice", u.ID)
			}
			seen[u.ID] = true
		}
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
	}
	if len(seen) != n {
		t.Errorf("listed %d users, made %d", len(seen), n)
	}
	for id := range made {
		if !seen[id] {
			t.Errorf("user %s never listed", id)
		}
	}
}

func TestDeletingAUserDeletesItsTokens(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	u := a.createUser(t, acc, "gone@example.com")
	a.setAccess(t, acc, "tmy", u.ID, true)
	tok := a.issue(t, acc, "tmy", map[string]any{"userId": u.ID})
	kept := a.issue(t, acc, "tmy", nil)
	if got := a.dataStatus(t, "tmy", tok.Token); got != http.StatusOK {
		t.Fatalf("data call before deleting: %d", got)
	}

	want[any](t, a.call(t, "DELETE", "/admin/users/"+u.ID, acc.Key, nil), http.StatusNoContent)

	wantError(t, a.call(t, "GET", "/admin/tokens/"+tok.ID, acc.Key, nil), http.StatusNotFound, "")
	if got := a.dataStatus(t, "tmy", tok.Token); got != http.StatusUnauthorized {
		t.Errorf("data call with the deleted user's token: %d, want 401", got)
	}
	// The token items go in the background sweep, as on AWS.
	if err := a.stack.Sweep(t.Context()); err != nil {
		t.Fatalf("sweep: %v", err)
	}
	list := want[httpapi.List[httpapi.TokenView]](t, a.call(t, "GET", "/admin/services/tmy/tokens", acc.Key, nil), http.StatusOK)
	if len(list.Items) != 1 || list.Items[0].ID != kept.ID {
		t.Errorf("tokens after deleting the user: %+v", list.Items)
	}
}

package stack

import (
	"net/http"
	"testing"

	"github.com/acmedata/tokenservice/pkg/httpapi"
)

func TestAccountsNeverReachEachOthersUsersAndTokens(t *testing.T) {
	a := newAPI(t)
	owner := a.createAccount(t, "tmy")
	other := a.createAccount(t, "tmy")
	u := a.createUser(t, owner, "ann@example.com")
	a.setAccess(t, owner, "tmy", u.ID, true)
	tok := a.issue(t, owner, "tmy", map[string]any{"userId": u.ID})

	for _, tc := range []struct {
		name, method, path string
		body               any
	}{
		{"read user", "GET", "/admin/users/" + u.ID, nil},
		{"rename user", "PATCH", "/admin/users/" + u.ID, map[string]string{"name": "x"}},
		{"delete user", "DELETE", "/admin/users/" + u.ID, nil},
		{"grant access", "PUT", "/admin/services/tmy/users/" + u.ID, map[string]bool{"active": false}},
		{"issue for user", "POST", "/admin/services/tmy/tokens", map[string]string{"userId": u.ID}},
		{"read token", "GET", "/admin/tokens/" + tok.ID, nil},
		{"rename token", "PATCH", "/admin/tokens/" + tok.ID, map[string]string{"name": "x"}},
		{"disable token", "PATCH", "/admin/tokens/" + tok.ID, map[string]bool{"enabled": false}},
		{"clone token", "POST", "/admin/tokens/" + tok.ID + "/clone", nil},
		{"delete token", "DELETE", "/admin/tokens/" + tok.ID, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, a.call(t, tc.method, tc.path, other.Key, tc.body), http.StatusNotFound, "")
		})
	}

	// Nothing leaked into the other account's listings either.
	for _, path := range []string{"/admin/users", "/admin/services/tmy/tokens", "/admin/services/tmy/tokens?userId=" + u.ID} {
		if list := want[httpapi.List[map[string]any]](t, a.call(t, "GET", path, other.Key, nil), http.StatusOK); len(list.Items) != 0 {
			t.Errorf("%s for the other account: %v", path, list.Items)
		}
	}
	// And the owner's things are untouched.
	if got := a.getToken(t, owner, tok.ID); got.Name != tok.Name || got.Status != "active" {
		t.Errorf("owner's token after the attempts: %+v", got)
	}
	if got := a.dataStatus(t, "tmy", tok.Token); got != http.StatusOK {
		t.Errorf("owner's token after the attempts: data call %d", got)
	}
}

func TestCursorsCannotReadAnotherAccount(t *testing.T) {
	a := newAPI(t)
	owner := a.createAccount(t, "tmy")
	other := a.createAccount(t, "tmy")
	for _, email := range []string{"a@example.com", "b@example.com"} {
		a.createUser(t, owner, email)
	}
	page := want[httpapi.List[httpapi.UserView]](t, a.call(t, "GET", "/admin/users?limit=1", owner.Key, nil), http.StatusOK)
	if page.NextCursor == nil {
		t.Fatal("no cursor after the first of two users")
	}
	r := a.call(t, "GET", "/admin/users?limit=1&cursor="+*page.NextCursor, other.Key, nil)
	if r.Status == http.StatusOK {
		if list := want[httpapi.List[httpapi.UserView]](t, r, http.StatusOK); len(list.Items) != 0 {
			t.Errorf("the other account read %v through a cursor", list.Items)
		}
		return
	}
	wantError(t, r, http.StatusBadRequest, "")
}

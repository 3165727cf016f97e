package stack

import (
	"net/http"
	"testing"

	"github.com/acmedata/tokenservice/pkg/handlers/manage"
	"github.com/acmedata/tokenservice/pkg/httpapi"
)

func TestServicesCountUsersWithAccessAndTokens(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy", "timeseries")
	on := a.createUser(t, acc, "on@example.com")
	a.createUser(t, acc, "off@example.com")
	a.setAccess(t, acc, "tmy", on.ID, true)
	a.issue(t, acc, "tmy", map[string]any{"userId": on.ID})
	a.issue(t, acc, "tmy", nil)
	a.issue(t, acc, "tmy", map[string]any{"name": "second userless"})

	list := want[httpapi.List[manage.ServiceView]](t, a.call(t, "GET", "/admin/services", acc.Key, nil), http.StatusOK)
	if len(list.Items) != 2 {
		t.Fatalf("services %+v", list.Items)
	}
	got := want[manage.ServiceView](t, a.call(t, "GET", "/admin/services/tmy", acc.Key, nil), http.StatusOK)
	wantView := manage.ServiceView{ID: "tmy", Name: got.Name, UsersWithAccess: 1, UserTokens: 1, UserlessTokens: 2}
	if got != wantView || got.Name == "" {
		t.Errorf("tmy %+v, want %+v", got, wantView)
	}
	wantError(t, a.call(t, "GET", "/admin/services/nope", acc.Key, nil), http.StatusNotFound, "")
}

func TestAccessToggleGatesUserTokens(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	u := a.createUser(t, acc, "ann@example.com")

	// A new user's access starts off: no user token for them.
	wantError(t, a.call(t, "POST", "/admin/services/tmy/tokens", acc.Key, map[string]any{"userId": u.ID}), http.StatusConflict, "")
	users := want[httpapi.List[manage.AccessView]](t, a.call(t, "GET", "/admin/services/tmy/users", acc.Key, nil), http.StatusOK)
	if len(users.Items) != 1 || users.Items[0].Active {
		t.Fatalf("service users %+v", users.Items)
	}

	a.setAccess(t, acc, "tmy", u.ID, true)
	tok := a.issue(t, acc, "tmy", map[string]any{"userId": u.ID})
	if got := a.dataStatus(t, "tmy", tok.Token); got != http.StatusOK {
		t.Fatalf("data call with access on: %d", got)
	}
	a.setAccess(t, acc, "tmy", u.ID, false)
	if got := a.dataStatus(t, "tmy", tok.Token); got != http.StatusForbidden {
		t.Errorf("data call with access off: %d, want 403", got)
	}
	wantError(t, a.call(t, "PUT", "/admin/services/tmy/users/"+u.ID, acc.Key, map[string]any{}), http.StatusBadRequest, "")
	wantError(t, a.call(t, "PUT", "/admin/services/tmy/users/usr_nobody", acc.Key, map[string]bool{"active": true}), http.StatusNotFound, "")
}

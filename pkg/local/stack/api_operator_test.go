package stack

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/acmedata/tokenservice/pkg/handlers/operator"
	"github.com/acmedata/tokenservice/pkg/httpapi"
)

// namedAccount creates an account with the given name through the
// operator API.
func (a *api) namedAccount(t *testing.T, name string, services ...string) httpapi.AccountView {
	t.Helper()
	r := a.call(t, "POST", "/operator/accounts", a.operatorKey, map[string]any{"name": name, "services": services})
	return want[operator.CreatedAccount](t, r, http.StatusCreated).Account
}

// accountPages follows nextCursor from query to the last page and returns
// the IDs in order and the number of pages.
func (a *api) accountPages(t *testing.T, query url.Values) ([]string, int) {
	t.Helper()
	var ids []string
	pages := 0
	for {
		page := want[httpapi.List[httpapi.AccountView]](t, a.call(t, "GET", "/operator/accounts?"+query.Encode(), a.operatorKey, nil), http.StatusOK)
		pages++
		for _, acc := range page.Items {
			ids = append(ids, acc.ID)
		}
		if page.NextCursor == nil {
			return ids, pages
		}
		query.Set("cursor", *page.NextCursor)
	}
}

func ids(accs ...httpapi.AccountView) []string {
	out := make([]string, len(accs))
	for i, acc := range accs {
		out[i] = acc.ID
	}
	return out
}

// TestOperatorsFindAccountsByStatusServiceAndName protects GET
// /operator/accounts: every account newest first, narrowed by status, by
// a subscribed service and by a case-insensitive name prefix (then in
// name order), every page reached through nextCursor, and read by Query
// on the indexes, never a Scan.
func TestOperatorsFindAccountsByStatusServiceAndName(t *testing.T) {
	a := newAPI(t)
	acmeMaps := a.namedAccount(t, "Acme Maps", "tmy")
	other := a.namedAccount(t, "Other Corp", "timeseries")
	acmeLabs := a.namedAccount(t, "ACME labs", "tmy", "timeseries")
	zeta := a.namedAccount(t, "Zeta", "tmy")
	want[httpapi.AccountView](t, a.call(t, "PATCH", "/operator/accounts/"+acmeLabs.ID, a.operatorKey, map[string]any{"status": "closed"}), http.StatusOK)

	before := len(a.operationsSince(0))
	for _, tc := range []struct {
		name  string
		query url.Values
		want  []string
	}{
		{"all, newest first", url.Values{}, ids(zeta, acmeLabs, other, acmeMaps)},
		{"active", url.Values{"status": {"active"}}, ids(zeta, other, acmeMaps)},
		{"closed", url.Values{"status": {"closed"}}, ids(acmeLabs)},
		{"subscribed to timeseries", url.Values{"service": {"timeseries"}}, ids(acmeLabs, other)},
		{"name prefix in another case, in name order", url.Values{"name": {"aCmE"}}, ids(acmeLabs, acmeMaps)},
		{"a longer prefix", url.Values{"name": {"acme m"}}, ids(acmeMaps)},
		{"name and status", url.Values{"name": {"acme"}, "status": {"active"}}, ids(acmeMaps)},
		{"name and service", url.Values{"name": {"acme"}, "service": {"timeseries"}}, ids(acmeLabs)},
		{"no match", url.Values{"name": {"nobody"}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, limit := range []string{"1", "2", "100"} {
				q := url.Values{"limit": {limit}}
				for k, v := range tc.query {
					q[k] = v
				}
				got, _ := a.accountPages(t, q)
				if !slices.Equal(got, tc.want) {
					t.Errorf("limit %s: %v, want %v", limit, got, tc.want)
				}
			}
		})
	}
	if _, pages := a.accountPages(t, url.Values{"limit": {"1"}}); pages < 4 {
		t.Errorf("limit 1 over 4 accounts gave %d pages", pages)
	}
	ops := a.operationsSince(before)
	if slices.Contains(ops, "Scan") || !slices.Contains(ops, "Query") {
		t.Errorf("the listings called %v: want Query, never Scan", ops)
	}

	full := want[httpapi.List[httpapi.AccountView]](t, a.call(t, "GET", "/operator/accounts?limit=1", a.operatorKey, nil), http.StatusOK)
	if len(full.Items) != 1 || full.Items[0].ID != zeta.ID || full.Items[0].Name != "Zeta" || full.Items[0].APIKey.Hint == "" {
		t.Fatalf("first page %+v: the account representation, newest first", full.Items)
	}
	// A cursor belongs to its filters: reused with others it is refused,
	// never read as a position in another listing.
	wantError(t, a.call(t, "GET", "/operator/accounts?status=active&cursor="+url.QueryEscape(*full.NextCursor), a.operatorKey, nil), http.StatusBadRequest, "bad_cursor")
}

// TestAccountListingRefusesBadInput is the bad-input table of GET
// /operator/accounts: 400 with a code, never an empty page or a 5xx.
func TestAccountListingRefusesBadInput(t *testing.T) {
	a := newAPI(t)
	a.namedAccount(t, "Acme", "tmy")
	for _, tc := range []struct{ query, code string }{
		{"status=frozen", "invalid_status"},
		{"service=nope", "unknown_service"},
		{"service=46a4eccec1414feab118287f5af26f03", "unknown_service"},
		{"cursor=bm90IGEgY3Vyc29y", "bad_cursor"},
		{"cursor=%21%21", "bad_cursor"},
		{"limit=0", "invalid_limit"},
		{"limit=101", "invalid_limit"},
		{"limit=ten", "invalid_limit"},
		{"name=%01", "invalid_name"},
		{"name=%20%20", "invalid_name"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			r := a.call(t, "GET", "/operator/accounts?"+tc.query, a.operatorKey, nil)
			wantError(t, r, http.StatusBadRequest, tc.code)
			if strings.Contains(string(r.Body), "46a4eccec1414feab118287f5af26f03") {
				t.Fatalf("the answer repeats the input: %s", r.Body)
			}
		})
	}
}

// TestOperatorsProtectTokensOfAnyAccount protects PATCH
// /operator/tokens/{tokenId}: an operator protects a customer's token
// (found by ID alone), the admin's DELETE then answers 409
// token_protected, and lifting it lets the delete through.
func TestOperatorsProtectTokensOfAnyAccount(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	tok := a.issue(t, acc, "tmy", map[string]any{"name": "Production page"})

	protected := want[httpapi.TokenView](t, a.call(t, "PATCH", "/operator/tokens/"+tok.ID, a.operatorKey, map[string]any{"protected": true}), http.StatusOK)
	if !protected.Protected || protected.ID != tok.ID || protected.Name != "Production page" {
		t.Fatalf("operator PATCH answered %+v, want the token, protected", protected)
	}
	if !a.getToken(t, acc, tok.ID).Protected {
		t.Fatal("the admin does not see the protection")
	}
	wantError(t, a.call(t, "DELETE", "/admin/tokens/"+tok.ID, acc.Key, nil), http.StatusConflict, "token_protected")
	if got := a.dataStatus(t, "tmy", tok.Token); got != http.StatusOK {
		t.Fatalf("protecting stopped the token: %d", got)
	}

	lifted := want[httpapi.TokenView](t, a.call(t, "PATCH", "/operator/tokens/"+tok.ID, a.operatorKey, map[string]any{"protected": false}), http.StatusOK)
	if lifted.Protected {
		t.Fatal("protected: true after the operator lifted it")
	}
	want[any](t, a.call(t, "DELETE", "/admin/tokens/"+tok.ID, acc.Key, nil), http.StatusNoContent)
	wantError(t, a.call(t, "PATCH", "/operator/tokens/"+tok.ID, a.operatorKey, map[string]any{"protected": true}), http.StatusNotFound, "")
}

// TestOperatorProtectRefusesBadInput: only a boolean "protected", nothing
// else, and nothing written when refused.
func TestOperatorProtectRefusesBadInput(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	tok := a.issue(t, acc, "tmy", nil)
	for _, tc := range []struct {
		name, body, code string
	}{
		{"no field", `{}`, "missing_field"},
		{"a string", `{"protected":"yes"}`, ""},
		{"null", `{"protected":null}`, "missing_field"},
		{"another field", `{"protected":true,"name":"x"}`, "unknown_field"},
		{"an admin field", `{"protected":true,"enabled":false}`, "unknown_field"},
		{"not JSON", `protected`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, a.call(t, "PATCH", "/operator/tokens/"+tok.ID, a.operatorKey, tc.body), http.StatusBadRequest, tc.code)
		})
	}
	if got := a.getToken(t, acc, tok.ID); got.Protected || got.Status != "active" || got.Name != tok.Name {
		t.Fatalf("a refused change was written: %+v", got)
	}
	wantError(t, a.call(t, "PATCH", "/operator/tokens/tok_doesnotexist", a.operatorKey, `{"protected":true}`), http.StatusNotFound, "")
}

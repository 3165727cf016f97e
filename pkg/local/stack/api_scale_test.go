package stack

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/acmedata/tokenservice/pkg/httpapi"
	"github.com/acmedata/tokenservice/pkg/testkit/bulktokens"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// manyTokens stores n user tokens of service for userID of the account's
// first key, straight through the store (one write each: the HTTP route
// would only make the setup slower), and returns their secrets. Each write
// still carries its audit entry, so the load is attributed.
func (a *api) manyTokens(t *testing.T, acc account, service, userID string, n int) []string {
	t.Helper()
	proto := tokens.Token{AccountID: acc.ID, Name: "many", Service: service, UserID: userID, KeyGeneration: 1}
	_, secrets, err := bulktokens.Write(t.Context(), a.stack.core, "bulk-load", n, proto, nil)
	if err != nil {
		t.Fatalf("issue: %v", err)
	}
	return secrets
}

// sample is every token's index spread evenly over n, first and last
// included: the tokens a change must reach.
func sample(n, k int) []int {
	out := []int{}
	for i := range k {
		out = append(out, i*(n-1)/(k-1))
	}
	return slices.Compact(out)
}

// TestAccountWideChangesAnswerFastAndReachEveryTokenOfABigAccount protects
// "account-wide changes cost the same whatever the account holds": with
// 2,000 user tokens, switching the user's access off and on, rotating the
// key and closing the account each answer in well under a second (they
// took 4 to 16 s when every token held a copy of its gates), and reach the
// tokens on the next request.
func TestAccountWideChangesAnswerFastAndReachEveryTokenOfABigAccount(t *testing.T) {
	const n = 2000
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	u := a.createUser(t, acc, "many@example.com")
	a.setAccess(t, acc, "tmy", u.ID, true)
	secrets := a.manyTokens(t, acc, "tmy", u.ID, n)
	probe := sample(n, 25)
	expect := func(step string, status int) {
		t.Helper()
		for _, i := range probe {
			if got := a.dataStatus(t, "tmy", secrets[i]); got != status {
				t.Fatalf("%s: token %d of %d answers %d, want %d", step, i, n, got, status)
			}
		}
	}
	timed := func(step string, status int, call func() response) {
		t.Helper()
		start := time.Now()
		r := call()
		took := time.Since(start)
		if r.Status != status {
			t.Fatalf("%s: status %d, want %d; body %s", step, r.Status, status, r.Body)
		}
		if took > time.Second {
			t.Errorf("%s with %d tokens took %v, want well under a second", step, n, took)
		}
		t.Logf("%s with %d tokens: %v", step, n, took)
	}
	expect("before", http.StatusOK)

	timed("access off", http.StatusOK, func() response {
		return a.call(t, "PUT", "/admin/services/tmy/users/"+u.ID, acc.Key, map[string]bool{"active": false})
	})
	expect("access off", http.StatusForbidden)
	timed("access on", http.StatusOK, func() response {
		return a.call(t, "PUT", "/admin/services/tmy/users/"+u.ID, acc.Key, map[string]bool{"active": true})
	})
	expect("access on", http.StatusOK)

	var rotated httpapi.KeyView
	timed("key rotation", http.StatusCreated, func() response {
		r := a.call(t, "POST", "/admin/api-key/rotate", acc.Key, nil)
		rotated = want[httpapi.KeyView](t, r, http.StatusCreated)
		return r
	})
	expect("key rotation", http.StatusUnauthorized)

	timed("closing the account", http.StatusOK, func() response {
		return a.call(t, "PATCH", "/operator/accounts/"+acc.ID, a.operatorKey, map[string]string{"status": "closed"})
	})
	expect("closed", http.StatusUnauthorized)
	wantError(t, a.call(t, "GET", "/admin/account", rotated.APIKey, nil), http.StatusUnauthorized, "")
}

// TestCreatesRacingARotationNeverYieldATokenOfTheOldKey protects rule 7
// under concurrency: a token create that the old key authorised and a
// rotation overtook answers 401, or yields a token that reads as replaced.
func TestCreatesRacingARotationNeverYieldATokenOfTheOldKey(t *testing.T) {
	const creates = 60
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	results := make([]response, creates)
	var rotation response
	var wg sync.WaitGroup
	for i := range creates {
		wg.Go(func() {
			results[i], _ = a.send(context.Background(), "POST", "/admin/services/tmy/tokens", acc.Key, nil)
		})
		if i == creates/3 {
			wg.Go(func() { rotation, _ = a.send(context.Background(), "POST", "/admin/api-key/rotate", acc.Key, nil) })
		}
	}
	wg.Wait()
	key := want[httpapi.KeyView](t, rotation, http.StatusCreated)
	fresh := account{ID: acc.ID, Key: key.APIKey}
	made, refused := 0, 0
	for i, r := range results {
		switch r.Status {
		case http.StatusCreated:
			made++
			tok := want[httpapi.NewTokenView](t, r, http.StatusCreated)
			if got := a.dataStatus(t, "tmy", tok.Token); got != http.StatusUnauthorized {
				t.Errorf("create %d, authorised by the replaced key, made a token that answers %d, want 401", i, got)
			}
			if v := a.getToken(t, fresh, tok.ID); v.Status != "disabled" || v.DisabledReason == nil || *v.DisabledReason != "api_key_replaced" {
				t.Errorf("create %d: token shows %s/%v, want disabled by api_key_replaced", i, v.Status, v.DisabledReason)
			}
		case http.StatusUnauthorized:
			refused++
		default:
			t.Errorf("create %d: status %d, want 201 or 401; body %s", i, r.Status, r.Body)
		}
	}
	t.Logf("%d creates: %d made under the old key (all replaced), %d refused", creates, made, refused)
}

// TestConcurrentRotationsWithOneKeyHaveExactlyOneWinner protects "one key
// can be rotated only once": of N rotations with the same key, one answers
// 201 with a working key, the others 401.
func TestConcurrentRotationsWithOneKeyHaveExactlyOneWinner(t *testing.T) {
	const rotations = 10
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	results := make([]response, rotations)
	var wg sync.WaitGroup
	for i := range rotations {
		wg.Go(func() { results[i], _ = a.send(context.Background(), "POST", "/admin/api-key/rotate", acc.Key, nil) })
	}
	wg.Wait()
	var winners []string
	for i, r := range results {
		switch r.Status {
		case http.StatusCreated:
			winners = append(winners, want[httpapi.KeyView](t, r, http.StatusCreated).APIKey)
		case http.StatusUnauthorized:
		default:
			t.Errorf("rotation %d: status %d, want 201 or 401; body %s", i, r.Status, r.Body)
		}
	}
	if len(winners) != 1 {
		t.Fatalf("%d of %d rotations with one key succeeded, want exactly 1", len(winners), rotations)
	}
	want[httpapi.AccountView](t, a.call(t, "GET", "/admin/account", winners[0], nil), http.StatusOK)
	wantError(t, a.call(t, "GET", "/admin/account", acc.Key, nil), http.StatusUnauthorized, "")
}

// TestRevocationReachesTheNextRequestsWithinTheDelay runs the default
// revocation delay (1 s): once a token is disabled, every request from one
// delay on is refused, and the disable's own answer never waits for it.
// With REVOCATION_DELAY=0 every other API test in this package shows the
// next request refused.
func TestRevocationReachesTheNextRequestsWithinTheDelay(t *testing.T) {
	a := newAPIWithDelay(t, "")
	acc := a.createAccount(t, "tmy")
	tok := a.issue(t, acc, "tmy", nil)
	if got := a.dataStatus(t, "tmy", tok.Token); got != http.StatusOK {
		t.Fatalf("before: %d", got)
	}
	want[httpapi.TokenView](t, a.call(t, "PATCH", "/admin/tokens/"+tok.ID, acc.Key, map[string]bool{"enabled": false}), http.StatusOK)
	disabled := time.Now()
	// Within the delay the authorizer may still answer from memory; from
	// one delay after the change, no request may pass.
	time.Sleep(tokens.DefaultRevocationDelay - time.Since(disabled))
	for range 5 {
		if got := a.dataStatus(t, "tmy", tok.Token); got != http.StatusUnauthorized {
			t.Fatalf("%v after disabling: %d, want 401", time.Since(disabled), got)
		}
	}
}

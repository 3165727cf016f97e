package stack

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"sync"
	"testing"

	"github.com/acmedata/tokenservice/pkg/httpapi"
)

// TestConcurrentChangesToOneTokenEndConsistent fires renames, clones,
// disables and deletes at one token at once: none may fail with a 5xx, and
// afterwards the listing and single reads agree.
func TestConcurrentChangesToOneTokenEndConsistent(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	tok := a.issue(t, acc, "tmy", map[string]any{"name": "contended"})

	const n = 20
	results := make([]response, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			ctx := t.Context()
			switch i % 4 {
			case 0:
				results[i], errs[i] = a.send(ctx, "PATCH", "/admin/tokens/"+tok.ID, acc.Key, map[string]string{"name": fmt.Sprintf("name %d", i)})
			case 1:
				results[i], errs[i] = a.send(ctx, "POST", "/admin/tokens/"+tok.ID+"/clone", acc.Key, map[string]string{"name": fmt.Sprintf("clone %d", i)})
			case 2:
				results[i], errs[i] = a.send(ctx, "PATCH", "/admin/tokens/"+tok.ID, acc.Key, map[string]bool{"enabled": i%8 == 2})
			case 3:
				results[i], errs[i] = a.send(ctx, "DELETE", "/admin/tokens/"+tok.ID, acc.Key, nil)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}

	deletes, clones, committed := 0, 0, 0
	for i, r := range results {
		if r.Status < 300 {
			committed++
		}
		switch {
		case r.Status >= 500:
			t.Errorf("call %d: %d %s", i, r.Status, r.Body)
		case r.Status == http.StatusNoContent:
			deletes++
		case r.Status == http.StatusCreated:
			clones++
		case r.Status >= 400:
			// Losing to a delete (404) or to too many writers (409) is fine;
			// the body must still be the JSON error.
			wantError(t, r, r.Status, "")
		}
	}
	if deletes != 1 {
		t.Errorf("%d deletes succeeded, want exactly 1", deletes)
	}
	wantError(t, a.call(t, "GET", "/admin/tokens/"+tok.ID, acc.Key, nil), http.StatusNotFound, "")

	// Exactly one audit entry per committed change: the account's creation,
	// the issue, then one per 2xx of the storm; losers left none.
	log := want[httpapi.List[httpapi.AuditEntryView]](t, a.call(t, "GET", "/admin/audit?limit=100", acc.Key, nil), http.StatusOK)
	if got, wantN := len(log.Items), 2+committed; got != wantN {
		t.Errorf("%d audit entries, want %d (2 before the storm + %d committed changes)", got, wantN, committed)
	}

	list := want[httpapi.List[httpapi.TokenView]](t, a.call(t, "GET", "/admin/services/tmy/tokens?limit=100", acc.Key, nil), http.StatusOK)
	if len(list.Items) != clones {
		t.Errorf("%d tokens listed, %d clones made", len(list.Items), clones)
	}
	for _, listed := range list.Items {
		if listed.ID == tok.ID {
			t.Error("the deleted token is still listed")
		}
		if got := a.getToken(t, acc, listed.ID); !reflect.DeepEqual(got, listed) {
			t.Errorf("GET %+v disagrees with the listing %+v", got, listed)
		}
	}
}

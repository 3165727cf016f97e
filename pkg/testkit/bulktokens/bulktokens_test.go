package bulktokens

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/acmedata/tokenservice/pkg/audit"
	"github.com/acmedata/tokenservice/pkg/secret"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// recorder keeps what a bulk load writes, and fails from a given write on.
type recorder struct {
	mu      sync.Mutex
	writes  map[string]tokens.Token // by ID
	entries map[string]audit.Entry  // by token ID
	failAt  int                     // fail the write after this many; 0 never
	fail    error
}

func (r *recorder) CreateToken(_ context.Context, w tokens.TokenWrite, e audit.Entry) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failAt > 0 && len(r.writes) >= r.failAt {
		return r.fail
	}
	r.writes[w.Token.ID], r.entries[w.Token.ID] = w.Token, e
	return nil
}

func newRecorder() *recorder {
	return &recorder{writes: map[string]tokens.Token{}, entries: map[string]audit.Entry{}}
}

// TestWriteStoresEachTokenOnceWithItsOwnSecretAndAnAttributedEntry protects
// what the load programs count on: n distinct tokens like the prototype,
// each secret matching its token's hash at the same index, the shape
// applied by index, and every write attributed to the operator.
func TestWriteStoresEachTokenOnceWithItsOwnSecretAndAnAttributedEntry(t *testing.T) {
	const n = 37
	r := newRecorder()
	proto := tokens.Token{AccountID: "acc", Service: "tmy", Name: "bulk", KeyGeneration: 3}
	ids, secrets, err := Write(t.Context(), r, "loader", n, proto, func(i int, tok *tokens.Token) {
		if i%2 == 1 {
			tok.Enabled, tok.DisabledReason = false, tokens.DisabledByAdmin
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != n || len(secrets) != n || len(r.writes) != n {
		t.Fatalf("%d IDs, %d secrets, %d writes; want %d of each", len(ids), len(secrets), len(r.writes), n)
	}
	for i, tokID := range ids {
		tok, ok := r.writes[tokID]
		if !ok {
			t.Fatalf("token %d (%s) not written", i, tokID)
		}
		if tok.SecretHash != secret.Hash(secrets[i]) {
			t.Errorf("token %d: secret at its index does not match its hash", i)
		}
		if tok.AccountID != "acc" || tok.Service != "tmy" || tok.Name != "bulk" || tok.KeyGeneration != 3 {
			t.Errorf("token %d: %+v, want the prototype's account, service, name and key generation", i, tok)
		}
		if wantEnabled := i%2 == 0; tok.Enabled != wantEnabled {
			t.Errorf("token %d: enabled %v, want %v", i, tok.Enabled, wantEnabled)
		}
		e := r.entries[tokID]
		if e.Actor != audit.Operator("loader") || e.Action != audit.TokenCreate || e.TargetID != tokID || e.AccountID != "acc" {
			t.Errorf("token %d: entry %+v, want a token.create of it by the operator", i, e)
		}
	}
}

// TestWriteReportsAFailedWrite protects a load from passing for complete
// when the store refused part of it.
func TestWriteReportsAFailedWrite(t *testing.T) {
	r := newRecorder()
	r.failAt, r.fail = 5, errors.New("throttled")
	if _, _, err := Write(t.Context(), r, "loader", 40, tokens.Token{AccountID: "acc", Service: "tmy"}, nil); !errors.Is(err, r.fail) {
		t.Fatalf("error %v, want the store's", err)
	}
}

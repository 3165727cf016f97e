// Package bulktokens fills accounts with many tokens quickly, for load
// programs and scale tests: straight through the store, one CreateToken
// each, from several writers at once, as a bulk load past the API would
// (through HTTP, ten thousand tokens take minutes).
package bulktokens

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/acmedata/tokenservice/pkg/audit"
	"github.com/acmedata/tokenservice/pkg/id"
	"github.com/acmedata/tokenservice/pkg/secret"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// writers is how many CreateToken calls are in flight at once.
const writers = 8

// Creator is the store's token write; *dynamostore.Store has it.
type Creator interface {
	CreateToken(ctx context.Context, w tokens.TokenWrite, e audit.Entry) error
}

// Write stores n tokens like proto through store and returns their IDs and
// secrets, in order. Each token gets an ID and a secret of its own, is
// enabled, has no settings and was created now (to the millisecond, the
// same for all); shape, if not nil, then changes token i (counting from
// 0). Each write's audit entry is a token.create by the operator actor,
// with the token's fields. Write stops at the first error.
func Write(ctx context.Context, store Creator, actor string, n int, proto tokens.Token, shape func(i int, t *tokens.Token)) (ids, secrets []string, err error) {
	ids, secrets = make([]string, n), make([]string, n)
	errs := make([]error, writers)
	now := time.Now().UTC().Truncate(time.Millisecond)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := w; i < n && errs[w] == nil; i += writers {
				secrets[i] = secret.NewToken()
				tok := proto
				tok.ID, tok.SecretHash, tok.Hint = id.New(id.Token), secret.Hash(secrets[i]), secret.Hint(secrets[i])
				tok.Enabled, tok.CreatedAt, tok.Settings = true, now, tokens.Settings{}
				if shape != nil {
					shape(i, &tok)
				}
				ids[i] = tok.ID
				e := audit.Entry{
					AccountID: tok.AccountID, ID: audit.NewID(), Time: now, Actor: audit.Operator(actor),
					Action: audit.TokenCreate, TargetType: audit.TargetToken, TargetID: tok.ID,
				}
				errs[w] = store.CreateToken(ctx, tokens.TokenWrite{Token: tok}, e.Diff(nil, tok.AuditFields()))
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	return ids, secrets, nil
}

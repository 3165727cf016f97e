package newtoken_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/acmedata/tokenservice/pkg/audit"
	"github.com/acmedata/tokenservice/pkg/handlers/newtoken"
	"github.com/acmedata/tokenservice/pkg/httpapi"
	"github.com/acmedata/tokenservice/pkg/secret"
	"github.com/acmedata/tokenservice/pkg/testkit/handlertest"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

func TestCloneAnswersANewSecretAndRefusesBadGracePeriods(t *testing.T) {
	env := handlertest.New(t)
	h, err := newtoken.NewClone(env.Mgr, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := audit.WithOperator(context.Background(), "test")
	src, srcSecret, err := env.Mgr.IssueToken(ctx, env.Account.ID, "tmy", tokens.IssueRequest{})
	if err != nil {
		t.Fatal(err)
	}
	other := handlertest.New(t) // a second, unrelated deployment's account
	for _, tc := range []struct {
		name, tokenID, accountID, body string
		status                         int
		code                           string
	}{
		{"plain clone", src.ID, env.Account.ID, ``, http.StatusCreated, ""},
		{"with name and grace", src.ID, env.Account.ID, `{"name":"rotated","revokeSourceAfterSeconds":3600}`, http.StatusCreated, ""},
		{"negative grace", src.ID, env.Account.ID, `{"revokeSourceAfterSeconds":-1}`, http.StatusBadRequest, "invalid_revoke_source_after_seconds"},
		{"fractional grace", src.ID, env.Account.ID, `{"revokeSourceAfterSeconds":1.5}`, http.StatusBadRequest, "invalid_field"},
		{"huge grace", src.ID, env.Account.ID, `{"revokeSourceAfterSeconds":99999999999999}`, http.StatusBadRequest, "invalid_revoke_source_after_seconds"},
		{"string grace", src.ID, env.Account.ID, `{"revokeSourceAfterSeconds":"60"}`, http.StatusBadRequest, "invalid_field"},
		{"unknown token", "tok_01jd0000000000000000000000", env.Account.ID, ``, http.StatusNotFound, "token_not_found"},
		{"another account's token", src.ID, other.Account.ID, ``, http.StatusNotFound, "token_not_found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vars := env.Vars(map[string]string{"tokenId": tc.tokenID, "body": tc.body, "accountId": tc.accountID})
			resp := handlertest.Call(t, h.Serve, "clone/clone-token.json", vars)
			if resp.StatusCode != tc.status || handlertest.ErrorCode(t, resp) != tc.code {
				t.Fatalf("status %d body %s; want %d %s", resp.StatusCode, resp.Body, tc.status, tc.code)
			}
			if tc.status != http.StatusCreated {
				return
			}
			got := handlertest.Decode[httpapi.NewTokenView](t, resp)
			if !secret.IsToken(got.Token) || got.Token == srcSecret || got.ID == src.ID || got.Service != src.Service {
				t.Fatalf("clone %+v", got)
			}
		})
	}
}

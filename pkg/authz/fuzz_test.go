package authz

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/acmedata/tokenservice/pkg/apigw"
	"github.com/acmedata/tokenservice/pkg/secret"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// FuzzExtract feeds arbitrary values to every placement. Whatever they are,
// extraction must not panic, and it may accept only a well-formed token that
// every placement agrees on.
func FuzzExtract(f *testing.F) {
	f.Add(fixtureToken, "", "", "Authorization", "")
	f.Add("", fixtureToken, fixtureToken, "authorization", "Bearer "+fixtureToken)
	f.Add(fixtureToken, otherFixtureToken, "", "AUTHORIZATION", "bearer "+fixtureToken)
	f.Add("", "", "", "X-Authorization", "Basic Zm9vOmJhcg==")
	f.Add(strings.ToUpper(fixtureToken), "", fixtureToken, "Authorization", "Bearer  "+fixtureToken+" ")
	f.Fuzz(func(t *testing.T, query, multi, path, headerName, headerValue string) {
		req := events.APIGatewayCustomAuthorizerRequestTypeRequest{
			QueryStringParameters:           map[string]string{},
			MultiValueQueryStringParameters: map[string][]string{},
			PathParameters:                  map[string]string{},
			Headers:                         map[string]string{headerName: headerValue},
			MultiValueHeaders:               map[string][]string{headerName: {headerValue, headerValue}},
		}
		var presented []string
		if query != "" {
			req.QueryStringParameters[TokenParam] = query
			presented = append(presented, query)
		}
		if multi != "" {
			req.MultiValueQueryStringParameters[TokenParam] = []string{query, multi}
			presented = append(presented, query, multi)
		}
		if path != "" {
			req.PathParameters[TokenParam] = path
			presented = append(presented, path)
		}
		tok, outcome := extractToken(&req)
		switch outcome {
		case tokens.Valid:
			if !secret.IsTokenShaped(tok) {
				t.Fatalf("accepted %q, not shaped as a token", tok)
			}
			for _, p := range presented {
				if p != tok {
					t.Fatalf("accepted %q although %q was presented too", tok, p)
				}
			}
			if len(presented) == 0 && !strings.Contains(headerValue, tok) {
				t.Fatalf("accepted %q out of nowhere", tok)
			}
		case tokens.Missing, tokens.Malformed, tokens.Ambiguous:
			if tok != "" {
				t.Fatalf("refused with %s but returned a token", outcome)
			}
		default:
			t.Fatalf("extraction answered %s", outcome)
		}
	})
}

// FuzzAuthorize feeds arbitrary events, seeded with every fixture, to the
// whole handler over a store that holds one token. It must never panic and
// never allow unless the request presents exactly that token for its
// service; no log line may hold the token.
func FuzzAuthorize(f *testing.F) {
	fixtures, err := filepath.Glob(filepath.Join("..", "..", "events", "authorizer", "*.json"))
	if err != nil || len(fixtures) == 0 {
		f.Fatalf("no fixtures: %v", err)
	}
	for _, name := range fixtures {
		raw, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var req events.APIGatewayCustomAuthorizerRequestTypeRequest
		if json.Unmarshal(raw, &req) != nil {
			t.Skip()
		}
		store := newFakeStore()
		cred := validCredential("tmy")
		store.put(fixtureToken, cred)
		var logs bytes.Buffer
		a := newTestAuthorizer(t, store, Options{RouteServices: deployerRoutes, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})

		resp, err := a.Authorize(context.Background(), req)

		if strings.Contains(strings.ToLower(logs.String()), fixtureToken) {
			t.Fatalf("a log line holds the token: %s", logs.String())
		}
		if err != nil {
			if len(resp.PolicyDocument.Statement) != 0 || (err.Error() == "Unauthorized") != errors.Is(err, apigw.ErrUnauthorized) {
				t.Fatalf("an error came with a policy: %+v", resp)
			}
			return
		}
		if len(resp.PolicyDocument.Statement) != 1 {
			t.Fatalf("no error and no single statement: %+v", resp)
		}
		if resp.PolicyDocument.Statement[0].Effect != "Allow" {
			return
		}
		tok, outcome := extractToken(&req)
		if outcome != tokens.Valid || tok != fixtureToken {
			t.Fatalf("allowed a request presenting %s", outcome)
		}
		if a.service(&req) != "tmy" || resp.PrincipalID != cred.Token.ID {
			t.Fatalf("allowed service %q as %q", a.service(&req), resp.PrincipalID)
		}
		for _, r := range resp.PolicyDocument.Statement[0].Resource {
			if strings.Contains(r, "/admin") {
				t.Fatalf("an Allow reaches an admin route: %s", r)
			}
		}
	})
}

package handlertest

import (
	"context"
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/acmedata/tokenservice/pkg/audit"
	"github.com/acmedata/tokenservice/pkg/authctx"
	"github.com/acmedata/tokenservice/pkg/routes"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// Fixture is what a fuzz iteration serves: a handler, the values its
// placeholders stand for ({accountId}, {userId}, {tokenId}, ...) and the
// secrets no answer may hold.
type Fixture struct {
	Serve   Serve
	Vars    map[string]string
	Secrets []string
}

var pathParam = regexp.MustCompile(`\{([A-Za-z]+)\+?\}`)

// FuzzRoutes fuzzes every route of fn as API Gateway would deliver it:
// the route (by index), its path parameters ("|"-separated, in template
// order; a missing one gets a valid value; {name} placeholders are
// replaced from Fixture.Vars), its raw query string and its body (where
// {token} and {apiKey} are replaced by the fixture's secrets). setup
// builds a fresh Fixture for each input, so one input cannot change what
// the next sees. Whatever the input, the handler answers without an error
// (API Gateway would make it a bare 502), below 500, with the JSON error
// body on a refusal and no secret in any answer.
func FuzzRoutes(f *testing.F, fn routes.Function, setup func(testing.TB) Fixture) {
	rs := routes.Of(fn)
	if len(rs) == 0 {
		f.Fatalf("no routes for %s", fn)
	}
	for i, rt := range rs {
		var names []string
		for _, m := range pathParam.FindAllStringSubmatch(rt.Path, -1) {
			names = append(names, "{"+m[1]+"}")
		}
		ids := strings.Join(names, "|")
		f.Add(uint8(i), ids, "", "")
		f.Add(uint8(i), ids, "limit=1&cursor=x&status=active&type=user&from=2025-01-01T00:00:00Z", `{"name":"a","email":"a@example.com","active":true,"settings":{"a":1}}`)
		f.Add(uint8(i), "x|y", "limit=0&limit=1", `{"name":"a","name":"b"}`)
		// No body, a blank one, null; a query parameter no route reads.
		f.Add(uint8(i), ids, "zz=1", "null")
		f.Add(uint8(i), ids, "Limit=1", " \r\n ")
		// Secrets typed into every free-text field ({token} and {apiKey}
		// are the fixture's own): refused, never echoed.
		f.Add(uint8(i), ids, "name={token}", `{"name":"{token}","email":"{token}@example.com"}`)
		f.Add(uint8(i), ids, "name=x{apiKey}", `{"name":"x {apiKey}","email":"a@{token}.example.com","settings":{"k{token}":"{apiKey}"}}`)
		f.Add(uint8(i), ids, "", `{"restrictions":{"origins":["https://{token}.example.com"]},"settings":{"note":"{token}"},"tokens":["{token}"],"source":"{token}","url":"https://example.com/{apiKey}"}`)
		// Plans: bounds, a quota of every shape, a plan ID of every kind,
		// and plan fields where admins may not set them.
		f.Add(uint8(i), ids, "", `{"name":"P","rate":0.1,"burst":5000,"quota":{"limit":2147483647,"period":"month"}}`)
		f.Add(uint8(i), ids, "", `{"name":"P","rate":1e400,"burst":1.5,"quota":{"limit":0,"period":"year","x":1}}`)
		f.Add(uint8(i), ids, "", `{"rate":-0,"quota":null,"planId":"{planId}","plan":{"id":"{planId}"}}`)
		f.Add(uint8(i), ids, "", `{"planId":null}`)
		f.Add(uint8(i), ids, "", `{"planId":"{token}","quota":"{apiKey}"}`)
	}
	f.Fuzz(func(t *testing.T, route uint8, params, query, body string) {
		fx := setup(t)
		rt := rs[int(route)%len(rs)]
		req := request(rt, fx.Vars, params, query, body)
		resp, err := fx.Serve(context.Background(), req)
		if err != nil {
			t.Fatalf("%s %s: handler returned error %v", rt.Method, rt.Path, err)
		}
		if resp.StatusCode >= 500 {
			t.Fatalf("%s %s %q %q %q: %d %s", rt.Method, rt.Path, params, query, body, resp.StatusCode, resp.Body)
		}
		if resp.StatusCode >= 400 {
			var e struct {
				Error *struct{ Code, Message string } `json:"error"`
			}
			if json.Unmarshal([]byte(resp.Body), &e) != nil || e.Error == nil || e.Error.Code == "" || e.Error.Message == "" {
				t.Fatalf("%s %s: %d without the JSON error body: %s", rt.Method, rt.Path, resp.StatusCode, resp.Body)
			}
		}
		for _, s := range fx.Secrets {
			if strings.Contains(resp.Body, s) {
				t.Fatalf("%s %s: the answer holds a secret: %s", rt.Method, rt.Path, resp.Body)
			}
		}
	})
}

// request builds the proxy event of one fuzz input.
func request(rt routes.Route, vars map[string]string, params, query, body string) events.APIGatewayProxyRequest {
	given := strings.Split(params, "|")
	pathParams := map[string]string{}
	i := 0
	path := pathParam.ReplaceAllStringFunc(rt.Path, func(m string) string {
		name := pathParam.FindStringSubmatch(m)[1]
		v := "{" + name + "}"
		if i < len(given) && given[i] != "" {
			v = given[i]
		}
		i++
		for k, val := range vars {
			v = strings.ReplaceAll(v, "{"+k+"}", val)
		}
		pathParams[name] = v
		return url.PathEscape(v)
	})
	for _, k := range []string{"token", "apiKey"} {
		if v, ok := vars[k]; ok {
			query = strings.ReplaceAll(query, "{"+k+"}", v)
			body = strings.ReplaceAll(body, "{"+k+"}", v)
		}
	}
	q, _ := url.ParseQuery(query) // what it can parse, as API Gateway would refuse the rest
	single, multi := map[string]string{}, map[string][]string{}
	for k, vs := range q {
		single[k], multi[k] = vs[len(vs)-1], vs
	}
	return events.APIGatewayProxyRequest{
		HTTPMethod: rt.Method, Resource: rt.Path, Path: path, PathParameters: pathParams,
		QueryStringParameters: single, MultiValueQueryStringParameters: multi, Body: body,
		RequestContext: events.APIGatewayProxyRequestContext{
			RequestID:  "fuzz",
			Authorizer: map[string]any{authctx.AccountID: vars["accountId"], authctx.APIKeyID: vars["keyId"], "principalId": vars["accountId"]},
			Identity:   events.APIGatewayRequestIdentity{UserArn: "arn:aws:iam::000000000000:user/fuzz"},
		},
	}
}

// Fixture returns the Fixture of serve over e: a user with access to tmy
// and a userless token of tmy are made, so that placeholders {userId} and
// {tokenId} name things that exist; the account's key and the token are
// the secrets.
func (e *Env) Fixture(t testing.TB, serve Serve) Fixture {
	t.Helper()
	ctx := audit.WithOperator(context.Background(), "test")
	u, err := e.Mgr.CreateUser(ctx, e.Account.ID, "fuzz@example.com", "Fuzz")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Mgr.SetAccess(ctx, e.Account.ID, "tmy", u.ID, true); err != nil {
		t.Fatal(err)
	}
	tok, secret, err := e.Mgr.IssueToken(ctx, e.Account.ID, "tmy", tokens.IssueRequest{})
	if err != nil {
		t.Fatal(err)
	}
	plan, err := e.Mgr.CreatePlan(ctx, tokens.PlanInput{Name: "Fuzz", Rate: 1, Burst: 1})
	if err != nil {
		t.Fatal(err)
	}
	return Fixture{
		Serve:   serve,
		Vars:    e.Vars(map[string]string{"userId": u.ID, "tokenId": tok.ID, "service": "tmy", "token": secret, "planId": plan.ID}),
		Secrets: []string{e.Key, secret},
	}
}

package gatewayresp

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"regexp"
	"strconv"
	"testing"

	"github.com/acmedata/tokenservice/pkg/authctx"
	"github.com/acmedata/tokenservice/pkg/httpapi"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

func TestEveryResponseAnswersTheProductErrorBody(t *testing.T) {
	snake := regexp.MustCompile(`^[a-z]+(_[a-z]+)*$`)
	for _, r := range All {
		var body map[string]map[string]string
		if err := json.Unmarshal(r.Body(), &body); err != nil || len(body) != 1 || len(body["error"]) != 2 ||
			body["error"]["code"] != r.Code || body["error"]["message"] != r.Message {
			t.Errorf("%s: body %s is not {\"error\":{\"code\":%q,\"message\":%q}}", r.Type, r.Body(), r.Code, r.Message)
		}
		if !snake.MatchString(r.Code) || r.Message == "" {
			t.Errorf("%s: code %q is not snake_case or the message is empty", r.Type, r.Code)
		}
	}
}

func TestOnlyTheCatchAllsKeepAPIGatewaysStatus(t *testing.T) {
	for _, r := range All {
		switch {
		case r.Type == Default4XX || r.Type == Default5XX:
			if r.Status != 0 {
				t.Errorf("%s: status %d; a catch-all must keep API Gateway's", r.Type, r.Status)
			}
		case r.Status < 400 || r.Status > 599:
			t.Errorf("%s: status %d is not an error status", r.Type, r.Status)
		}
	}
}

// TestAllHasEveryTypeOnce reads the Type constants from the source, so a
// type declared but left out of All (or listed twice) fails here.
func TestAllHasEveryTypeOnce(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "gatewayresp.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	declared := map[Type]bool{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			v := s.(*ast.ValueSpec)
			if typ, ok := v.Type.(*ast.Ident); !ok || typ.Name != "Type" {
				continue
			}
			name, err := strconv.Unquote(v.Values[0].(*ast.BasicLit).Value)
			if err != nil {
				t.Fatal(err)
			}
			declared[Type(name)] = true
		}
	}
	seen := map[Type]bool{}
	for _, r := range All {
		if seen[r.Type] {
			t.Errorf("%s is in All twice", r.Type)
		}
		seen[r.Type] = true
		if !declared[r.Type] {
			t.Errorf("%s is in All but not a declared Type", r.Type)
		}
	}
	for typ := range declared {
		if !seen[typ] {
			t.Errorf("%s is declared but not in All", typ)
		}
		if _, ok := Lookup(typ); !ok {
			t.Errorf("Lookup(%s) finds nothing", typ)
		}
	}
	if len(declared) != 21 {
		t.Errorf("%d types declared; a REST API has 21", len(declared))
	}
}

// TestAccessDeniedTellsTheAuthorizersReason: the 403 of an authorizer's
// Deny carries the code and message the authorizer put in its context,
// for every 403 outcome of the token domain, as one valid error body.
func TestAccessDeniedTellsTheAuthorizersReason(t *testing.T) {
	r, _ := Lookup(AccessDenied)
	for _, o := range []tokens.Outcome{tokens.WrongService, tokens.ServiceNotSubscribed, tokens.AccessOff, tokens.OriginNotAllowed, tokens.IPNotAllowed} {
		got := r.Render(map[string]string{authctx.ErrorCode: o.Code(), authctx.ErrorMessage: o.Message(), authctx.TokenID: "tok_x"})
		if want := httpapi.ErrorBody(o.Code(), o.Message()); string(got) != string(want) {
			t.Errorf("%s: body %s, want %s", o, got, want)
		}
	}
}

// TestAccessDeniedWithoutAReasonIsForbidden: a Deny whose context has no
// usable code and message (none at all, or a value that would break the
// JSON if substituted as it is) answers the static forbidden body.
func TestAccessDeniedWithoutAReasonIsForbidden(t *testing.T) {
	r, _ := Lookup(AccessDenied)
	for name, ctx := range map[string]map[string]string{
		"no context":            nil,
		"no error keys":         {authctx.TokenID: "tok_x", authctx.Outcome: "origin_not_allowed"},
		"a code only":           {authctx.ErrorCode: "origin_not_allowed"},
		"a code with a quote":   {authctx.ErrorCode: `x","y":"`, authctx.ErrorMessage: "m"},
		"a message with quotes": {authctx.ErrorCode: "x", authctx.ErrorMessage: `"}}`},
	} {
		if got := r.Render(ctx); string(got) != `{"error":{"code":"forbidden","message":"`+forbidden+`"}}` {
			t.Errorf("%s: body %s, want the static forbidden body", name, got)
		}
	}
}

// TestOnlyAccessDeniedReadsTheAuthorizer: every other response is static
// whatever the context holds, and its template is its body; the 403's
// template names exactly the two context keys the authorizers set.
func TestOnlyAccessDeniedReadsTheAuthorizer(t *testing.T) {
	ctx := map[string]string{authctx.ErrorCode: "origin_not_allowed", authctx.ErrorMessage: "Not from here."}
	for _, r := range All {
		if r.Type == AccessDenied {
			want := `{"error":{"code":"$context.authorizer.errorCode","message":"$context.authorizer.errorMessage"}}`
			if r.Template() != want || !r.FromAuthorizer() {
				t.Errorf("ACCESS_DENIED template %s, want %s", r.Template(), want)
			}
			continue
		}
		if r.FromAuthorizer() || r.Template() != string(r.Body()) || string(r.Render(ctx)) != string(r.Body()) {
			t.Errorf("%s reads the authorizer context: template %s", r.Type, r.Template())
		}
	}
}

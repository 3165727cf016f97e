package gatewayresp

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"regexp"
	"strconv"
	"testing"
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

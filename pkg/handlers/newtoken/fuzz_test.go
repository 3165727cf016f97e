package newtoken_test

import (
	"testing"

	"github.com/acmedata/tokenservice/pkg/handlers/newtoken"
	"github.com/acmedata/tokenservice/pkg/routes"
	"github.com/acmedata/tokenservice/pkg/testkit/handlertest"
)

// FuzzIssueRoutes: no path parameter, query string or body makes a
// issue route answer a 5xx, an error or a secret.
//
//fuzz:budget 30000x
func FuzzIssueRoutes(f *testing.F) {
	f.Add(uint8(0), "", "", `{"restrictions":{"origins":["https://[fe80::1%25eth0]"]}}`)
	f.Add(uint8(0), "", "", `{"restrictions":{"origins":["https://[::1%x]:8443","https://a.example:99999"]}}`)
	f.Add(uint8(0), "", "x=1", "null")
	handlertest.FuzzRoutes(f, routes.Issue, func(t testing.TB) handlertest.Fixture {
		env := handlertest.New(t)
		h, err := newtoken.NewIssue(env.Mgr, nil)
		if err != nil {
			t.Fatal(err)
		}
		return env.Fixture(t, h.Serve)
	})
}

// FuzzCloneRoutes: no path parameter, query string or body makes a
// clone route answer a 5xx, an error or a secret.
//
//fuzz:budget 30000x
func FuzzCloneRoutes(f *testing.F) {
	f.Add(uint8(0), "", "", `{"expiresAt":"2099-01-01T00:00:00Z"}`)
	f.Add(uint8(0), "", "", `{"expiresAt":"2001-01-01T00:00:00Z","revokeSourceAfterSeconds":0}`)
	f.Add(uint8(0), "", "", "null")
	f.Add(uint8(0), "", "name=x", " ")
	handlertest.FuzzRoutes(f, routes.Clone, func(t testing.TB) handlertest.Fixture {
		env := handlertest.New(t)
		h, err := newtoken.NewClone(env.Mgr, nil)
		if err != nil {
			t.Fatal(err)
		}
		return env.Fixture(t, h.Serve)
	})
}

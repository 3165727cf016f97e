package manage_test

import (
	"testing"

	"github.com/acmedata/tokenservice/pkg/handlers/manage"
	"github.com/acmedata/tokenservice/pkg/routes"
	"github.com/acmedata/tokenservice/pkg/testkit/handlertest"
)

// FuzzManageRoutes: no path parameter, query string or body makes a
// manage route answer a 5xx, an error or a secret.
//
//fuzz:budget 20000x
func FuzzManageRoutes(f *testing.F) {
	handlertest.FuzzRoutes(f, routes.Manage, func(t testing.TB) handlertest.Fixture {
		env := handlertest.New(t)
		h, err := manage.New(env.Mgr, nil)
		if err != nil {
			t.Fatal(err)
		}
		return env.Fixture(t, h.Serve)
	})
}

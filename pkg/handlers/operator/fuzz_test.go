package operator_test

import (
	"testing"

	"github.com/acmedata/tokenservice/pkg/handlers/operator"
	"github.com/acmedata/tokenservice/pkg/routes"
	"github.com/acmedata/tokenservice/pkg/testkit/handlertest"
)

// FuzzOperatorRoutes: no path parameter, query string or body makes a
// operator route answer a 5xx, an error or a secret.
//
//fuzz:budget 30000x
func FuzzOperatorRoutes(f *testing.F) {
	handlertest.FuzzRoutes(f, routes.Operator, func(t testing.TB) handlertest.Fixture {
		env := handlertest.New(t)
		h, err := operator.New(env.Mgr, nil)
		if err != nil {
			t.Fatal(err)
		}
		return env.Fixture(t, h.Serve)
	})
}

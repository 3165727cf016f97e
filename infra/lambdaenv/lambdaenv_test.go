package lambdaenv

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/acmedata/tokenservice/infra/tokenauth"
	"github.com/acmedata/tokenservice/pkg/apigwplans"
	"github.com/acmedata/tokenservice/pkg/authz"
)

// TestValuesResolvedAtDeployRunLocallyWithStandInsThatReachNoAWS: the
// REST API's ID and the unlimited usage key exist only once deployed; a
// function run locally gets letters-and-digits stand-ins, and API
// Gateway's endpoint is a closed local port, so a local run never calls
// AWS.
func TestValuesResolvedAtDeployRunLocallyWithStandInsThatReachNoAWS(t *testing.T) {
	fns, err := Synthesise([]string{tokenauth.FunctionName, "operator", "manage", "sweeper", "issue", "clone", "health", "usage", "data", "console", "keyauthorizer", "recorder"})
	if err != nil {
		t.Fatal(err)
	}
	wants := map[string][]string{
		tokenauth.FunctionName: {authz.EnvUnlimitedUsageKey},
		"operator":             {apigwplans.EnvRestAPIID},
		"manage":               {apigwplans.EnvRestAPIID},
		"sweeper":              {apigwplans.EnvRestAPIID},
	}
	for name, want := range wants {
		f := fns[name]
		if !slices.Equal(f.DeployTime, want) {
			t.Errorf("%s: deploy-time variables %v, want %v", name, f.DeployTime, want)
		}
		env := f.Local(map[string]string{}, "http://127.0.0.1:8000")
		for _, k := range want {
			if !regexp.MustCompile(`^[a-z0-9]{20,}$`).MatchString(env[k]) {
				t.Errorf("%s: %s = %q, want a stand-in of 20+ letters and digits", name, k, env[k])
			}
		}
		if ep := env[EnvAPIGatewayEndpoint]; !strings.HasPrefix(ep, "http://127.0.0.1:") {
			t.Errorf("%s: %s = %q, want a local address", name, EnvAPIGatewayEndpoint, ep)
		}
	}
	if got := fns["issue"].Local(nil, "")[EnvAPIGatewayEndpoint]; got != "" {
		t.Errorf("issue: %s = %q, want unset (it has nothing deploy-time)", EnvAPIGatewayEndpoint, got)
	}
}

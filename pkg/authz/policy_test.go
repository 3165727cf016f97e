package authz

import (
	"context"
	"strings"
	"testing"

	"github.com/acmedata/tokenservice/pkg/apigw"
	"github.com/acmedata/tokenservice/pkg/gatewayresp"
)

// TestCachedAllowOpensOnlyTheTokensServiceDataRoutes evaluates the Allow
// policy the way API Gateway evaluates a cached one against later requests
// of the same caller: it must match this service's data routes in this API
// and stage, and nothing else.
func TestCachedAllowOpensOnlyTheTokensServiceDataRoutes(t *testing.T) {
	store := newFakeStore()
	store.put(fixtureToken, validCredential("tmy"))
	a := newTestAuthorizer(t, store, Options{RouteServices: deployerRoutes})
	ev := loadEvent(t, "data-query")
	resp, err := a.Authorize(context.Background(), ev)
	assertEffect(t, resp, err, "Allow")
	arn, err := apigw.ParseMethodARN(ev.MethodArn)
	if err != nil {
		t.Fatal(err)
	}
	api := strings.TrimSuffix(arn.Stage, "prod/")
	cases := []struct {
		request string
		allowed bool
	}{
		{arn.Stage + "GET/data/tmy/hourly", true},
		{arn.Stage + "GET/data/tmy/2026/05/daily", true},
		{arn.Stage + "GET/feed/" + otherFixtureToken + "/tmy/hourly", false},
		{arn.Stage + "GET/feed/abcdefghijklmnopqrstu/timeseries/tmy/hourly", false},
		{arn.Stage + "GET/data/timeseries/hourly", false},
		{arn.Stage + "GET/data/tmyx/hourly", false},
		{arn.Stage + "GET/feed/" + fixtureToken + "/timeseries/tmy/hourly", false},
		{arn.Stage + "GET/feed/x/timeseries/tmy/hourly", false},
		{arn.Stage + "POST/data/tmy/hourly", false},
		{arn.Stage + "GET/admin/account", false},
		{arn.Stage + "POST/admin/services/tmy/tokens", false},
		{arn.Stage + "GET/reports/2026/summary", false},
		{api + "dev/GET/data/tmy/hourly", false},
		{strings.Replace(arn.Stage, "a1b2c3d4e5", "zzzzzzzzzz", 1) + "GET/data/tmy/hourly", false},
	}
	for _, tc := range cases {
		if got := policyAllows(resp.PolicyDocument.Statement[0].Resource, tc.request); got != tc.allowed {
			t.Errorf("cached Allow matches %s = %v, want %v", tc.request, got, tc.allowed)
		}
	}
}

// TestAllowForADeployerRouteNamesOnlyThatRequest proves a route outside the
// data routes is allowed by its exact method ARN, so a cached Allow never
// reaches another of the deployer's routes.
func TestAllowForADeployerRouteNamesOnlyThatRequest(t *testing.T) {
	store := newFakeStore()
	store.put(fixtureToken, validCredential("tmy"))
	a := newTestAuthorizer(t, store, Options{RouteServices: deployerRoutes})
	ev := loadEvent(t, "deployer-route")
	resp, err := a.Authorize(context.Background(), ev)
	assertEffect(t, resp, err, "Allow")
	for _, other := range []string{"GET/reports/2026/other", "GET/data/timeseries/x", "GET/admin/account"} {
		if policyAllows(resp.PolicyDocument.Statement[0].Resource, "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/"+other) {
			t.Errorf("cached Allow matches %s", other)
		}
	}
	if !policyAllows(resp.PolicyDocument.Statement[0].Resource, ev.MethodArn) {
		t.Errorf("Allow does not match its own request %s", ev.MethodArn)
	}

	// A literal wildcard in the path cannot be named exactly: refused.
	ev.Path = "/reports/*"
	ev.PathParameters["proxy"] = "*"
	ev.MethodArn = strings.TrimSuffix(ev.MethodArn, "2026/summary") + "*"
	resp, err = a.Authorize(context.Background(), ev)
	assertEffect(t, resp, err, "Deny")
	// No precise reason: the caller reads the plain forbidden body.
	assertDenyReason(t, resp.Context, gatewayresp.Forbidden.Code, gatewayresp.Forbidden.Message)
}

func TestDataRoutesAreDerivedFromTheRouteList(t *testing.T) {
	var got []string
	for _, r := range dataRoutes {
		got = append(got, r.before+"<svc>"+r.after)
	}
	want := []string{"GET/data/<svc>/*"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("data route patterns = %v, want %v", got, want)
	}
}

func TestScopeRefusesTemplatesAPatternCannotBound(t *testing.T) {
	for _, template := range []string{
		"/data/{service}/{id}/rows",        // a '*' mid-path would cross segments
		"/feed/{token}/{service}/{proxy+}", // so would 32 '?' for the token
		"/data/{proxy+}/{service}",         // greedy not last
		"/reports/{proxy+}",                // names no service
		"/data/{service}/{service}/{x}",    // service twice, then a non-greedy tail
	} {
		if _, ok := scope("GET", template); ok {
			t.Errorf("scope(%s) produced a pattern", template)
		}
	}
}

// policyAllows evaluates resource patterns as IAM does for execute-api:
// '*' matches any run of characters (slashes included), '?' exactly one.
func policyAllows(patterns []string, arn string) bool {
	for _, p := range patterns {
		if wildcardMatch(p, arn) {
			return true
		}
	}
	return false
}

func wildcardMatch(p, s string) bool {
	if p == "" {
		return s == ""
	}
	switch p[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if wildcardMatch(p[1:], s[i:]) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && wildcardMatch(p[1:], s[1:])
	default:
		return s != "" && s[0] == p[0] && wildcardMatch(p[1:], s[1:])
	}
}

// TestCachedFeedAllowOpensNoOtherFeedPath proves the feed route, which no
// pattern can bound, is allowed by its exact method ARN plus the service's
// /data pattern.
func TestCachedFeedAllowOpensNoOtherFeedPath(t *testing.T) {
	store := newFakeStore()
	store.put(fixtureToken, validCredential("tmy"))
	ev := loadEvent(t, "feed-path")
	resp, err := newTestAuthorizer(t, store, Options{}).Authorize(context.Background(), ev)
	assertEffect(t, resp, err, "Allow")
	arn, _ := apigw.ParseMethodARN(ev.MethodArn)
	resources := resp.PolicyDocument.Statement[0].Resource
	for request, allowed := range map[string]bool{
		ev.MethodArn:                                   true,
		arn.Stage + "GET/data/tmy/x":                   true,
		arn.Stage + "GET/data/timeseries/x":            false,
		ev.MethodArn + "/more":                         false,
		arn.Stage + "GET/feed/x/timeseries/tmy/hourly": false,
	} {
		if got := policyAllows(resources, request); got != allowed {
			t.Errorf("cached feed Allow matches %s = %v, want %v", request, got, allowed)
		}
	}
}

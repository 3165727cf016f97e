package authz

import (
	"context"
	"testing"

	"github.com/acmedata/tokenservice/pkg/authctx"
	"github.com/acmedata/tokenservice/pkg/restrict"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// restricted compiles lists known to be valid.
func restricted(tb testing.TB, origins, ipRanges []string) restrict.Policy {
	tb.Helper()
	r, err := restrict.Parse(origins, ipRanges)
	if err != nil {
		tb.Fatalf("Parse: %v", err)
	}
	p, err := restrict.Compile(r)
	if err != nil {
		tb.Fatalf("Compile: %v", err)
	}
	return p
}

// TestRestrictionsRefuseOutsideCallersWithTheTokensIdentity protects
// PRODUCT.md's restrictions in the decision: the origin (else the
// Referer's) and API Gateway's source IP are judged, never a header the
// caller sets for its IP, and a refusal is a Deny naming the token.
func TestRestrictionsRefuseOutsideCallersWithTheTokensIdentity(t *testing.T) {
	origins := []string{"https://maps.example.com", "https://*.example.org"}
	cases := []struct {
		name     string
		origins  []string
		ipRanges []string
		headers  map[string]string
		sourceIP string
		want     tokens.Outcome
	}{
		{"no restrictions allow anything", nil, nil, nil, "198.51.100.1", tokens.Valid},
		{"a listed Origin", origins, nil, map[string]string{"Origin": "https://maps.example.com"}, "", tokens.Valid},
		{"a listed origin in any header-name and host case", origins, nil, map[string]string{"origin": "https://MAPS.example.com"}, "", tokens.Valid},
		{"a Referer alone", origins, nil, map[string]string{"Referer": "https://maps.example.com/page?x=1"}, "", tokens.Valid},
		{"an unlisted Origin wins over a listed Referer", origins, nil, map[string]string{"Origin": "https://evil.example", "Referer": "https://maps.example.com/"}, "", tokens.OriginNotAllowed},
		{"neither header", origins, nil, nil, "", tokens.OriginNotAllowed},
		{"a wildcard's one level", origins, nil, map[string]string{"Origin": "https://a.example.org"}, "", tokens.Valid},
		{"not two levels", origins, nil, map[string]string{"Origin": "https://a.b.example.org"}, "", tokens.OriginNotAllowed},
		{"another port", origins, nil, map[string]string{"Origin": "https://maps.example.com:8443"}, "", tokens.OriginNotAllowed},
		{"an IPv4 inside", nil, []string{"203.0.113.0/24"}, nil, "203.0.113.7", tokens.Valid},
		{"an IPv4 outside", nil, []string{"203.0.113.0/24"}, nil, "198.51.100.1", tokens.IPNotAllowed},
		{"a forwarded-for header is no source IP", nil, []string{"203.0.113.0/24"}, map[string]string{"X-Forwarded-For": "203.0.113.7"}, "198.51.100.1", tokens.IPNotAllowed},
		{"an IPv6 inside", nil, []string{"2001:db8::/32"}, nil, "2001:db8::1", tokens.Valid},
		{"an IPv6 outside", nil, []string{"2001:db8::/32"}, nil, "2001:db9::1", tokens.IPNotAllowed},
		{"the IP is judged first", origins, []string{"203.0.113.0/24"}, nil, "198.51.100.1", tokens.IPNotAllowed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			store := newFakeStore()
			cred := validCredential("tmy")
			cred.Token.Restrictions = restricted(t, tc.origins, tc.ipRanges)
			store.put(fixtureToken, cred)
			a := newTestAuthorizer(t, store, Options{})
			ev := loadEvent(t, "data-query")
			for k, v := range tc.headers {
				ev.Headers[k] = v
			}
			if tc.sourceIP != "" {
				ev.RequestContext.Identity.SourceIP = tc.sourceIP
			}
			resp, err := a.Authorize(context.Background(), ev)
			if tc.want == tokens.Valid {
				assertEffect(t, resp, err, "Allow")
				return
			}
			assertEffect(t, resp, err, "Deny")
			assertContext(t, resp.Context, cred, "tmy", false)
			if got := resp.Context[authctx.Outcome]; got != tc.want.Code() {
				t.Errorf("deny context outcome = %v, want %s", got, tc.want.Code())
			}
			assertDenyReason(t, resp.Context, tc.want.Code(), tc.want.Message())
		})
	}
}

// TestRestrictionsWaitForAValidToken protects the order: a token that
// is unusable anyway is refused as such, revealing nothing of its
// restrictions.
func TestRestrictionsWaitForAValidToken(t *testing.T) {
	store := newFakeStore()
	cred := validCredential("tmy")
	cred.Token.Restrictions = restricted(t, nil, []string{"192.0.2.0/24"})
	cred.Token.Enabled, cred.Token.DisabledReason = false, tokens.DisabledByAdmin
	store.put(fixtureToken, cred)
	a := newTestAuthorizer(t, store, Options{})
	if _, err := a.Authorize(context.Background(), loadEvent(t, "data-query")); err == nil || err.Error() != "Unauthorized" {
		t.Fatalf("err = %v, want Unauthorized", err)
	}
}

// TestTwoDifferentOriginHeadersAreRefusedAsAmbiguous: with an origin list,
// a request carrying two different Origin (or Referer) values is refused
// whichever of them is listed, as two different tokens are; the same value
// twice is one origin.
func TestTwoDifferentOriginHeadersAreRefusedAsAmbiguous(t *testing.T) {
	listed, other := "https://maps.example.com", "https://evil.example"
	for _, tc := range []struct {
		name  string
		multi map[string][]string
		want  tokens.Outcome
	}{
		{"listed last", map[string][]string{"Origin": {other, listed}}, tokens.OriginNotAllowed},
		{"listed first", map[string][]string{"Origin": {listed, other}}, tokens.OriginNotAllowed},
		{"in two header-name cases", map[string][]string{"Origin": {other}, "origin": {listed}}, tokens.OriginNotAllowed},
		{"two Referers", map[string][]string{"Referer": {listed + "/a", other + "/b"}}, tokens.OriginNotAllowed},
		{"the same origin twice", map[string][]string{"Origin": {listed, listed}}, tokens.Valid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := newFakeStore()
			cred := validCredential("tmy")
			cred.Token.Restrictions = restricted(t, []string{listed}, nil)
			store.put(fixtureToken, cred)
			a := newTestAuthorizer(t, store, Options{})
			ev := loadEvent(t, "data-query")
			if ev.MultiValueHeaders == nil {
				ev.MultiValueHeaders = map[string][]string{}
			}
			for k, vs := range tc.multi {
				ev.MultiValueHeaders[k] = vs
				ev.Headers[k] = vs[len(vs)-1] // API Gateway keeps the last
			}
			resp, err := a.Authorize(context.Background(), ev)
			if tc.want == tokens.Valid {
				assertEffect(t, resp, err, "Allow")
				return
			}
			assertEffect(t, resp, err, "Deny")
			assertDenyReason(t, resp.Context, tc.want.Code(), tc.want.Message())
		})
	}
}

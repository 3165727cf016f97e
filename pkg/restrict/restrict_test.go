package restrict

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/acmedata/tokenservice/pkg/apperr"
)

func TestParseAcceptsRealOriginsAndCIDRsInCanonicalForm(t *testing.T) {
	got, err := Parse(
		[]string{"https://Maps.Example.com", "https://maps.example.com:443/", "http://localhost:8080", "https://*.example.com", "http://[2001:DB8::1]:8080"},
		[]string{"203.0.113.0/24", "2001:db8::/32", "203.0.113.0/24"},
	)
	if err != nil {
		t.Fatal(err)
	}
	wantOrigins := []string{"https://maps.example.com", "http://localhost:8080", "https://*.example.com", "http://[2001:db8::1]:8080"}
	if !slices.Equal(got.Origins, wantOrigins) {
		t.Errorf("origins %q, want %q", got.Origins, wantOrigins)
	}
	if want := []string{"203.0.113.0/24", "2001:db8::/32"}; !slices.Equal(got.IPRanges, want) {
		t.Errorf("ipRanges %q, want %q", got.IPRanges, want)
	}
}

func TestParseRefusesWhatIsNotAnOriginOrACIDRWithoutEchoingIt(t *testing.T) {
	secret := "46a4eccec1414feab118287f5af26f03"
	for _, tc := range []struct {
		name             string
		origins, ipRange []string
	}{
		{"no scheme", []string{"maps.example.com"}, nil},
		{"ftp", []string{"ftp://example.com"}, nil},
		{"a path", []string{"https://example.com/maps"}, nil},
		{"a query", []string{"https://example.com?x=1"}, nil},
		{"a fragment", []string{"https://example.com#top"}, nil},
		{"user info", []string{"https://user@example.com"}, nil},
		{"wildcard in the middle", []string{"https://maps.*.example.com"}, nil},
		{"two wildcards", []string{"https://*.*.example.com"}, nil},
		{"wildcard over a TLD", []string{"https://*.com"}, nil},
		{"wildcard alone", []string{"https://*"}, nil},
		{"a bad host", []string{"https://exa_mple.com"}, nil},
		{"a secret as origin", []string{"https://" + secret + "?"}, nil},
		{"empty", []string{""}, nil},
		{"null", []string{"null"}, nil},
		{"an IPv6 zone", []string{"https://[fe80::1%25eth0]"}, nil},
		{"an IPv6 zone with a port", []string{"https://[::1%25x]:8443"}, nil},
		{"a raw IPv6 zone with a port", []string{"https://[::1%x]:8443"}, nil},
		{"port 0", []string{"https://example.com:0"}, nil},
		{"port 99999", []string{"https://example.com:99999"}, nil},
		{"port with a leading zero", []string{"https://example.com:08443"}, nil},
		{"empty port", []string{"https://example.com:"}, nil},
		{"not a CIDR", nil, []string{"203.0.113.7"}},
		{"host bits set", nil, []string{"203.0.113.7/24"}},
		{"garbage range", nil, []string{secret}},
		{"too many origins", slices.Repeat([]string{"https://example.com"}, MaxEntries+1), nil},
		{"too many ranges", nil, slices.Repeat([]string{"10.0.0.0/8"}, MaxEntries+1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.origins, tc.ipRange)
			var ae *apperr.Error
			if !errors.As(err, &ae) || ae.Kind != apperr.KindInvalid || ae.Code != "invalid_restrictions" {
				t.Fatalf("Parse = %v, want invalid_restrictions", err)
			}
			if strings.Contains(ae.Message, secret) {
				t.Fatalf("message %q echoes the input", ae.Message)
			}
		})
	}
}

func TestPolicyAllowsOnlyListedOriginsAndRanges(t *testing.T) {
	r, err := Parse([]string{"https://maps.example.com", "https://*.example.org", "http://localhost:8080"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	origins := mustCompile(t, r)
	r, err = Parse(nil, []string{"203.0.113.0/24", "2001:db8::/32"})
	if err != nil {
		t.Fatal(err)
	}
	ips := mustCompile(t, r)
	none := mustCompile(t, Restrictions{})
	for _, tc := range []struct {
		name   string
		policy Policy
		req    Request
		want   Verdict
	}{
		{"no restrictions", none, Request{}, Allowed},
		{"listed origin", origins, Request{Origin: "https://maps.example.com"}, Allowed},
		{"host case does not matter", origins, Request{Origin: "https://MAPS.example.com"}, Allowed},
		{"default port is the same origin", origins, Request{Origin: "https://maps.example.com:443"}, Allowed},
		{"another port is another origin", origins, Request{Origin: "https://maps.example.com:8443"}, OriginNotAllowed},
		{"the listed port", origins, Request{Origin: "http://localhost:8080"}, Allowed},
		{"http is not https", origins, Request{Origin: "http://maps.example.com"}, OriginNotAllowed},
		{"another site", origins, Request{Origin: "https://evil.example"}, OriginNotAllowed},
		{"a look-alike suffix", origins, Request{Origin: "https://maps.example.com.evil.example"}, OriginNotAllowed},
		{"referer when no origin", origins, Request{Referer: "https://maps.example.com/page?q=1"}, Allowed},
		{"origin wins over referer", origins, Request{Origin: "https://evil.example", Referer: "https://maps.example.com/"}, OriginNotAllowed},
		{"neither header", origins, Request{}, OriginNotAllowed},
		{"opaque origin", origins, Request{Origin: "null"}, OriginNotAllowed},
		{"wildcard, one level", origins, Request{Origin: "https://a.example.org"}, Allowed},
		{"wildcard, two levels", origins, Request{Origin: "https://a.b.example.org"}, OriginNotAllowed},
		{"wildcard, the bare domain", origins, Request{Origin: "https://example.org"}, OriginNotAllowed},
		{"IPv4 in range", ips, Request{SourceIP: "203.0.113.7"}, Allowed},
		{"IPv4-mapped IPv6 in range", ips, Request{SourceIP: "::ffff:203.0.113.7"}, Allowed},
		{"IPv4 out of range", ips, Request{SourceIP: "198.51.100.1"}, IPNotAllowed},
		{"IPv6 in range", ips, Request{SourceIP: "2001:db8::42"}, Allowed},
		{"IPv6 out of range", ips, Request{SourceIP: "2001:db9::1"}, IPNotAllowed},
		{"no source IP", ips, Request{}, IPNotAllowed},
		// An Origin header is an origin and nothing else: anything more is
		// not what a browser sends, and never matches.
		{"an Origin with a path", origins, Request{Origin: "https://maps.example.com/maps"}, OriginNotAllowed},
		{"an Origin with a slash", origins, Request{Origin: "https://maps.example.com/"}, OriginNotAllowed},
		{"an Origin with a query", origins, Request{Origin: "https://maps.example.com?x=1"}, OriginNotAllowed},
		{"an Origin with a fragment", origins, Request{Origin: "https://maps.example.com#x"}, OriginNotAllowed},
		{"an Origin with user info", origins, Request{Origin: "https://u@maps.example.com"}, OriginNotAllowed},
		{"an Origin with port 0", origins, Request{Origin: "http://localhost:0"}, OriginNotAllowed},
		{"an Origin with port 99999", origins, Request{Origin: "http://localhost:99999"}, OriginNotAllowed},
		{"an Origin with a zero-padded port", origins, Request{Origin: "http://localhost:08080"}, OriginNotAllowed},
		{"an Origin with an IPv6 zone", origins, Request{Origin: "https://[fe80::1%25eth0]"}, OriginNotAllowed},
		{"a Referer with port 99999", origins, Request{Referer: "http://localhost:99999/page"}, OriginNotAllowed},
		{"two different Origin headers", origins, Request{Origin: "https://maps.example.com", Ambiguous: true}, OriginNotAllowed},
		{"ambiguity without an origin list restricts nothing", ips, Request{SourceIP: "203.0.113.7", Ambiguous: true}, Allowed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.policy.Check(tc.req); got != tc.want {
				t.Fatalf("Check(%+v) = %s, want %s", tc.req, got.Code(), tc.want.Code())
			}
		})
	}
}

// TestParseRefusesIPv6ZonesAndBadPortsAsBadInput: an origin with an IPv6
// zone or a port outside 1–65535 is a 400, never a stored entry that
// Compile cannot read back (a 500 on every later read).
func TestParseRefusesIPv6ZonesAndBadPortsAsBadInput(t *testing.T) {
	for _, o := range []string{"https://[fe80::1%25eth0]", "https://[::1%25x]:8443", "https://[::1%x]:8443", "http://[fe80::1%eth0]", "https://a.example:0", "https://a.example:99999", "https://a.example:65536"} {
		if r, err := Parse([]string{o}, nil); err == nil {
			t.Errorf("Parse(%q) = %+v, want invalid_restrictions", o, r)
		}
	}
	if _, err := Parse([]string{"https://a.example:65535", "http://[fe80::1]:1"}, nil); err != nil {
		t.Errorf("the edges of the port range: %v", err)
	}
}

func TestCompileRefusesAStoredEntryItCannotRead(t *testing.T) {
	// Dropping an unreadable entry would widen what the token allows.
	if _, err := Compile(Restrictions{IPRanges: []string{"10.0.0.0/8", "junk"}}); err == nil {
		t.Fatal("Compile accepted an unreadable range")
	}
	if _, err := Compile(Restrictions{Origins: []string{"junk"}}); err == nil {
		t.Fatal("Compile accepted an unreadable origin")
	}
}

func FuzzParseNeverPanicsAndItsOutputCompiles(f *testing.F) {
	f.Add("https://*.example.com", "10.0.0.0/8")
	f.Add("http://[::1]:80", "::/0")
	f.Add("https://[fe80::1%25eth0]", "fe80::/10")
	f.Add("https://[::1%x]:8443", "::1/128")
	f.Add("https://example.com:0", "0.0.0.0/0")
	f.Add("https://example.com:99999", "10.0.0.0/8")
	f.Fuzz(func(t *testing.T, origin, ipRange string) {
		r, err := Parse([]string{origin}, []string{ipRange})
		if err != nil {
			return
		}
		again, err := Parse(r.Origins, r.IPRanges)
		if err != nil || !slices.Equal(again.Origins, r.Origins) || !slices.Equal(again.IPRanges, r.IPRanges) {
			t.Fatalf("canonical form %+v does not parse to itself: %+v, %v", r, again, err)
		}
		p, err := Compile(r)
		if err != nil {
			t.Fatalf("Compile(%+v): %v", r, err)
		}
		p.Check(Request{Origin: origin, SourceIP: ipRange})
	})
}

func mustCompile(t *testing.T, r Restrictions) Policy {
	t.Helper()
	p, err := Compile(r)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

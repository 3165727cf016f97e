// Package restrict decides where a token may be used from: the web origins
// and the source IP ranges an admin allows (docs/api.md, "Restrictions").
//
// An origin list keeps a token embedded in one site's pages from being
// reused by other sites' pages, because browsers set Origin and Referer
// themselves; it is no defence against a script or a server, which can send
// any header. An IP range list is a real defence: the source IP is the one
// API Gateway saw, which a caller cannot choose.
//
// Lists are validated once, when an admin sets them (Parse), and compiled
// into a Policy that the authorizer keeps with the token, so a check costs
// no parsing of the lists on the request path.
package restrict

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"

	"github.com/acmedata/tokenservice/pkg/apperr"
)

// MaxEntries bounds each list.
const MaxEntries = 50

// Restrictions are the lists as an admin writes them and as they are
// stored: canonical origins and CIDRs. Empty lists restrict nothing.
type Restrictions struct {
	Origins  []string `json:"origins"`
	IPRanges []string `json:"ipRanges"`
}

// IsZero reports whether r restricts nothing.
func (r Restrictions) IsZero() bool { return len(r.Origins) == 0 && len(r.IPRanges) == 0 }

// Verdict is the typed answer of a check.
type Verdict int

// The verdicts.
const (
	Allowed          Verdict = iota
	OriginNotAllowed         // 403 origin_not_allowed
	IPNotAllowed             // 403 ip_not_allowed
)

// Code is the snake_case code of v, for answers and logs.
func (v Verdict) Code() string {
	switch v {
	case OriginNotAllowed:
		return "origin_not_allowed"
	case IPNotAllowed:
		return "ip_not_allowed"
	}
	return "allowed"
}

// Request is what a check looks at: the Origin and Referer headers as the
// caller sent them, and the source IP as API Gateway saw it.
type Request struct {
	Origin, Referer, SourceIP string
	// Ambiguous is set when the request carried two different Origin (or
	// Referer) values: which one a browser meant cannot be told, so an
	// origin list refuses it, as two different tokens are refused.
	Ambiguous bool
}

// Policy is a compiled Restrictions. It is immutable, so copies of a
// token that carry it share it safely, and it keeps the lists it was
// compiled from (Restrictions) for storage and for admins to read: a token
// holds its Policy, compiled once when the store is read, and a cached
// token costs no compilation per request.
type Policy struct {
	lists     Restrictions
	exact     map[string]bool // canonical origins
	wildcards []wildcard
	prefixes  []netip.Prefix
	origins   bool // the origin list is not empty
}

// wildcard is "scheme://*.suffix[:port]": any one label before suffix.
type wildcard struct {
	scheme, suffix, port string
}

// Parse validates lists an admin sent and returns them canonical (scheme
// and host lower case, default ports dropped, prefixes as written but
// checked to have no host bits set). Errors name the entry by position,
// never by value: a careless caller may paste a secret into any field.
func Parse(origins, ipRanges []string) (Restrictions, error) {
	if len(origins) > MaxEntries || len(ipRanges) > MaxEntries {
		return Restrictions{}, apperr.Invalid("invalid_restrictions", "origins and ipRanges take at most %d entries each", MaxEntries)
	}
	out := Restrictions{Origins: make([]string, 0, len(origins)), IPRanges: make([]string, 0, len(ipRanges))}
	seen := map[string]bool{}
	for i, o := range origins {
		c, ok := canonicalPattern(o)
		if !ok {
			return Restrictions{}, apperr.Invalid("invalid_restrictions", "origins[%d] is not a web origin such as https://maps.example.com or https://*.example.com", i)
		}
		if !seen[c] {
			seen[c] = true
			out.Origins = append(out.Origins, c)
		}
	}
	for i, r := range ipRanges {
		p, err := netip.ParsePrefix(strings.TrimSpace(r))
		if err != nil {
			return Restrictions{}, apperr.Invalid("invalid_restrictions", "ipRanges[%d] is not a CIDR such as 203.0.113.0/24 or 2001:db8::/32", i)
		}
		if p != p.Masked() {
			return Restrictions{}, apperr.Invalid("invalid_restrictions", "ipRanges[%d] has bits set past its prefix length; did you mean %s?", i, p.Masked())
		}
		c := p.String()
		if !seen[c] {
			seen[c] = true
			out.IPRanges = append(out.IPRanges, c)
		}
	}
	return out, nil
}

// Compile turns stored restrictions into a Policy. Stored lists were
// canonicalised by Parse; an entry that no longer parses is an error, never
// silently dropped, since dropping one could widen what a token allows.
func Compile(r Restrictions) (Policy, error) {
	// Empty lists are kept as nil, so that a Policy compiled from nothing
	// equals the zero Policy.
	p := Policy{lists: Restrictions{Origins: nilIfEmpty(r.Origins), IPRanges: nilIfEmpty(r.IPRanges)}, origins: len(r.Origins) > 0}
	for _, o := range r.Origins {
		c, ok := canonicalPattern(o)
		if !ok {
			return Policy{}, fmt.Errorf("restrict: stored origin %d does not parse", len(p.exact)+len(p.wildcards))
		}
		scheme, host, port := split(c)
		if rest, ok := strings.CutPrefix(host, "*."); ok {
			p.wildcards = append(p.wildcards, wildcard{scheme: scheme, suffix: "." + rest, port: port})
			continue
		}
		if p.exact == nil {
			p.exact = map[string]bool{}
		}
		p.exact[c] = true
	}
	for _, s := range r.IPRanges {
		pr, err := netip.ParsePrefix(s)
		if err != nil {
			return Policy{}, fmt.Errorf("restrict: stored ipRange %d does not parse: %w", len(p.prefixes), err)
		}
		p.prefixes = append(p.prefixes, pr)
	}
	return p, nil
}

// Restrictions returns the lists p was compiled from, as copies.
func (p Policy) Restrictions() Restrictions {
	return Restrictions{Origins: clone(p.lists.Origins), IPRanges: clone(p.lists.IPRanges)}
}

// IsZero reports whether p restricts nothing.
func (p Policy) IsZero() bool { return p.lists.IsZero() }

// clone copies s, never returning nil, so lists always render as [].
func clone(s []string) []string { return append([]string{}, s...) }

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return clone(s)
}

// Check decides req. The IP ranges are checked first: they are the real
// defence, and a request from outside them learns nothing about the
// origin list.
func (p Policy) Check(req Request) Verdict {
	if len(p.prefixes) > 0 && !p.ipAllowed(req.SourceIP) {
		return IPNotAllowed
	}
	if p.origins && !p.originAllowed(req) {
		return OriginNotAllowed
	}
	return Allowed
}

func (p Policy) ipAllowed(sourceIP string) bool {
	ip, err := netip.ParseAddr(sourceIP)
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	for _, pr := range p.prefixes {
		if pr.Contains(ip) {
			return true
		}
	}
	return false
}

func (p Policy) originAllowed(req Request) bool {
	if req.Ambiguous {
		return false
	}
	var (
		c  string
		ok bool
	)
	if req.Origin != "" {
		c, ok = headerOrigin(req.Origin)
	} else {
		c, ok = canonicalOrigin(req.Referer)
	}
	if !ok {
		return false
	}
	if p.exact[c] {
		return true
	}
	scheme, host, port := split(c)
	for _, w := range p.wildcards {
		label, ok := strings.CutSuffix(host, w.suffix)
		if ok && w.scheme == scheme && w.port == port && label != "" && !strings.Contains(label, ".") {
			return true
		}
	}
	return false
}

// headerOrigin is the canonical form of an Origin header, which is an
// origin and nothing more (RFC 6454: scheme, host and port): one with a
// path, a query, a fragment or user info is not what a browser sends and
// matches nothing.
func headerOrigin(raw string) (string, bool) {
	raw = strings.TrimSpace(raw)
	if strings.ContainsAny(raw, "?#@") {
		return "", false
	}
	if _, rest, ok := strings.Cut(raw, "://"); !ok || strings.Contains(rest, "/") {
		return "", false
	}
	return canonicalOrigin(raw)
}

// canonicalOrigin is the origin of a URL a browser sent (an Origin header,
// or a Referer's scheme, host and port), or false. "null", anything that
// is not http(s) with a host, a host with an IPv6 zone (no browser origin
// has one) and a port outside 1–65535 or written with a leading zero have
// no origin.
func canonicalOrigin(raw string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || u.User != nil || u.Opaque != "" {
		return "", false
	}
	if strings.Contains(u.Host, "%") || strings.HasSuffix(u.Host, ":") || !validPort(u.Port()) {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", false
	}
	host := strings.ToLower(u.Hostname())
	if host == "" {
		return "", false
	}
	port := u.Port()
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if strings.Contains(host, ":") { // an IPv6 literal
		host = "[" + host + "]"
	}
	if port != "" {
		return scheme + "://" + host + ":" + port, true
	}
	return scheme + "://" + host, true
}

// canonicalPattern is an admin's origin entry made canonical: an origin
// with nothing after its host and port, whose host may start with one "*."
// followed by at least two labels.
func canonicalPattern(raw string) (string, bool) {
	raw = strings.TrimSpace(raw)
	if len(raw) > 300 {
		return "", false
	}
	wild := false
	if scheme, rest, ok := strings.Cut(raw, "://*."); ok {
		wild = true
		raw = scheme + "://wildcard." + rest
	}
	u, err := url.Parse(raw)
	if err != nil || u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.Fragment != "" || strings.Contains(raw, "#") || strings.HasSuffix(raw, "?") {
		return "", false
	}
	c, ok := canonicalOrigin(raw)
	if !ok {
		return "", false
	}
	_, host, _ := split(c)
	if strings.Contains(host, "*") || !validHost(host) {
		return "", false
	}
	if wild {
		rest, _ := strings.CutPrefix(host, "wildcard.")
		if !strings.Contains(rest, ".") || strings.HasPrefix(rest, "[") {
			return "", false // *.com, or a wildcard over an IP literal
		}
		c = strings.Replace(c, "://wildcard.", "://*.", 1)
	}
	return c, true
}

// validPort accepts "" (the scheme's default) and 1–65535 in decimal
// without a leading zero.
func validPort(port string) bool {
	if port == "" {
		return true
	}
	if len(port) > 5 || port[0] == '0' {
		return false
	}
	n := 0
	for _, r := range port {
		if r < '0' || r > '9' {
			return false
		}
		n = n*10 + int(r-'0')
	}
	return n >= 1 && n <= 65535
}

// validHost accepts DNS names of letters, digits and hyphens, and IP
// literals.
func validHost(host string) bool {
	if strings.HasPrefix(host, "[") {
		ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
		return err == nil && ip.Zone() == ""
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip.Zone() == ""
	}
	if len(host) > 253 {
		return false
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// split cuts a canonical origin into scheme, host and port ("" if none).
func split(origin string) (scheme, host, port string) {
	scheme, rest, _ := strings.Cut(origin, "://")
	if strings.HasPrefix(rest, "[") {
		end := strings.Index(rest, "]")
		host, rest = rest[:end+1], rest[end+1:]
		port, _ = strings.CutPrefix(rest, ":")
		return scheme, host, port
	}
	host, port, _ = strings.Cut(rest, ":")
	return scheme, host, port
}

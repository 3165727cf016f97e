package redact_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/acmedata/tokenservice/pkg/id"
	"github.com/acmedata/tokenservice/pkg/redact"
)

const token = "46a4eccec1414feab118287f5af26f03"

// apiKey has the shape secret.NewAPIKey makes: a prefix and 40 base32
// characters.
const apiKey = "tka_XAJ36BXTGGBZFQZHCE7PVUIVXC6EABQK34CSTEP4"

func TestRedactRemovesTokensAnywhere(t *testing.T) {
	tokenID := id.New(id.Token)
	tests := []struct {
		name, in, want string
	}{
		{"path segment", "/feed/" + token + "/tmy/hourly", "/feed/{token}/tmy/hourly"},
		{"query string", "token=" + token, "token={token}"},
		{"inside a segment", "/data/tmy/x" + token + "y", "/data/tmy/x{token}y"},
		{"uppercase hex", "/feed/" + strings.ToUpper(token) + "/tmy", "/feed/{token}/tmy"},
		{"two tokens", token + "/" + token, "{token}/{token}"},
		{"a longer hex run", token + token[:8], "{token}" + token[:8]},
		{"resource template", "/feed/{token}/{service}/{proxy+}", "/feed/{token}/{service}/{proxy+}"},
		{"token ID is not a token", "/admin/tokens/" + tokenID, "/admin/tokens/" + tokenID},
		{"31 hex characters are not a token", "/data/tmy/" + token[:31], "/data/tmy/" + token[:31]},
		{"empty", "", ""},
		{"an API key in a path", "/data/tmy/" + apiKey, "/data/tmy/tka_{token}"},
		{"an API key in a query", "service=" + apiKey + "&x=1", "service=tka_{token}&x=1"},
		{"an API key's random part alone", apiKey[4:], "{token}"},
		{"an account ID is not a key", "/operator/accounts/" + id.New(id.Account), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.want == "" {
				tt.want = tt.in
			}
			got := redact.String(tt.in, redact.MaxPath)
			if got != tt.want {
				t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if strings.Contains(strings.ToLower(got), token) {
				t.Errorf("String(%q) = %q still holds the token", tt.in, got)
			}
		})
	}
}

func TestRedactCutsOnARuneBoundaryAfterRedacting(t *testing.T) {
	long := strings.Repeat("é", 600) // 1,200 bytes
	got := redact.String(long, redact.MaxPath)
	if len(got) > redact.MaxPath || !utf8.ValidString(got) {
		t.Errorf("cut to %d bytes, valid UTF-8 %v", len(got), utf8.ValidString(got))
	}
	// A token straddling the cut is redacted first, never half kept.
	straddle := strings.Repeat("a", redact.MaxPath-10) + "/" + token
	if got := redact.String(straddle, redact.MaxPath); strings.Contains(got, token[:9]) {
		t.Errorf("a cut token left %q", got[len(got)-12:])
	}
	if got := redact.String("ok\xffok", 10); !utf8.ValidString(got) {
		t.Errorf("invalid UTF-8 kept: %q", got)
	}
}

func TestRequestPathIsThePathCalledWithTheTokenRedacted(t *testing.T) {
	cases := []struct {
		name, resource string
		params         map[string]string
		want           string
	}{
		{"feed", "/feed/{token}/{service}/{proxy+}", map[string]string{"token": token, "service": "tmy", "proxy": "a/b"}, "/feed/{token}/tmy/a/b"},
		{"a malformed token is still the token", "/feed/{token}/{service}/{proxy+}", map[string]string{"token": "NOT-A-TOKEN", "service": "tmy", "proxy": "a"}, "/feed/{token}/tmy/a"},
		{"data", "/data/{service}/{proxy+}", map[string]string{"service": "tmy", "proxy": "hourly"}, "/data/tmy/hourly"},
		{"a token anywhere", "/data/{service}/{proxy+}", map[string]string{"service": token, "proxy": "x/" + strings.ToUpper(token)}, "/data/{token}/x/{token}"},
		{"quotes and controls escaped", "/data/{service}/{proxy+}", map[string]string{"service": "tmy", "proxy": "a\"b\\c\nd"}, "/data/tmy/a%22b%5Cc%0Ad"},
		{"no parameters", "/data/{service}/{proxy+}", nil, "/data/{service}/{proxy+}"},
		{"broken template", "/broken/{service", map[string]string{"service": "tmy"}, "/broken/{service"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := redact.RequestPath(tc.resource, tc.params); got != tc.want {
				t.Errorf("RequestPath(%s) = %s, want %s", tc.resource, got, tc.want)
			}
		})
	}
	huge := redact.RequestPath("/data/{service}/{proxy+}", map[string]string{"service": "tmy", "proxy": strings.Repeat("x", 5000)})
	if len(huge) != redact.MaxPath {
		t.Errorf("a 5,000-character path kept %d characters, want %d", len(huge), redact.MaxPath)
	}
}

func TestRequestQueryDropsTheTokenAndRedactsTheRest(t *testing.T) {
	cases := []struct {
		name   string
		single map[string]string
		multi  map[string][]string
		want   string
	}{
		{"none", nil, nil, ""},
		{"only the token", map[string]string{"token": token}, map[string][]string{"token": {token}}, ""},
		{"sorted, token dropped", map[string]string{"b": "2", "token": token, "a": "1"}, nil, "a=1&b=2"},
		{"multi values kept in order", nil, map[string][]string{"x": {"2", "1"}, "token": {token}}, "x=2&x=1"},
		{"a token under another name", map[string]string{"key": token}, nil, "key={token}"},
		{"escaped", map[string]string{"q": `a "b"&c`}, nil, "q=a+%22b%22%26c"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := redact.RequestQuery(tc.single, tc.multi); got != tc.want {
				t.Errorf("RequestQuery = %q, want %q", got, tc.want)
			}
		})
	}
}

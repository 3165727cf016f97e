package secret

import (
	"crypto/rand"
	"slices"
	"strings"
	"testing"
)

func findAll(text string) []int {
	var at []int
	FindTokens([]byte(text), func(i int) bool { at = append(at, i); return true })
	return at
}

func TestFindTokensFindsWordBoundedCheckedTokensOnly(t *testing.T) {
	digest := "e3b0c44298fc1c149afbf4c8996fb924" // 32 hex, check fails
	for _, tc := range []struct {
		name string
		text string
		want []int
	}{
		{"alone", checkedToken, []int{0}},
		{"in a URL query", "https://api.example.com/data/tmy/hourly?token=" + checkedToken + "&x=1", []int{46}},
		{"in a feed path", "/feed/" + checkedToken + "/tmy/hourly", []int{6}},
		{"in quotes", `token: "` + checkedToken + `"`, []int{8}},
		{"after an underscore", "TOKEN_" + checkedToken, []int{6}},
		{"two on a line", checkedToken + " " + checkedToken, []int{0, 33}},
		{"glued to a letter", "x" + checkedToken, nil},
		{"glued to a digit", checkedToken + "1", nil},
		{"inside a longer hex run", checkedToken + checkedToken, nil},
		{"uppercase", strings.ToUpper(checkedToken), nil},
		{"a digest", digest, nil},
		{"empty", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := findAll(tc.text); !slices.Equal(got, tc.want) {
				t.Errorf("FindTokens(%q) at %v, want %v", tc.text, got, tc.want)
			}
		})
	}
}

func TestFindTokensStopsWhenAsked(t *testing.T) {
	calls := 0
	FindTokens([]byte(checkedToken+" "+checkedToken), func(int) bool { calls++; return false })
	if calls != 1 {
		t.Fatalf("found called %d times after asking to stop", calls)
	}
}

func TestFindTokensAgreesWithTokenPattern(t *testing.T) {
	// TokenPattern is what the docs give other scanners; FindTokens must
	// find a subset of its matches, filtered by the check.
	re := mustCompile(t, TokenPattern)
	for _, text := range []string{"a " + checkedToken + " b", "=" + checkedToken, "x" + checkedToken, checkedToken + "_"} {
		m := re.FindStringSubmatch(text)
		found := findAll(text) != nil
		if found != (m != nil && IsToken(m[1])) {
			t.Errorf("%q: FindTokens found=%v, pattern+check=%v", text, found, m != nil && IsToken(m[1]))
		}
	}
}

func TestContainsSecretRefusesTokensAndAPIKeysAnywhere(t *testing.T) {
	key := NewAPIKey("tka_")
	for _, tc := range []struct {
		name string
		in   string
		want bool
	}{
		{"a token", checkedToken, true},
		{"a token in a sentence", "my token is " + checkedToken + ", keep it", true},
		{"a token glued to text", "tok" + checkedToken + "en", true},
		{"a token inside a longer hex run", "ab" + checkedToken + "cd", true},
		{"an uppercased token", strings.ToUpper(checkedToken), true},
		{"an email's local part", checkedToken + "@example.com", true},
		{"an origin's host", "https://" + checkedToken + ".example.com", true},
		{"an API key", key, true},
		{"an API key's body without prefix", key[4:], true},
		{"an API key under another prefix", "zz_" + key[4:], true},
		{"a digest (check fails)", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", false},
		{"a UUID without dashes", "46a4eccec1414feab118287faafc5c80", false},
		{"an ordinary name", "Production key for maps.example.com", false},
		{"shouting", "PRODUCTION TOKEN FOR THE MAPS TEAM", false},
		{"39 key characters", key[4:43], false},
		{"empty", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ContainsSecret(tc.in); got != tc.want {
				t.Errorf("ContainsSecret(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func FuzzFindTokens(f *testing.F) {
	f.Add("token=" + checkedToken)
	f.Add(checkedToken + checkedToken)
	f.Add("x" + checkedToken)
	f.Fuzz(func(t *testing.T, text string) {
		FindTokens([]byte(text), func(i int) bool {
			if i+TokenLength > len(text) || !IsToken(text[i:i+TokenLength]) {
				t.Fatalf("found %q at %d, not a token", text, i)
			}
			if !ContainsSecret(text) {
				t.Fatalf("FindTokens found a token in %q that ContainsSecret misses", text)
			}
			return true
		})
	})
}

// BenchmarkIsToken is the check per string the authorizer pays before it
// may read the store (target: at most 1 µs).
func BenchmarkIsToken(b *testing.B) {
	in := make([]string, 1024)
	var raw [16]byte
	for i := range in {
		_, _ = rand.Read(raw[:])
		in[i] = strings.ToLower(strings.ToUpper(hexString(raw[:])))
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		IsToken(in[i&1023])
		i++
	}
}

// BenchmarkFindTokens is the scanner's core on text holding a token per
// 4 KiB among hex digests, words and punctuation (SetBytes: MB/s).
func BenchmarkFindTokens(b *testing.B) {
	text := sampleText(1 << 20)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		FindTokens(text, func(int) bool { return true })
	}
}

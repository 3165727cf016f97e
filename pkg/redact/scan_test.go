package redact

import (
	"strings"
	"testing"
)

// FuzzHasTokenAgreesWithThePattern: the scan that guards every redaction
// finds a token-like run exactly when the pattern that replaces it does,
// so a fast "no" never lets a token through.
func FuzzHasTokenAgreesWithThePattern(f *testing.F) {
	for _, s := range []string{
		"", "/data/tmy/hourly", strings.Repeat("a", 31), strings.Repeat("a", 32), strings.Repeat("F", 32),
		"x" + strings.Repeat("0", 32) + "y", strings.Repeat("A", 39), strings.Repeat("A", 40), strings.Repeat("AB27", 10),
		strings.Repeat("a", 20) + "-" + strings.Repeat("a", 20), strings.Repeat("2", 40), "tka_" + strings.Repeat("Z", 40),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := HasToken(s), tokenLike.MatchString(s); got != want {
			t.Fatalf("HasToken(%q) = %v, the pattern says %v", s, got, want)
		}
	})
}

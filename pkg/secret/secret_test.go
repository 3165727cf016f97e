package secret

import (
	"strings"
	"testing"
)

func TestNewTokenIsThirtyTwoLowercaseHexAndUnique(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		tok := NewToken()
		if !IsToken(tok) {
			t.Fatalf("NewToken() = %q, not a token", tok)
		}
		if seen[tok] {
			t.Fatalf("NewToken() repeated %q", tok)
		}
		seen[tok] = true
	}
}

func TestIsToken(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"46a4eccec1414feab118287faafc5c80", true},
		{"46A4ECCEC1414FEAB118287FAAFC5C80", false},
		{"46a4eccec1414feab118287faafc5c8", false},
		{"46a4eccec1414feab118287faafc5c800", false},
		{"46a4eccec1414feab118287faafc5c8g", false},
		{"", false},
		{" 46a4eccec1414feab118287faafc5c8", false},
	} {
		if got := IsToken(tc.in); got != tc.want {
			t.Errorf("IsToken(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestAPIKeysNeverLookLikeTokens(t *testing.T) {
	for range 1000 {
		key := NewAPIKey("tka_")
		if IsToken(key) || !IsAPIKey("tka_", key) {
			t.Fatalf("key %q: IsToken=%v IsAPIKey=%v", key, IsToken(key), IsAPIKey("tka_", key))
		}
		if body := strings.TrimPrefix(key, "tka_"); len(body)*5 < 160 {
			t.Fatalf("key %q carries fewer than 160 random bits", key)
		}
	}
}

func TestIsAPIKeyRefusesOtherShapes(t *testing.T) {
	good := NewAPIKey("tka_")
	for _, in := range []string{
		"", "tka_", good[:len(good)-1], good + "A", "xyz_" + good[4:],
		"tka_" + strings.ToLower(good[4:]), "46a4eccec1414feab118287faafc5c80",
	} {
		if IsAPIKey("tka_", in) {
			t.Errorf("IsAPIKey(%q) = true", in)
		}
	}
}

func TestHashIsStableHexSHA256(t *testing.T) {
	const empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	if got := Hash(""); got != empty {
		t.Fatalf("Hash(\"\") = %s", got)
	}
	if Hash("a") == Hash("b") {
		t.Fatal("different secrets share a hash")
	}
}

func TestHintIsLastFourCharacters(t *testing.T) {
	if got := Hint("46a4eccec1414feab118287faafc5c80"); got != "5c80" {
		t.Fatalf("Hint = %q", got)
	}
}

package secret

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"hash/crc32"
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

// checkedToken is a token whose check holds: 46a4eccec1414feab118287f and
// its CRC-32 (as Python's zlib.crc32 computes it: 0x5af26f03).
const checkedToken = "46a4eccec1414feab118287f5af26f03"

func TestNewTokenEndsWithTheCRC32OfItsRandomBytes(t *testing.T) {
	for range 100 {
		tok := NewToken()
		raw, err := hex.DecodeString(tok)
		if err != nil || len(raw) != 16 {
			t.Fatalf("NewToken() = %q: not 16 bytes of hex", tok)
		}
		if got, want := binary.BigEndian.Uint32(raw[12:]), crc32.ChecksumIEEE(raw[:12]); got != want {
			t.Fatalf("NewToken() = %q: check %08x, want %08x", tok, got, want)
		}
	}
}

func TestIsTokenAcceptsOnlyLowercaseHexWithAValidCheck(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want bool
	}{
		{"checked token", checkedToken, true},
		{"check of another random part", "46a4eccec1414feab118287faafc5c80", false},
		{"one random digit changed", "46a4eccec1414feab118287e5af26f03", false},
		{"one check digit changed", "46a4eccec1414feab118287f5af26f04", false},
		{"uppercase", strings.ToUpper(checkedToken), false},
		{"short", checkedToken[:31], false},
		{"long", checkedToken + "0", false},
		{"not hex", checkedToken[:31] + "g", false},
		{"empty", "", false},
		{"leading space", " " + checkedToken[:31], false},
		{"sha-256 half", "e3b0c44298fc1c149afbf4c8996fb924", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsToken(tc.in); got != tc.want {
				t.Errorf("IsToken(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestIsTokenShapedIgnoresTheCheck(t *testing.T) {
	if !IsTokenShaped("46a4eccec1414feab118287faafc5c80") || IsTokenShaped(strings.ToUpper(checkedToken)) {
		t.Fatal("IsTokenShaped judges more than the shape")
	}
}

// TestRandomHexFailsTheCheckAlmostAlways: of 100,000 random 32-hex
// strings, the expected number passing is 100,000 / 2^32 (0.00002); more
// than one means the check is not doing its job.
func TestRandomHexFailsTheCheckAlmostAlways(t *testing.T) {
	var b [16]byte
	passed := 0
	for range 100_000 {
		_, _ = rand.Read(b[:])
		if IsToken(hex.EncodeToString(b[:])) {
			passed++
		}
	}
	if passed > 1 {
		t.Fatalf("%d of 100000 random strings passed the check", passed)
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
		"tka_" + strings.ToLower(good[4:]), checkedToken,
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
	if got := Hint(checkedToken); got != "6f03" {
		t.Fatalf("Hint = %q", got)
	}
}

// Package secret makes, recognises and hashes the two bearer secrets of the
// service: data tokens (32 lowercase hex characters, as the product's source
// documents fix them) and account API keys (a prefixed, longer string from a
// wider alphabet, so the two can never be confused).
//
// Secrets are shown to a caller once and stored only as their SHA-256 digest.
// A plain digest (no salt, no slow KDF) is the right tool here: both secrets
// carry at least 128 random bits, so there is nothing to brute-force, and a
// deterministic digest lets the authorizer find a token with one GetItem.
package secret

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// TokenLength is the length of a data token: 16 random bytes in hex.
const TokenLength = 32

// apiKeyBodyLength is the number of base32 characters after the prefix:
// 40 characters of 5 bits each, 200 random bits.
const apiKeyBodyLength = 40

// NewToken returns a fresh data token: 128 bits from the operating system's
// CSPRNG, hex encoded. crypto/rand.Read never fails on supported platforms.
func NewToken() string {
	var b [TokenLength / 2]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// IsToken reports whether s has the exact shape of a data token. It is the
// cheap gate that lets the authorizer refuse garbage without a database call.
func IsToken(s string) bool {
	if len(s) != TokenLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// NewAPIKey returns a fresh API key: prefix followed by 200 random bits in
// base32 (A–Z, 2–7). The prefix makes a leaked key recognisable to secret
// scanners, and the alphabet and length keep it distinct from data tokens.
func NewAPIKey(prefix string) string {
	body := rand.Text() + rand.Text()
	return prefix + body[:apiKeyBodyLength]
}

// IsAPIKey reports whether s has the shape of an API key with prefix.
func IsAPIKey(prefix, s string) bool {
	body, ok := strings.CutPrefix(s, prefix)
	if !ok || len(body) != apiKeyBodyLength {
		return false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if (c < 'A' || c > 'Z') && (c < '2' || c > '7') {
			return false
		}
	}
	return true
}

// Hash returns the hex SHA-256 digest under which a secret is stored.
func Hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// Hint returns the last four characters of a secret: enough for a person to
// tell two secrets apart, far too little to guess one.
func Hint(s string) string {
	if len(s) <= 4 {
		return s
	}
	return s[len(s)-4:]
}

// Package secret makes, recognises and hashes the two bearer secrets of the
// service: data tokens (32 lowercase hex characters, as the product's source
// documents fix them) and account API keys (a prefixed, longer string from a
// wider alphabet, so the two can never be confused).
//
// A token is the hex of 12 random bytes followed by the hex of their CRC-32
// (IEEE, as zlib computes it, big-endian): 96 random bits and a 32-bit check.
// The check makes a token recognisable without a database: a mistyped or
// made-up string fails it (all but one in 2^32 do), so the authorizer
// refuses it before any store call, and a scanner finds tokens pasted into
// any text with near-zero false positives. A prefix would do the same for a
// scanner, but the product's source fixes tokens as 32 hex characters and
// nothing else; a check fits inside that format.
//
// Secrets are shown to a caller once and stored only as their SHA-256 digest.
// A plain digest (no salt, no slow KDF) is the right tool here: both secrets
// carry at least 128 random bits, so there is nothing to brute-force, and a
// deterministic digest lets the authorizer find a token with one GetItem.
package secret

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash/crc32"
	"strings"
)

// TokenLength is the length of a data token: 12 random bytes and their
// 4-byte CRC-32, in hex.
const TokenLength = 32

// The parts of a token, in bytes.
const (
	tokenRandomBytes = 12
	tokenCheckBytes  = 4
)

// apiKeyBodyLength is the number of base32 characters after the prefix:
// 40 characters of 5 bits each, 200 random bits.
const apiKeyBodyLength = 40

// NewToken returns a fresh data token: 12 bytes (96 bits) from the
// operating system's CSPRNG and their CRC-32, hex encoded. crypto/rand.Read
// never fails on supported platforms.
func NewToken() string {
	var b [tokenRandomBytes + tokenCheckBytes]byte
	_, _ = rand.Read(b[:tokenRandomBytes])
	binary.BigEndian.PutUint32(b[tokenRandomBytes:], crc32.ChecksumIEEE(b[:tokenRandomBytes]))
	return hex.EncodeToString(b[:])
}

// IsToken reports whether s is a data token: 32 lowercase hex characters
// whose last 8 are the CRC-32 of the bytes the first 24 encode. It reads
// no store, allocates nothing, and is the one test of "is this a token"
// for every caller: the authorizer, leak reports, the input checks and
// scripts/tokenscan.
func IsToken(s string) bool {
	return IsTokenShaped(s) && HasValidCheck(s)
}

// IsTokenShaped reports whether s has a token's shape, 32 lowercase hex
// characters, whatever its check holds.
func IsTokenShaped(s string) bool {
	if len(s) != TokenLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isLowerHex(s[i]) {
			return false
		}
	}
	return true
}

// HasValidCheck reports whether a token-shaped s carries the check of its
// random part. It is false for anything not token-shaped.
func HasValidCheck(s string) bool {
	return len(s) == TokenLength && validCheck([]byte(s))
}

// validCheck reports whether the 32 hex characters of src (either letter
// case) are 12 bytes followed by their CRC-32, big-endian.
func validCheck(src []byte) bool {
	var b [tokenRandomBytes + tokenCheckBytes]byte
	if _, err := hex.Decode(b[:], src); err != nil {
		return false
	}
	return crc32.ChecksumIEEE(b[:tokenRandomBytes]) == binary.BigEndian.Uint32(b[tokenRandomBytes:])
}

func isLowerHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' }

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

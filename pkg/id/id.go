// Package id makes the public, non-secret identifiers of accounts, users,
// tokens and API keys: a short type prefix and a lowercase ULID.
//
// ULIDs (github.com/oklog/ulid/v2) sort by creation time, which is what the
// storage layer relies on to list tokens newest first and to find an
// account's earliest token with a plain Query, and they are unique without
// coordination between Lambda instances. The prefix tells a reader what an
// ID names (acc_, usr_, tok_, key_) and lets handlers refuse a user ID where a
// token ID belongs before touching the store.
package id

import (
	"strings"

	"github.com/oklog/ulid/v2"
)

// Prefixes of the identifier kinds.
const (
	Account = "acc_"
	User    = "usr_"
	Token   = "tok_"
	APIKey  = "key_"
)

// New returns a new identifier of the kind prefix names.
func New(prefix string) string {
	return prefix + strings.ToLower(ulid.Make().String())
}

// Valid reports whether s is an identifier of the kind prefix names.
func Valid(prefix, s string) bool {
	body, ok := strings.CutPrefix(s, prefix)
	if !ok || len(body) != ulid.EncodedSize {
		return false
	}
	_, err := ulid.ParseStrict(body)
	return err == nil
}

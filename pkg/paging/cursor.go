package paging

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"

	"github.com/go-json-experiment/json"
)

// Cursor limits. A DynamoDB sort key holds at most 1,024 bytes, so no
// position a store issued is longer; the cursors of our listings are far
// shorter than MaxCursorLength.
const (
	MaxCursorLength = 2048
	MaxKeyBytes     = 1024
)

// cursor is the one format of every listing's cursor: the scope it was
// issued for and the position (the key parts of the last item returned).
type cursor struct {
	Scope string   `json:"s"`
	Keys  []string `json:"k"`
}

// Scope names what a cursor is bound to: the owner (the account) and every
// filter of the listing, each a part. A cursor issued under one scope is
// refused under any other, so a cursor replayed by another account or with
// other filters answers ErrBadCursor rather than a page from a position in
// someone else's listing.
//
// The scope is a digest, not a signature: partition keys always come from
// the caller's own account, so a forged cursor can only skip ahead in the
// caller's listing. The binding is there to tell a careless client its
// cursor does not belong to this request.
func Scope(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// EncodeCursor returns the cursor of the position keys in scope.
func EncodeCursor(scope string, keys ...string) string {
	b, _ := json.Marshal(cursor{Scope: scope, Keys: keys}) // strings only: cannot fail
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor returns the n key parts of a cursor EncodeCursor issued in
// scope, or ErrBadCursor for anything else: too long, not our encoding, of
// another scope, of another shape, or holding a part no DynamoDB key could
// (empty, over MaxKeyBytes). The store checks what the parts mean.
func DecodeCursor(s, scope string, n int) ([]string, error) {
	if len(s) > MaxCursorLength {
		return nil, ErrBadCursor
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, ErrBadCursor
	}
	var c cursor
	if err := json.Unmarshal(raw, &c, json.RejectUnknownMembers(true)); err != nil {
		return nil, ErrBadCursor
	}
	if c.Scope != scope || len(c.Keys) != n {
		return nil, ErrBadCursor
	}
	for _, k := range c.Keys {
		if k == "" || len(k) > MaxKeyBytes || strings.ContainsRune(k, 0) {
			return nil, ErrBadCursor
		}
	}
	return c.Keys, nil
}

// Package paging is the one shape of every listing of the HTTP API: a
// request for a page (a limit and an opaque cursor), the page that answers
// it, and the bounds PRODUCT.md sets (limit 1–100, default 50), and the
// one cursor codec every store uses (EncodeCursor, DecodeCursor): a
// cursor is bound to its owner and the listing's filters, and shape- and
// size-checked before any part of it reaches a store. Which key parts a
// cursor holds is the store's.
package paging

import "github.com/acmedata/tokenservice/pkg/apperr"

// The listing bounds of PRODUCT.md.
const (
	DefaultLimit = 50
	MaxLimit     = 100
)

// ErrBadCursor is returned for a cursor no store issued for this listing:
// garbage, forged, or issued to another account or with other filters.
var ErrBadCursor = &apperr.Error{Kind: apperr.KindInvalid, Code: "bad_cursor", Message: "cursor is not valid for this listing; start again without it"}

// Request asks a store for one page of a listing.
type Request struct {
	Limit  int    // 1–100
	Cursor string // opaque, from the previous page's NextCursor
}

// Page is one page of a listing; NextCursor is empty on the last page.
type Page[T any] struct {
	Items      []T
	NextCursor string
}

// Validate applies the listing defaults and bounds.
func Validate(p Request) (Request, error) {
	if p.Limit == 0 {
		p.Limit = DefaultLimit
	}
	if p.Limit < 1 || p.Limit > MaxLimit {
		return p, apperr.Invalid("invalid_limit", "limit must be between 1 and %d", MaxLimit)
	}
	return p, nil
}

package usagestore

import (
	"strings"

	"github.com/acmedata/tokenservice/pkg/paging"
	"github.com/acmedata/tokenservice/pkg/usage"
)

// A usage cursor is paging's cursor holding the last sort key returned,
// bound to the query (the account and every filter), so a cursor from
// another account or another filter is refused rather than silently
// misread.

// queryID names a query by everything but its page.
func queryID(accountID string, f usage.Filter) string {
	parts := []string{accountID, f.Service, f.TokenID, f.UserID, f.From.UTC().String(), f.To.UTC().String()}
	if st := f.Status.String(); st != "" {
		// Only when set, so cursors issued before the filter existed
		// still read their pages.
		parts = append(parts, "status="+st)
	}
	return paging.Scope(parts...)
}

func encodeCursor(qid, after string) string { return paging.EncodeCursor(qid, after) }

// decodeCursor returns the sort key a cursor of query qid holds; a key not
// of sortKey's shape is refused before it reaches a key condition.
func decodeCursor(s, qid string) (string, error) {
	keys, err := paging.DecodeCursor(s, qid, 1)
	if err != nil {
		return "", err
	}
	if !isSortKey(keys[0]) {
		return "", paging.ErrBadCursor
	}
	return keys[0], nil
}

// isSortKey reports whether k has sortKey's shape: 13 digits of epoch
// milliseconds, '#', a request ID.
func isSortKey(k string) bool {
	millis, requestID, ok := strings.Cut(k, "#")
	if !ok || len(millis) != 13 || requestID == "" {
		return false
	}
	return strings.Trim(millis, "0123456789") == ""
}

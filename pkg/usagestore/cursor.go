package usagestore

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/acmedata/tokenservice/pkg/paging"
	"github.com/acmedata/tokenservice/pkg/usage"
)

// cursor is the opaque page cursor: the last sort key returned, and which
// query it belongs to, so a cursor from another account or another filter
// is refused rather than silently misread.
type cursor struct {
	Query string `json:"q"`
	After string `json:"a"`
}

// queryID names a query by everything but its page.
func queryID(accountID string, f usage.Filter) string {
	h := sha256.Sum256([]byte(strings.Join([]string{
		accountID, f.Service, f.TokenID, f.UserID, f.From.UTC().String(), f.To.UTC().String(),
	}, "\x00")))
	return hex.EncodeToString(h[:8])
}

func encodeCursor(qid, after string) string {
	b, _ := json.Marshal(cursor{Query: qid, After: after}) // two strings: cannot fail
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s, qid string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return "", paging.ErrBadCursor
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil || c.Query != qid || c.After == "" {
		return "", paging.ErrBadCursor
	}
	return c.After, nil
}

package usage

import (
	"regexp"
	"time"

	"github.com/acmedata/tokenservice/pkg/apperr"
)

// Retention is how long a record is kept: DynamoDB's TTL deletes it after
// its call time plus Retention, and reads never return it after that even
// while it still exists (TTL deletes within days, not at the second).
const Retention = 7 * 24 * time.Hour

// Record is one call made with a token, served or refused.
type Record struct {
	Time      time.Time // when API Gateway received the call
	RequestID string    // API Gateway's request ID: the record's identity
	AccountID string
	TokenID   string
	UserID    string // empty for a userless token
	Service   string
	Method    string
	Path      string // the resource path with any token redacted
	Status    int
	LatencyMs int64
	SourceIP  string
}

// ExpiresAt is when the record leaves the history.
func (r Record) ExpiresAt() time.Time { return r.Time.Add(Retention) }

// tokenLike matches what a token looks like (PRODUCT.md: 32 lowercase hex
// characters), wherever it appears.
var tokenLike = regexp.MustCompile(`[0-9a-fA-F]{32}`)

// Redacted is what replaces a token in a path.
const Redacted = "{token}"

// RedactPath replaces anything shaped like a token in p. Access logs carry
// the resource template (/feed/{token}/...), which holds no token; this is
// the second lock, for a line that carried a concrete path by mistake.
func RedactPath(p string) string { return tokenLike.ReplaceAllString(p, Redacted) }

// Filter narrows a history query. Zero values do not narrow.
type Filter struct {
	Service string
	TokenID string
	UserID  string
	From    time.Time // inclusive
	To      time.Time // inclusive
}

// Window returns the time range a query over f may return at now: f's
// range clamped to the last Retention. ok is false when nothing can match
// (the range lies wholly outside the retention period).
func (f Filter) Window(now time.Time) (from, to time.Time, ok bool) {
	from, to = now.Add(-Retention), now
	if f.From.After(from) {
		from = f.From
	}
	if !f.To.IsZero() && f.To.Before(to) {
		to = f.To
	}
	return from, to, !from.After(to)
}

// Validate checks a filter given by a caller.
func (f Filter) Validate() error {
	if !f.From.IsZero() && !f.To.IsZero() && f.From.After(f.To) {
		return apperr.Invalid("invalid_time_range", "from must not be after to")
	}
	return nil
}

package usage

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/redact"
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
	Path      string // the path called, a path-form token as redact.Marker (redact.RequestPath)
	Query     string // the query string without the token (redact.RequestQuery)
	Status    int
	LatencyMs int64
	SourceIP  string
}

// ExpiresAt is when the record leaves the history.
func (r Record) ExpiresAt() time.Time { return r.Time.Add(Retention) }

// Filter narrows a history query. Zero values do not narrow.
type Filter struct {
	Service string
	TokenID string
	UserID  string
	Status  Status
	From    time.Time // inclusive
	To      time.Time // inclusive
}

// Status narrows calls by the HTTP status they were answered with: one
// status (403) or a class of them (4xx). The zero Status matches every
// call.
type Status struct {
	code  int // 100-599, or 1-5 for a class
	class bool
}

// ParseStatus reads a status filter: a status from 100 to 599 ("403"), or
// a class from 1xx to 5xx ("4xx", any letter case); "" is no filter.
func ParseStatus(s string) (Status, error) {
	switch {
	case s == "":
		return Status{}, nil
	case len(s) == 3 && strings.EqualFold(s[1:], "xx") && s[0] >= '1' && s[0] <= '5':
		return Status{code: int(s[0] - '0'), class: true}, nil
	case len(s) == 3 && strings.Trim(s, "0123456789") == "" && s[0] >= '1' && s[0] <= '5':
		n, _ := strconv.Atoi(s) // three digits: no error
		return Status{code: n}, nil
	}
	return Status{}, apperr.Invalid("invalid_status", "status must be an HTTP status from 100 to 599 (403) or a class from 1xx to 5xx (4xx)")
}

// Matches reports whether a call answered with status passes the filter.
func (s Status) Matches(status int) bool {
	switch {
	case s.code == 0:
		return true
	case s.class:
		return status/100 == s.code
	}
	return status == s.code
}

// String is the filter as ParseStatus reads it ("403", "4xx"), "" for none.
func (s Status) String() string {
	switch {
	case s.code == 0:
		return ""
	case s.class:
		return strconv.Itoa(s.code) + "xx"
	}
	return strconv.Itoa(s.code)
}

// StatusTags are the values a Status filter's String takes that match a
// call answered with status: its status and its class ("403", "4xx"). A
// store can keep them beside calls it packs together, so a filter passes
// over a pack that holds no match without opening it.
func StatusTags(status int) []string {
	if status < 100 || status > 599 {
		return nil
	}
	return []string{strconv.Itoa(status), strconv.Itoa(status/100) + "xx"}
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

// Validate checks a filter given by a caller. The filters a store builds
// keys from (tokenId, userId, service) must be what a record can hold
// (Record.Validate, redact.MaxService): anything longer, or holding the key
// separator, matches no record and could make a key DynamoDB refuses, so
// it is a 400 naming the filter, never its value.
func (f Filter) Validate() error {
	if !f.From.IsZero() && !f.To.IsZero() && f.From.After(f.To) {
		return apperr.Invalid("invalid_time_range", "from must not be after to")
	}
	if f.TokenID != "" && !keySafe(f.TokenID) {
		return apperr.Invalid("invalid_token_id", "tokenId is not a token ID")
	}
	if f.UserID != "" && !keySafe(f.UserID) {
		return apperr.Invalid("invalid_user_id", "userId is not a user ID")
	}
	if f.Service != "" && (len(f.Service) > redact.MaxService || !keySafe(f.Service)) {
		return apperr.Invalid("invalid_service", "service is not a service name")
	}
	return nil
}

// ErrInvalidRecord reports a record that cannot become a key: see
// Record.Validate.
var ErrInvalidRecord = errors.New("usage: invalid record")

// Bounded returns r with every free-text field redacted and cut to its
// bound (service, method, path, query, source IP): what a log line says
// can be anything, and what a record keeps is bounded and holds no token.
func (r Record) Bounded() Record {
	r.Service = redact.String(r.Service, redact.MaxService)
	r.Method = redact.String(r.Method, redact.MaxField)
	r.Path = redact.String(r.Path, redact.MaxPath)
	r.Query = redact.String(r.Query, redact.MaxQuery)
	r.SourceIP = redact.String(r.SourceIP, redact.MaxField)
	return r
}

// Validate checks the fields a record's keys are made of: request,
// account, token and user IDs are 1 to redact.MaxField printable ASCII
// characters without '#' (the key separator) or a token's shape, and the
// call time lies between 2000 and a day from now. A record that fails is never written:
// the recorder sets it aside. The message names the field, never its value.
func (r Record) Validate(now time.Time) error {
	for _, f := range []struct {
		name, v  string
		optional bool
	}{
		{"requestId", r.RequestID, false}, {"accountId", r.AccountID, false},
		{"tokenId", r.TokenID, false}, {"userId", r.UserID, true},
	} {
		if f.v == "" && f.optional {
			continue
		}
		if !keySafe(f.v) {
			return fmt.Errorf("%w: %s is not an identifier", ErrInvalidRecord, f.name)
		}
	}
	if r.Time.Year() < 2000 || r.Time.After(now.Add(24*time.Hour)) {
		return fmt.Errorf("%w: call time out of range", ErrInvalidRecord)
	}
	if r.Status < 0 || r.Status > 999 || r.LatencyMs < 0 {
		return fmt.Errorf("%w: status or latency out of range", ErrInvalidRecord)
	}
	return nil
}

func keySafe(s string) bool {
	if s == "" || len(s) > redact.MaxField || redact.HasToken(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c > '~' || c == '#' {
			return false
		}
	}
	return true
}

// RejectedError reports the records a store refused for what they hold
// (DynamoDB's ValidationException for one item) after writing the rest:
// no retry can cure them, so the recorder sets them aside.
type RejectedError struct {
	Records []Record
	Cause   error
}

func (e *RejectedError) Error() string {
	return fmt.Sprintf("usage: %d records refused: %v", len(e.Records), e.Cause)
}

func (e *RejectedError) Unwrap() error { return e.Cause }

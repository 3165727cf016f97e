package usage

import (
	"time"

	"github.com/acmedata/tokenservice/pkg/apperr"
)

// CountRetention is how long hourly counts are kept: they outlive the
// records (PRODUCT.md: the summary covers the last 90 days).
const CountRetention = 90 * 24 * time.Hour

// Interval is the width of a summary bucket.
type Interval string

// The summary intervals.
const (
	Hour Interval = "hour"
	Day  Interval = "day"
)

// Duration is the width of one bucket.
func (i Interval) Duration() time.Duration {
	if i == Day {
		return 24 * time.Hour
	}
	return time.Hour
}

// GroupBy splits a summary into one series per token, user or service;
// NoGroup sums the account's calls.
type GroupBy string

// The summary groupings.
const (
	NoGroup        GroupBy = ""
	GroupByToken   GroupBy = "token"
	GroupByUser    GroupBy = "user"
	GroupByService GroupBy = "service"
)

// Counts are calls by status class. Total holds every call, so a status
// outside the three classes (1xx, 3xx) still counts.
type Counts struct {
	Class2xx, Class4xx, Class5xx, Total int64
}

// CountsOf is the Counts of one call answered with status.
func CountsOf(status int) Counts {
	c := Counts{Total: 1}
	switch status / 100 {
	case 2:
		c.Class2xx = 1
	case 4:
		c.Class4xx = 1
	case 5:
		c.Class5xx = 1
	}
	return c
}

// Add returns c plus o.
func (c Counts) Add(o Counts) Counts {
	return Counts{c.Class2xx + o.Class2xx, c.Class4xx + o.Class4xx, c.Class5xx + o.Class5xx, c.Total + o.Total}
}

// SummaryQuery asks for an account's call counts. Filter narrows as the
// usage list does; its From and To are widened to whole buckets.
type SummaryQuery struct {
	Filter
	Interval Interval
	GroupBy  GroupBy
}

// Bucket is one interval's counts of one group (Group is "" with NoGroup:
// the token ID, user ID or service otherwise).
type Bucket struct {
	Start  time.Time
	Group  string
	Counts Counts
}

// Validate checks a query given by a caller.
func (q SummaryQuery) Validate() error {
	switch q.Interval {
	case Hour, Day:
	default:
		return apperr.Invalid("invalid_interval", "interval must be hour or day")
	}
	switch q.GroupBy {
	case NoGroup, GroupByToken, GroupByUser, GroupByService:
	default:
		return apperr.Invalid("invalid_group_by", "groupBy must be token, user or service")
	}
	return q.Filter.Validate()
}

// Window returns the buckets' range at now: [from, to) in whole
// intervals (UTC), never reaching past CountRetention. With no From it
// starts a day back for hours and 30 days back for days. ok is false when
// nothing can match.
func (q SummaryQuery) Window(now time.Time) (from, to time.Time, ok bool) {
	width := q.Interval.Duration()
	oldest := now.Add(-CountRetention).Truncate(width)
	from = q.From
	if from.IsZero() {
		from = now.Add(-width * map[Interval]time.Duration{Hour: 24, Day: 30}[q.Interval])
	}
	from = from.UTC().Truncate(width)
	if from.Before(oldest) {
		from = oldest
	}
	to = now
	if !q.To.IsZero() && q.To.Before(now) {
		to = q.To
	}
	to = to.UTC().Truncate(width).Add(width)
	return from, to, from.Before(to)
}

// Summary is a summary query's answer: the window it covers, [From, To)
// in whole intervals, and the non-empty buckets in it, oldest first, then
// by group.
type Summary struct {
	From, To time.Time
	Buckets  []Bucket
}

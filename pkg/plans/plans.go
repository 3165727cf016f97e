// Package plans is the domain of plans: operator-defined limits on calls
// (a rate with a burst, and optionally a quota per UTC day, week or month),
// and the narrow interface of the engine that enforces them at the gateway.
//
// Enforcement is never ours: on AWS it is API Gateway's usage plans (a
// distributed token bucket and quota counter at the edge), locally the
// gateway twin's copy of them (pkg/local). Both count calls per *usage
// key*: one key per plan assignment (an account's service, or a token with
// a plan of its own), which the authorizer returns with every Allow as
// usageIdentifierKey. The key a decision needs lives on an item the
// decision already reads (the token, the account's gate), so a plan costs
// the authorizer no read. docs/limits.md tells the whole design.
package plans

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Bounds of a plan's fields (PRODUCT.md).
const (
	MinRate  = 0.1
	MaxRate  = 10_000
	MinBurst = 1
	MaxBurst = 5_000
)

// Period is a quota's period; it starts at a UTC boundary.
type Period string

// Quota periods.
const (
	Day   Period = "day"
	Week  Period = "week" // starts on Monday, as API Gateway's WEEK does
	Month Period = "month"
)

// Valid reports whether p is one of the periods.
func (p Period) Valid() bool { return p == Day || p == Week || p == Month }

// Start is when the period holding t began (UTC midnight, Monday or the
// first of the month).
func (p Period) Start(t time.Time) time.Time {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	switch p {
	case Week:
		return day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
	case Month:
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	default:
		return day
	}
}

// End is when the period holding t ends: the next one's start, when a
// quota_exceeded caller may call again.
func (p Period) End(t time.Time) time.Time {
	start := p.Start(t)
	switch p {
	case Week:
		return start.AddDate(0, 0, 7)
	case Month:
		return start.AddDate(0, 1, 0)
	default:
		return start.AddDate(0, 0, 1)
	}
}

// Quota is a plan's limit on calls per period.
type Quota struct {
	Limit  int64
	Period Period
}

// Plan is an operator-defined limit on calls.
type Plan struct {
	ID   string
	Name string
	// Rate is the steady rate in requests per second, Burst the bucket's
	// size: a token bucket, as API Gateway throttles.
	Rate  float64
	Burst int
	Quota *Quota // nil: no quota
	// CreatedAt and UpdatedAt are the store's.
	CreatedAt, UpdatedAt time.Time
}

// Key is one usage key of the engine: the budget of one plan assignment.
type Key struct {
	// Value is what the authorizer returns as usageIdentifierKey. It is
	// never shown to anyone; with the API's key source AUTHORIZER a
	// caller cannot present it, so it grants nothing by itself.
	Value  string
	PlanID string
}

// CheckKeyValue refuses what cannot be an API Gateway API key's value:
// anything but 20 to 128 letters and digits. Both engines check it, so a
// value the local twin takes is one AWS takes too.
func CheckKeyValue(v string) error {
	if n := len(v); n < 20 || n > 128 {
		return fmt.Errorf("plans: a usage key of %d characters; API Gateway takes 20 to 128", n)
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return errors.New("plans: a usage key holds a character other than a letter or digit; API Gateway refuses it")
		}
	}
	return nil
}

// Engine is the control plane of the limiter at the gateway: API Gateway's
// usage plans on AWS, the local gateway twin's locally. It cannot take
// part in a store transaction, so a reconciler brings it to what the
// store says; every method is idempotent for that reason.
type Engine interface {
	// PutPlan creates the engine's plan p.ID or updates its rate, burst
	// and quota.
	PutPlan(ctx context.Context, p Plan) error
	// DeletePlan removes plan planID; nothing if there is none.
	DeletePlan(ctx context.Context, planID string) error
	// PutKey makes k.Value a key counted by plan k.PlanID, creating the
	// key if there is none.
	PutKey(ctx context.Context, k Key) error
	// DeleteKey removes the key; nothing if there is none.
	DeleteKey(ctx context.Context, value string) error
	// QuotaUsage is how many calls k's plan counted against k's quota
	// in the period holding now (0 for a plan without quota).
	QuotaUsage(ctx context.Context, k Key, now time.Time) (int64, error)
}

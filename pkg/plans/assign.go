package plans

import (
	"crypto/sha256"
	"encoding/base32"
	"math"
	"strings"

	"github.com/acmedata/tokenservice/pkg/apperr"
)

// IDPrefix marks a plan's ID (pln_ and a lowercase ULID, as pkg/id makes).
const IDPrefix = "pln_"

// Validate checks a plan's limits against the bounds of PRODUCT.md: rate
// 0.1–10,000 requests/s, burst 1–5,000, a quota of at least one call per
// day, week or month. The name is the caller's to check (tokens.ValidateName).
func Validate(p Plan) error {
	if math.IsNaN(p.Rate) || p.Rate < MinRate || p.Rate > MaxRate {
		return apperr.Invalid("invalid_rate", "rate must be between %g and %d requests per second", MinRate, MaxRate)
	}
	if p.Burst < MinBurst || p.Burst > MaxBurst {
		return apperr.Invalid("invalid_burst", "burst must be a whole number between %d and %d", MinBurst, MaxBurst)
	}
	if q := p.Quota; q != nil {
		if q.Limit < 1 || q.Limit > MaxQuotaLimit {
			return apperr.Invalid("invalid_quota", "quota.limit must be a whole number between 1 and %d", int64(MaxQuotaLimit))
		}
		if !q.Period.Valid() {
			return apperr.Invalid("invalid_quota", "quota.period must be %q, %q or %q", Day, Week, Month)
		}
	}
	return nil
}

// MaxQuotaLimit bounds a quota's limit: API Gateway takes an int32, and a
// larger number would be no limit anyway.
const MaxQuotaLimit = math.MaxInt32

// Assignment names what a plan is assigned to: an account's service
// (Service set) or one token (TokenID set). Each has its own usage key.
type Assignment struct {
	AccountID string
	Service   string // an account's plan for this service
	TokenID   string // a token's own plan
}

// String is the assignment's stable name, the input of KeyFor.
func (a Assignment) String() string {
	if a.TokenID != "" {
		return "token/" + a.TokenID
	}
	return "account/" + a.AccountID + "/" + a.Service
}

// KeyPrefix marks every usage key value. It is neither a token (32 hex)
// nor an API key (tka_), so no secret scan mistakes one for either; no
// separator, as API Gateway takes letters and digits only (CheckKeyValue).
const KeyPrefix = "tkp"

var keyEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// KeyFor is the usage key value of assignment a in plan planID: derived,
// so that a reconciler that crashed after making the key finds the same
// one again, and a new plan for the same assignment is a new key (a key
// never moves between plans). It is never shown to anyone; with the
// gateway's key source AUTHORIZER a caller cannot present it, so knowing
// it grants nothing.
func KeyFor(a Assignment, planID string) string {
	sum := sha256.Sum256([]byte("tokenservice usage key v1\x00" + a.String() + "\x00" + planID))
	return KeyPrefix + strings.ToLower(keyEncoding.EncodeToString(sum[:25]))
}

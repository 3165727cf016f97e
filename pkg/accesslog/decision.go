package accesslog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// Decision is the authorizer's verdict on one call, as its decision log
// line states it.
type Decision string

// The authorizer's decisions.
const (
	DecisionAllow        Decision = "allow"
	DecisionDeny         Decision = "deny"         // 403, context in the access log
	DecisionUnauthorized Decision = "unauthorized" // 401, no context in the access log
)

// decisionKey marks an authorizer decision line; access-log lines never
// carry it.
const decisionKey = "decision"

// IsDecision reports whether line looks like an authorizer decision line
// rather than an access-log line. It is a cheap test for routing a line to
// ParseDecision; ParseDecision does the real validation.
func IsDecision(line []byte) bool {
	return bytes.Contains(line, []byte(`"`+decisionKey+`"`))
}

// DecisionOf returns the decision a decision line states, "" for a line
// that states none. It is what the authorizer log group's subscription
// filter matches on AWS ({ $.decision = "unauthorized" }), so a local
// shipper can deliver exactly the lines CloudWatch Logs would.
func DecisionOf(line []byte) Decision {
	var f struct {
		Decision Decision `json:"decision"`
	}
	if !IsDecision(line) || json.Unmarshal(line, &f) != nil {
		return ""
	}
	return f.Decision
}

// ParseDecision reads the authorizer's structured decision line (one JSON
// object: requestId, accountId, tokenId, userId, service, outcome,
// httpMethod, resourcePath, sourceIp, decision, and the logger's time). It
// returns the call as an Entry whose Status is what the decision answers
// (401 or 403; 0 for allow, whose status only the access log knows) and
// whose time is the line's requestTimeEpoch if present, else its time,
// else fallback (the CloudWatch event's timestamp).
func ParseDecision(line []byte, fallback time.Time) (Entry, Decision, error) {
	f, err := decodeFields(line)
	if err != nil {
		return Entry{}, "", err
	}
	d := Decision(f.str(decisionKey))
	e := f.call()
	if e.ResourcePath == "" {
		e.ResourcePath = f.str("resource")
	}
	switch d {
	case DecisionUnauthorized:
		e.Status = http.StatusUnauthorized
	case DecisionDeny:
		e.Status = http.StatusForbidden
	case DecisionAllow:
	default:
		return Entry{}, "", fmt.Errorf("%w: unknown decision %q", ErrMalformed, d)
	}
	if e.RequestTimeEpoch, err = f.int("requestTimeEpoch"); err != nil {
		return Entry{}, "", err
	}
	if e.RequestTimeEpoch == 0 {
		at := fallback
		if t, err := time.Parse(time.RFC3339Nano, f.str("time")); err == nil {
			at = t
		}
		e.RequestTimeEpoch = at.UnixMilli()
	}
	if e.RequestID == "" || e.RequestTimeEpoch <= 0 {
		return Entry{}, "", fmt.Errorf("%w: no request ID or time", ErrMalformed)
	}
	return e, d, nil
}

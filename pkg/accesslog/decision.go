package accesslog

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/acmedata/tokenservice/pkg/redact"
)

// Decision is the authorizer's verdict on one call, as its decision line
// states it.
type Decision string

// The authorizer's decisions.
const (
	DecisionAllow        Decision = "allow"
	DecisionDeny         Decision = "deny"         // 403, context in the access log
	DecisionUnauthorized Decision = "unauthorized" // 401, no context in the access log
	DecisionError        Decision = "error"        // 500: the authorizer could not decide
)

// Status is the HTTP status API Gateway answers for d; 0 for an allow,
// whose status only the access log knows.
func (d Decision) Status() int {
	switch d {
	case DecisionDeny:
		return http.StatusForbidden
	case DecisionUnauthorized:
		return http.StatusUnauthorized
	case DecisionError:
		return http.StatusInternalServerError
	}
	return 0
}

// DecisionMessage is the msg of every decision line.
const DecisionMessage = "authorizer decision"

// Field names of a decision line (DecisionLine's JSON names), which the
// API-key authorizer's line (pkg/keyauth) shares: the same fact has the
// same name in every authorizer's log.
const (
	FieldRequestID  = "requestId"
	FieldDecision   = "decision" // a Decision
	FieldStatus     = "status"   // Decision.Status; absent on allow
	FieldOutcome    = "outcome"  // an outcome code; absent on error
	FieldAccountID  = "accountId"
	FieldHTTPMethod = "httpMethod"
	FieldResource   = "resource"
	FieldSourceIP   = "sourceIp"
	FieldLatencyUs  = "latencyUs"
	FieldError      = "error"
)

// DecisionLine is the token authorizer's one log line per request: the
// authorizer fills it and logs it with Log, the recorder reads it back
// with ParseDecision. It is the line's only definition, so writer and
// reader cannot drift apart (TestDecisionLineRoundTrips holds them to it).
// It never holds a token: Log redacts every free-text field.
type DecisionLine struct {
	RequestID string   `json:"requestId"`
	Decision  Decision `json:"decision"`
	// Status is 401, 403 or 500; 0 (absent) on allow.
	Status int `json:"status,omitempty"`
	// Outcome is the verification outcome code (tokens.Outcome); absent
	// when the authorizer failed before it had one.
	Outcome string `json:"outcome,omitempty"`
	// The token's identity, once the store answered.
	AccountID string `json:"accountId,omitempty"`
	TokenID   string `json:"tokenId,omitempty"`
	TokenType string `json:"tokenType,omitempty"`
	UserID    string `json:"userId,omitempty"`
	// Service is the service the request targets, as the caller named it
	// (redacted and bounded: it may be anything).
	Service    string `json:"service,omitempty"`
	HTTPMethod string `json:"httpMethod"`
	// Resource is the route template, Path and Query the request's own
	// (redact.RequestPath, redact.RequestQuery): never the raw path.
	Resource  string `json:"resource"`
	Path      string `json:"path"`
	Query     string `json:"query,omitempty"`
	SourceIP  string `json:"sourceIp"`
	LatencyUs int64  `json:"latencyUs"`
	Error     string `json:"error,omitempty"`

	// Time is the logger's time, read back by ParseDecision; Log leaves
	// it to the logger.
	Time time.Time `json:"time"`
}

// Log writes l as one line through log (at error level for
// DecisionError). Every free-text field is redacted and bounded here, so
// no caller can put a token into the line by mistake.
func (l DecisionLine) Log(ctx context.Context, log *slog.Logger) {
	level := slog.LevelInfo
	if l.Decision == DecisionError {
		level = slog.LevelError
	}
	if !log.Enabled(ctx, level) {
		return
	}
	attrs := make([]slog.Attr, 0, 16)
	add := func(key, v string, limit int) {
		if v != "" {
			attrs = append(attrs, slog.String(key, redact.String(v, limit)))
		}
	}
	add(FieldRequestID, l.RequestID, redact.MaxField)
	add(FieldDecision, string(l.Decision), redact.MaxField)
	if l.Status != 0 {
		attrs = append(attrs, slog.Int(FieldStatus, l.Status))
	}
	add(FieldOutcome, l.Outcome, redact.MaxField)
	add(FieldAccountID, l.AccountID, redact.MaxField)
	add("tokenId", l.TokenID, redact.MaxField)
	add("tokenType", l.TokenType, redact.MaxField)
	add("userId", l.UserID, redact.MaxField)
	add("service", l.Service, redact.MaxService)
	attrs = append(attrs,
		slog.String(FieldHTTPMethod, redact.String(l.HTTPMethod, redact.MaxField)),
		slog.String(FieldResource, redact.String(l.Resource, redact.MaxPath)),
		slog.String("path", redact.String(l.Path, redact.MaxPath)),
	)
	add("query", l.Query, redact.MaxQuery)
	attrs = append(attrs,
		slog.String(FieldSourceIP, redact.String(l.SourceIP, redact.MaxField)),
		slog.Int64(FieldLatencyUs, l.LatencyUs),
	)
	add(FieldError, l.Error, redact.MaxPath)
	log.LogAttrs(ctx, level, DecisionMessage, attrs...)
}

// decisionKey marks an authorizer decision line; access-log lines never
// carry it.
const decisionKey = `"` + FieldDecision + `"`

// IsDecision reports whether line looks like an authorizer decision line
// rather than an access-log line. It is a cheap test for routing a line to
// ParseDecision; ParseDecision does the real validation.
func IsDecision(line []byte) bool { return bytes.Contains(line, []byte(decisionKey)) }

// DecisionOf returns the decision a decision line states, "" for a line
// that states none. It is what the authorizer log group's subscription
// filter matches on AWS ({ $.decision = "unauthorized" }), so the local
// stack's shipper (cwlogs.Shipper) delivers exactly the lines CloudWatch
// Logs would.
func DecisionOf(line []byte) Decision {
	var f struct {
		Decision Decision `json:"decision"`
	}
	if !IsDecision(line) || json.Unmarshal(line, &f) != nil {
		return ""
	}
	return f.Decision
}

// ParseDecision reads a decision line. A line without a logger time gets
// fallback (the CloudWatch event's timestamp); a line without a request
// ID, or with an unknown decision, is malformed.
func ParseDecision(line []byte, fallback time.Time) (DecisionLine, error) {
	var l DecisionLine
	if err := json.Unmarshal(line, &l); err != nil {
		return DecisionLine{}, fmt.Errorf("%w: not a decision line", ErrMalformed)
	}
	switch l.Decision {
	case DecisionAllow, DecisionDeny, DecisionUnauthorized, DecisionError:
	default:
		return DecisionLine{}, fmt.Errorf("%w: unknown decision", ErrMalformed)
	}
	if l.RequestID == "" {
		return DecisionLine{}, fmt.Errorf("%w: no request ID", ErrMalformed)
	}
	if l.Time.IsZero() {
		l.Time = fallback
	}
	return l, nil
}

// Entry returns the call a decision line describes, as an access-log line
// would: its status is what the decision answered (0 for allow).
func (l DecisionLine) Entry() Entry {
	return Entry{
		RequestID: l.RequestID, RequestTimeEpoch: l.Time.UnixMilli(), HTTPMethod: l.HTTPMethod,
		ResourcePath: l.Resource, Path: l.Path, Query: l.Query, Status: l.Decision.Status(),
		SourceIP: l.SourceIP, AccountID: l.AccountID, TokenID: l.TokenID, TokenType: l.TokenType,
		UserID: l.UserID, Service: l.Service, Outcome: l.Outcome,
	}
}

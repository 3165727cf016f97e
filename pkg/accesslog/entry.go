package accesslog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Format is the stage access-log format (accessLogSettings.format in CDK).
// Its keys are Entry's JSON tags. Every value is quoted: see the package
// documentation.
const Format = `{` +
	`"requestId":"$context.requestId",` +
	`"requestTimeEpoch":"$context.requestTimeEpoch",` +
	`"httpMethod":"$context.httpMethod",` +
	`"resourcePath":"$context.resourcePath",` +
	`"status":"$context.status",` +
	`"responseLatency":"$context.responseLatency",` +
	`"sourceIp":"$context.identity.sourceIp",` +
	`"errorType":"$context.error.responseType",` +
	`"accountId":"$context.authorizer.accountId",` +
	`"tokenId":"$context.authorizer.tokenId",` +
	`"tokenType":"$context.authorizer.tokenType",` +
	`"userId":"$context.authorizer.userId",` +
	`"service":"$context.authorizer.service",` +
	`"outcome":"$context.authorizer.outcome",` +
	`"path":"$context.authorizer.path",` +
	`"query":"$context.authorizer.query"` +
	`}`

// Entry is one access-log line: one call as API Gateway answered it.
type Entry struct {
	RequestID string `json:"requestId"`
	// RequestTimeEpoch is when API Gateway received the call, in
	// milliseconds since the epoch.
	RequestTimeEpoch int64  `json:"requestTimeEpoch,string"`
	HTTPMethod       string `json:"httpMethod"`
	// ResourcePath is the route template, never the concrete path.
	ResourcePath string `json:"resourcePath"`
	Status       int    `json:"status,string"`
	// ResponseLatency is the time to answer, in milliseconds.
	ResponseLatency int64  `json:"responseLatency,string"`
	SourceIP        string `json:"sourceIp"`
	// ErrorType is API Gateway's gateway-response type (e.g. UNAUTHORIZED,
	// ACCESS_DENIED) when the gateway answered the call itself.
	ErrorType string `json:"errorType"`

	// The authorizer's context, empty when it gave none (401s, public routes).
	AccountID string `json:"accountId"`
	TokenID   string `json:"tokenId"`
	TokenType string `json:"tokenType"`
	UserID    string `json:"userId"`
	Service   string `json:"service"`
	Outcome   string `json:"outcome"`
	// Path and Query are the request's, redacted by the authorizer
	// (usage.RequestPath, usage.RequestQuery): the access log never holds
	// $context.path, which can carry a path-form token.
	Path  string `json:"path"`
	Query string `json:"query"`
}

// Time returns RequestTimeEpoch as a time.
func (e Entry) Time() time.Time { return time.UnixMilli(e.RequestTimeEpoch).UTC() }

// Line renders e exactly as API Gateway renders Format: one JSON object,
// every value a string, "-" for an empty value.
func (e Entry) Line() []byte {
	b, _ := json.Marshal(e) // Entry holds only strings and integers: Marshal cannot fail.
	// encoding/json writes empty strings as ""; API Gateway writes "-".
	return bytes.ReplaceAll(b, []byte(`:""`), []byte(`:"-"`))
}

// ErrMalformed is returned, wrapped, for a line that is not an access-log
// or decision line the recorder can use.
var ErrMalformed = errors.New("malformed log line")

// Parse reads an access-log line. It accepts numbers quoted or not and
// treats "-" and null as empty. A line without a request ID or request
// time is malformed.
func Parse(line []byte) (Entry, error) {
	f, err := decodeFields(line)
	if err != nil {
		return Entry{}, err
	}
	e := f.call()
	e.ErrorType = f.str("errorType")
	status, errStatus := f.int("status")
	latency, errLatency := f.int("responseLatency")
	epoch, errEpoch := f.int("requestTimeEpoch")
	if err := errors.Join(errStatus, errLatency, errEpoch); err != nil {
		return Entry{}, err
	}
	e.Status, e.ResponseLatency, e.RequestTimeEpoch = int(status), latency, epoch
	if e.RequestID == "" || e.RequestTimeEpoch <= 0 {
		return Entry{}, fmt.Errorf("%w: no request ID or request time", ErrMalformed)
	}
	return e, nil
}

// fields is one decoded JSON log line.
type fields map[string]any

func decodeFields(line []byte) (fields, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var f fields
	if err := dec.Decode(&f); err != nil || f == nil {
		return nil, fmt.Errorf("%w: not a JSON object", ErrMalformed)
	}
	return f, nil
}

// call reads the string fields of an access-log line: the call itself and
// the context the authorizer gave.
func (f fields) call() Entry {
	return Entry{
		RequestID:    f.str("requestId"),
		HTTPMethod:   f.str("httpMethod"),
		ResourcePath: f.str("resourcePath"),
		SourceIP:     f.str("sourceIp"),
		AccountID:    f.str("accountId"),
		TokenID:      f.str("tokenId"),
		TokenType:    f.str("tokenType"),
		UserID:       f.str("userId"),
		Service:      f.str("service"),
		Outcome:      f.str("outcome"),
		Path:         f.str("path"),
		Query:        f.str("query"),
	}
}

// str returns a string value; "-" (API Gateway's empty) and absent are "".
func (f fields) str(key string) string {
	switch v := f[key].(type) {
	case string:
		if v == "-" {
			return ""
		}
		return v
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

// int returns an integer value given as a number or a numeric string; an
// empty value is 0.
func (f fields) int(key string) (int64, error) {
	s := strings.TrimSpace(f.str(key))
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %s is not an integer", ErrMalformed, key)
	}
	return n, nil
}

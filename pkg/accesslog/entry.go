package accesslog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-json-experiment/json/jsontext"
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
	// (redact.RequestPath, redact.RequestQuery): the access log never holds
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
	var f fields
	if err := f.read(line); err != nil {
		return Entry{}, fmt.Errorf("%w: not a JSON object", ErrMalformed)
	}
	status, errStatus := f.int(fStatus)
	latency, errLatency := f.int(fResponseLatency)
	epoch, errEpoch := f.int(fRequestTimeEpoch)
	if err := errors.Join(errStatus, errLatency, errEpoch); err != nil {
		return Entry{}, err
	}
	e := Entry{
		RequestID: f[fRequestID], RequestTimeEpoch: epoch, HTTPMethod: f[fHTTPMethod], ResourcePath: f[fResourcePath],
		Status: int(status), ResponseLatency: latency, SourceIP: f[fSourceIP], ErrorType: f[fErrorType],
		AccountID: f[fAccountID], TokenID: f[fTokenID], TokenType: f[fTokenType], UserID: f[fUserID],
		Service: f[fService], Outcome: f[fOutcome], Path: f[fPath], Query: f[fQuery],
	}
	if e.RequestID == "" || e.RequestTimeEpoch <= 0 {
		return Entry{}, fmt.Errorf("%w: no request ID or request time", ErrMalformed)
	}
	return e, nil
}

// The keys of an access-log line (Entry's JSON names), as indexes of fields.
const (
	fRequestID = iota
	fRequestTimeEpoch
	fHTTPMethod
	fResourcePath
	fStatus
	fResponseLatency
	fSourceIP
	fErrorType
	fAccountID
	fTokenID
	fTokenType
	fUserID
	fService
	fOutcome
	fPath
	fQuery
	numFields
)

// fieldNames are Entry's JSON names, by field index.
var fieldNames = [numFields]string{
	fRequestID: "requestId", fRequestTimeEpoch: "requestTimeEpoch", fHTTPMethod: "httpMethod",
	fResourcePath: "resourcePath", fStatus: "status", fResponseLatency: "responseLatency", fSourceIP: "sourceIp",
	fErrorType: "errorType", fAccountID: "accountId", fTokenID: "tokenId", fTokenType: "tokenType", fUserID: "userId",
	fService: "service", fOutcome: "outcome", fPath: "path", fQuery: "query",
}

var fieldIndex = func() map[string]int {
	m := make(map[string]int, numFields)
	for i, name := range fieldNames {
		m[name] = i
	}
	return m
}()

// decoders are reused across lines: a delivery holds thousands, and a
// new decoder's buffers cost more than reading a line.
var decoders = sync.Pool{New: func() any { return new(jsontext.Decoder) }}

// fields is one access-log line as read: each key's value as text.
type fields [numFields]string

// read reads the first JSON value of line, which must be an object, as
// leniently as encoding/json reads it into a map (keys matched exactly,
// a duplicate key's last value kept, invalid UTF-8 as U+FFFD, whatever
// follows the object ignored), but walking its tokens: the recorder reads
// every line of every delivery, and this is several times faster than
// decoding into a map. A value is kept as text: a string as it is ("-",
// API Gateway's empty, as ""), a number as written, a boolean as "true"
// or "false"; null, an object or an array as "".
func (f *fields) read(line []byte) error {
	dec := decoders.Get().(*jsontext.Decoder)
	defer decoders.Put(dec)
	dec.Reset(bytes.NewBuffer(line), jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
	if dec.PeekKind() != '{' {
		return ErrMalformed
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	for dec.PeekKind() != '}' {
		name, err := dec.ReadToken()
		if err != nil {
			return err
		}
		i, known := fieldIndex[name.String()] // before the next read voids name
		if !known {
			if err := dec.SkipValue(); err != nil {
				return err
			}
			continue
		}
		if dec.PeekKind() == '"' {
			// A token, not a value, so the decoder's options hold for it.
			tok, err := dec.ReadToken()
			if err != nil {
				return err
			}
			if f[i] = tok.String(); f[i] == "-" {
				f[i] = ""
			}
			continue
		}
		v, err := dec.ReadValue()
		if err != nil {
			return err
		}
		switch v.Kind() {
		case '0', 't', 'f':
			f[i] = string(v)
		default:
			f[i] = ""
		}
	}
	_, err := dec.ReadToken()
	return err
}

// int returns field i as an integer given as a number or a numeric
// string; an empty value is 0.
func (f *fields) int(i int) (int64, error) {
	s := strings.TrimSpace(f[i])
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %s is not an integer", ErrMalformed, fieldNames[i])
	}
	return n, nil
}

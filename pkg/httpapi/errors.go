package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/aws/aws-lambda-go/events"
)

// Error is a failure of the HTTP layer itself (a body too large, bad JSON)
// with the status it answers.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errors the HTTP layer makes.
var (
	ErrBodyTooLarge = &Error{http.StatusRequestEntityTooLarge, "payload_too_large", "the request body is larger than 64 KiB"}
	ErrUnauthorized = &Error{http.StatusUnauthorized, "unauthorized", "missing or invalid credentials"}
	ErrNoRoute      = &Error{http.StatusNotFound, "not_found", "no such route"}
)

var kindStatus = map[apperr.Kind]int{
	apperr.KindInvalid:      http.StatusBadRequest,
	apperr.KindNotFound:     http.StatusNotFound,
	apperr.KindConflict:     http.StatusConflict,
	apperr.KindThrottled:    http.StatusTooManyRequests,
	apperr.KindUnavailable:  http.StatusServiceUnavailable,
	apperr.KindUnauthorized: http.StatusUnauthorized,
}

// Classify maps an error to the status, code and message a caller sees.
// This is the only place statuses are chosen for errors. Anything it does
// not recognise is a 500 whose detail stays in the logs.
func Classify(err error) (status int, code, message string) {
	var he *Error
	if errors.As(err, &he) {
		return he.Status, he.Code, he.Message
	}
	var te *apperr.Error
	if errors.As(err, &te) {
		if s, ok := kindStatus[te.Kind]; ok {
			return s, te.Code, te.Message
		}
	}
	return http.StatusInternalServerError, "internal_error", "something went wrong on our side"
}

// ErrorBody is PRODUCT.md's error body.
func ErrorBody(code, message string) []byte {
	b, _ := json.Marshal(errorEnvelope{Error: errorDetail{Code: code, Message: message}})
	return b
}

type errorEnvelope struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ErrorResponse answers err as PRODUCT.md's JSON error body.
func ErrorResponse(err error) events.APIGatewayProxyResponse {
	status, code, message := Classify(err)
	return raw(status, ErrorBody(code, message))
}

// JSON answers v as a JSON body with status (a Text as it is); a nil v
// answers no body.
func JSON(status int, v any) events.APIGatewayProxyResponse {
	if t, ok := v.(Text); ok {
		h := securityHeaders()
		for k, v := range t.Headers {
			h[k] = v
		}
		h["Content-Type"] = t.ContentType
		return events.APIGatewayProxyResponse{StatusCode: status, Headers: h, Body: t.Body}
	}
	if v == nil {
		return events.APIGatewayProxyResponse{StatusCode: status, Headers: securityHeaders()}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ErrorResponse(err)
	}
	return raw(status, b)
}

// Text is a handler's answer that is not JSON (a CSV download): sent as it
// is, with its content type and headers beside the usual ones.
type Text struct {
	ContentType string
	Headers     map[string]string
	Body        string
}

func raw(status int, body []byte) events.APIGatewayProxyResponse {
	h := securityHeaders()
	h["Content-Type"] = "application/json"
	return events.APIGatewayProxyResponse{StatusCode: status, Headers: h, Body: string(body)}
}

// securityHeaders keep secrets in responses out of caches.
func securityHeaders() map[string]string {
	return map[string]string{"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
}

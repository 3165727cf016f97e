package httpapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/paging"
)

// MaxBodyBytes is the largest request body accepted.
const MaxBodyBytes = 64 << 10

// maxCursorLength keeps absurd cursors from reaching the store.
const maxCursorLength = 2048

// Decode reads the request's JSON body into v strictly: one JSON object,
// no unknown fields, at most MaxBodyBytes. An empty body decodes as {}.
func Decode(req events.APIGatewayProxyRequest, v any) error {
	body := []byte(req.Body)
	if req.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(req.Body); err != nil {
			return apperr.Invalid("invalid_json", "the request body is not valid base64")
		}
	}
	if len(body) > MaxBodyBytes {
		return ErrBodyTooLarge
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return apperr.Invalid("invalid_json", "the request body must hold exactly one JSON object")
	}
	return nil
}

func decodeError(err error) error {
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return apperr.Invalid("invalid_json", "the request body must be a JSON object")
		}
		return apperr.Invalid("invalid_field", "field %q must be a %s", field, jsonType(typeErr.Type.Kind().String()))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json reports unknown fields only as text; the field name
		// is the part after the prefix, already quoted.
		return apperr.Invalid("unknown_field", "unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	default:
		return apperr.Invalid("invalid_json", "the request body is not valid JSON")
	}
}

func jsonType(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "map", "struct":
		return "object"
	case "slice", "array":
		return "array"
	default:
		return "number"
	}
}

// Query returns a query parameter, "" if absent. A parameter given twice
// with different values is refused rather than silently picking one.
func Query(req events.APIGatewayProxyRequest, name string) (string, error) {
	if vs := req.MultiValueQueryStringParameters[name]; len(vs) > 1 {
		for _, v := range vs[1:] {
			if v != vs[0] {
				return "", apperr.Invalid("invalid_"+snake(name), "query parameter %q is given more than once", name)
			}
		}
		return vs[0], nil
	}
	return req.QueryStringParameters[name], nil
}

// QueryParam names a query parameter and where to read it to.
type QueryParam struct {
	Name string
	Into *string
}

// Q is a QueryParam.
func Q(name string, into *string) QueryParam { return QueryParam{Name: name, Into: into} }

// Queries reads params in the order given, stopping at the first refused
// one, so the same bad request always gets the same error.
func Queries(req events.APIGatewayProxyRequest, params ...QueryParam) error {
	for _, p := range params {
		v, err := Query(req, p.Name)
		if err != nil {
			return err
		}
		*p.Into = v
	}
	return nil
}

// QueryTime parses the value of the time parameter name; "" is the zero time.
func QueryTime(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, apperr.Invalid("invalid_"+snake(name), "%s must be an RFC 3339 time such as 2025-03-01T12:00:00Z", name)
	}
	return t, nil
}

// Page reads the limit and cursor query parameters.
func Page(req events.APIGatewayProxyRequest) (paging.Request, error) {
	var p paging.Request
	limit, err := Query(req, "limit")
	if err != nil {
		return p, err
	}
	if limit != "" {
		n, err := strconv.Atoi(limit)
		if err != nil || n < 1 || n > paging.MaxLimit {
			return p, apperr.Invalid("invalid_limit", "limit must be an integer between 1 and %d", paging.MaxLimit)
		}
		p.Limit = n
	}
	if p.Cursor, err = Query(req, "cursor"); err != nil {
		return p, err
	}
	if len(p.Cursor) > maxCursorLength {
		return p, paging.ErrBadCursor
	}
	return p, nil
}

// snake turns a camelCase parameter name into snake_case for error codes.
func snake(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'A' && r <= 'Z' {
			b.WriteByte('_')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

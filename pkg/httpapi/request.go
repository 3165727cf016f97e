package httpapi

import (
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/paging"
)

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
	// The store decodes the cursor (paging.DecodeCursor); an absurd one
	// stops here.
	if len(p.Cursor) > paging.MaxCursorLength {
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

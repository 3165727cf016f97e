// Package apicontract checks HTTP exchanges with the service against its
// OpenAPI document (pkg/openapi), with pb33f/libopenapi-validator: a
// validator made for OpenAPI 3.1 and its JSON Schema 2020-12 dialect
// (type arrays, const, unevaluatedProperties), which the document uses.
//
// An exchange keeps the contract when:
//   - the answer is one the document describes for the operation: a
//     documented status, and a body of the documented media type and schema;
//   - a request the document refuses (a missing credential, a body of the
//     wrong shape, an out-of-range parameter) is refused by the service
//     with a 4xx, never served;
//   - a request for a route the document does not have answers a 4xx with
//     the JSON error body, as the gateway does.
//
// A request the document accepts may still be refused (an unknown ID, a
// conflict): the document cannot know the data.
package apicontract

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	verrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi-validator/helpers"

	"github.com/acmedata/tokenservice/pkg/openapi"
)

// Checker validates exchanges against the document. It is safe for
// concurrent use.
type Checker struct {
	v validator.Validator
}

// New builds a Checker over pkg/openapi's document, failing if the
// document is not valid OpenAPI.
func New() (*Checker, error) {
	doc, err := libopenapi.NewDocument(openapi.YAML())
	if err != nil {
		return nil, fmt.Errorf("apicontract: parse document: %w", err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		return nil, fmt.Errorf("apicontract: build validator: %w", errors.Join(errs...))
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		return nil, fmt.Errorf("apicontract: the document is not valid OpenAPI: %w", join(verrs))
	}
	return &Checker{v: v}, nil
}

// Check returns how one exchange breaks the contract, or nil. The bodies
// are passed apart because req's and res's have been read.
func (c *Checker) Check(req *http.Request, reqBody []byte, res *http.Response, resBody []byte) error {
	requestErrs := c.validateRequest(req, reqBody)
	res = withBody(res, resBody)
	ok, responseErrs := c.v.ValidateHttpResponse(withRequestBody(req, reqBody), res)
	if !ok && unknownRoute(responseErrs) {
		if res.StatusCode < 400 || res.StatusCode >= 500 {
			return fmt.Errorf("%s %s is not in the OpenAPI document, yet it answered %d", req.Method, req.URL.Path, res.StatusCode)
		}
		return checkErrorBody(res, resBody)
	}
	var errs []error
	if !ok {
		errs = append(errs, fmt.Errorf("the answer %d is not one the OpenAPI document describes: %w", res.StatusCode, join(responseErrs)))
	}
	if len(requestErrs) > 0 && res.StatusCode < 400 {
		errs = append(errs, fmt.Errorf("the service answered %d to a request the OpenAPI document refuses: %w", res.StatusCode, join(requestErrs)))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s %s: %w", req.Method, req.URL.RequestURI(), errors.Join(errs...))
	}
	return nil
}

func (c *Checker) validateRequest(req *http.Request, body []byte) []*verrors.ValidationError {
	if ok, errs := c.v.ValidateHttpRequestSync(withRequestBody(req, body)); !ok {
		return errs
	}
	return nil
}

// unknownRoute reports whether the document has no operation for the request.
func unknownRoute(errs []*verrors.ValidationError) bool {
	for _, e := range errs {
		if (e.ValidationType == helpers.PathValidation && e.ValidationSubType == helpers.ValidationMissing) ||
			e.ValidationSubType == helpers.ValidationMissingOperation {
			return true
		}
	}
	return false
}

var errorCode = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// checkErrorBody checks the error body every refusal carries, for answers
// to routes the document does not have (so no operation gives the schema).
func checkErrorBody(res *http.Response, body []byte) error {
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return fmt.Errorf("error answer %d with Content-Type %q, want application/json", res.StatusCode, ct)
	}
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil || !errorCode.MatchString(e.Error.Code) || e.Error.Message == "" {
		return fmt.Errorf("error answer %d without the JSON error body: %s", res.StatusCode, body)
	}
	return nil
}

func withRequestBody(req *http.Request, body []byte) *http.Request {
	r := req.Clone(req.Context())
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	return r
}

func withBody(res *http.Response, body []byte) *http.Response {
	r := *res
	r.Body = io.NopCloser(bytes.NewReader(body))
	return &r
}

func join(errs []*verrors.ValidationError) error {
	var out []error
	for _, e := range errs {
		out = append(out, e)
	}
	return errors.Join(out...)
}

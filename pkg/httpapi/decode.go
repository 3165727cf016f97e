package httpapi

import (
	"bytes"
	"encoding/base64"
	"errors"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/acmedata/tokenservice/pkg/apperr"
)

// MaxBodyBytes is the largest request body accepted.
const MaxBodyBytes = 64 << 10

// Decode reads the request's JSON body into v, a pointer to a struct,
// strictly: one JSON object of at most MaxBodyBytes, valid UTF-8, every
// member named exactly (case included) as one of v's fields, none named
// twice. An empty (or blank) body decodes as {}: for routes whose body is
// optional (a token create or clone, a key rotation); DecodeRequired is
// for the rest. A null body is not an object, and is refused.
//
// encoding/json accepts duplicate names (the last wins), matches names
// case-insensitively and replaces invalid UTF-8, so {"active":true,
// "active":false} or {"EMAIL":...} would mean something other than what a
// reviewer of the request reads. github.com/go-json-experiment/json, the
// mirror of Go's encoding/json/v2, refuses all of these by default.
//
// Error messages never repeat what the caller sent: a member name may be
// anything, a secret pasted into the wrong place included. They name the
// fields the body may hold and the byte offset of the fault instead.
func Decode(req events.APIGatewayProxyRequest, v any) error {
	return decode(req, v, false)
}

// ErrMissingBody answers a route that needs a body and got none, or only
// blanks: 400, never read as {}.
var ErrMissingBody = apperr.Invalid("missing_body", "this route needs a JSON object as its request body")

// DecodeRequired is Decode for a route whose body is required (a create
// with required fields, a PATCH, a PUT): an empty or blank body is
// ErrMissingBody.
func DecodeRequired(req events.APIGatewayProxyRequest, v any) error {
	return decode(req, v, true)
}

func decode(req events.APIGatewayProxyRequest, v any, required bool) error {
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
	if !utf8.Valid(body) {
		return apperr.Invalid("invalid_json", "the request body is not valid UTF-8")
	}
	trimmed := bytes.TrimSpace(body)
	switch {
	case len(trimmed) == 0 && required:
		return ErrMissingBody
	case len(trimmed) == 0:
		body = []byte("{}")
	case trimmed[0] != '{':
		// null (which would decode as "no change") and every other
		// non-object.
		return apperr.Invalid("invalid_json", "the request body must be a JSON object")
	}
	if err := json.Unmarshal(body, v, json.RejectUnknownMembers(true)); err != nil {
		return decodeError(err, fieldNames(v))
	}
	return nil
}

// RawBody returns the request's body as sent (decoded from base64 if API
// Gateway encoded it), refusing one over MaxBodyBytes: for a route that
// must see the exact bytes, such as one verifying a signature over them.
func RawBody(req events.APIGatewayProxyRequest) ([]byte, error) {
	body := []byte(req.Body)
	if req.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(req.Body); err != nil {
			return nil, apperr.Invalid("invalid_json", "the request body is not valid base64")
		}
	}
	if len(body) > MaxBodyBytes {
		return nil, ErrBodyTooLarge
	}
	return body, nil
}

// decodeError turns a decoding failure into a 400 that names only what
// the caller can look up: the fields of the body (known) and an offset.
func decodeError(err error, fields []string) error {
	var semErr *json.SemanticError
	var synErr *jsontext.SyntacticError
	switch {
	case errors.As(err, &semErr) && errors.Is(semErr.Err, json.ErrUnknownName):
		if len(fields) == 0 {
			return apperr.Invalid("unknown_field", "the request body must be an empty object; it has a field at byte %d", semErr.ByteOffset)
		}
		return apperr.Invalid("unknown_field", "the request body has a field at byte %d that is not one of %s (names are case-sensitive)", semErr.ByteOffset, strings.Join(fields, ", "))
	case errors.As(err, &semErr):
		field := firstToken(semErr.JSONPointer)
		if field == "" {
			return apperr.Invalid("invalid_json", "the request body must be a JSON object")
		}
		if !slices.Contains(fields, field) {
			return apperr.Invalid("invalid_field", "the request body has a value of the wrong type at byte %d", semErr.ByteOffset)
		}
		if semErr.GoType != nil && jsonType(semErr.GoType.Kind()) == "number" && semErr.JSONKind == '0' {
			if semErr.GoType.Kind() == reflect.Float32 || semErr.GoType.Kind() == reflect.Float64 {
				return apperr.Invalid("invalid_field", "field %q holds a number out of range", field)
			}
			return apperr.Invalid("invalid_field", "field %q must be a whole number in range", field)
		}
		if semErr.JSONPointer.Parent() == "" && semErr.GoType != nil {
			return apperr.Invalid("invalid_field", "field %q must be a %s", field, jsonType(semErr.GoType.Kind()))
		}
		return apperr.Invalid("invalid_field", "field %q holds a value of the wrong type at byte %d", field, semErr.ByteOffset)
	case errors.As(err, &synErr) && errors.Is(synErr.Err, jsontext.ErrDuplicateName):
		return apperr.Invalid("duplicate_field", "the request body names a field twice (at byte %d)", synErr.ByteOffset)
	case errors.As(err, &synErr):
		return apperr.Invalid("invalid_json", "the request body is not valid JSON (at byte %d)", synErr.ByteOffset)
	default:
		return apperr.Invalid("invalid_json", "the request body is not valid JSON")
	}
}

// firstToken is the top-level member a JSON pointer points into, "" for
// the whole document.
func firstToken(p jsontext.Pointer) string {
	for tok := range p.Tokens() {
		return tok
	}
	return ""
}

// fieldNames lists the JSON names of the struct v points to, as the
// decoder matches them.
func fieldNames(v any) []string {
	t := reflect.TypeOf(v)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	var names []string
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-":
			continue
		case name == "" && f.Anonymous && f.Type.Kind() == reflect.Struct:
			// An embedded struct's fields are the body's own, as the
			// decoder inlines them.
			names = append(names, fieldNames(reflect.New(f.Type).Interface())...)
			continue
		case name == "":
			name = f.Name
		}
		names = append(names, name)
	}
	return names
}

func jsonType(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Map, reflect.Struct:
		return "object"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "number"
	default:
		return "value of another type"
	}
}

// OperatorOnly are the body fields of a token that only operators set,
// which admin routes take only to refuse them with a clear 400 rather
// than an unknown field: a plan (PUT /operator/tokens/{tokenId}/plan).
type OperatorOnly struct {
	Plan   jsontext.Value `json:"plan"`
	PlanID jsontext.Value `json:"planId"`
}

// ErrPlanNotSettable refuses a plan in an admin's body.
var ErrPlanNotSettable = apperr.Invalid("plan_not_settable", "plans are set by the deployment's operators; admins can read a token's and a service's plan but not set it")

// Check refuses the fields if the body holds any of them, even null.
func (o OperatorOnly) Check() error {
	if len(o.Plan) > 0 || len(o.PlanID) > 0 {
		return ErrPlanNotSettable
	}
	return nil
}

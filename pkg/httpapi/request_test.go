package httpapi

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/paging"
	"github.com/aws/aws-lambda-go/events"
)

type sample struct {
	Name    *string `json:"name"`
	Enabled *bool   `json:"enabled"`
	Count   *int64  `json:"count"`
}

func TestDecodeRefusesBadBodiesWithClearCodes(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		base64     bool
		status     int
		code       string
	}{
		{"valid", `{"name":"a","enabled":true}`, false, 0, ""},
		{"empty body is an empty object", ``, false, 0, ""},
		{"base64 body", base64.StdEncoding.EncodeToString([]byte(`{"name":"a"}`)), true, 0, ""},
		{"bad base64", `!!!`, true, http.StatusBadRequest, "invalid_json"},
		{"not JSON", `{name:`, false, http.StatusBadRequest, "invalid_json"},
		{"unknown field", `{"nmae":"a"}`, false, http.StatusBadRequest, "unknown_field"},
		{"case-variant field", `{"NAME":"a"}`, false, http.StatusBadRequest, "unknown_field"},
		{"duplicate field", `{"enabled":true,"enabled":false}`, false, http.StatusBadRequest, "duplicate_field"},
		{"duplicate field differing in case", `{"name":"a","Name":"b"}`, false, http.StatusBadRequest, "unknown_field"},
		{"invalid UTF-8", "{\"name\":\"a\xffb\"}", false, http.StatusBadRequest, "invalid_json"},
		{"invalid UTF-8 in base64", base64.StdEncoding.EncodeToString([]byte("{\"name\":\"\xc3\"}")), true, http.StatusBadRequest, "invalid_json"},
		{"lone surrogate escape", `{"name":"\ud800"}`, false, http.StatusBadRequest, "invalid_json"},
		{"not a whole number", `{"count":1.5}`, false, http.StatusBadRequest, "invalid_field"},
		{"number out of range", `{"count":1e30}`, false, http.StatusBadRequest, "invalid_field"},
		{"wrong type", `{"enabled":"yes"}`, false, http.StatusBadRequest, "invalid_field"},
		{"array instead of object", `[1,2]`, false, http.StatusBadRequest, "invalid_json"},
		{"two objects", `{} {}`, false, http.StatusBadRequest, "invalid_json"},
		{"trailing garbage", `{"name":"a"} x`, false, http.StatusBadRequest, "invalid_json"},
		{"over 64 KiB", `{"name":"` + strings.Repeat("a", MaxBodyBytes) + `"}`, false, http.StatusRequestEntityTooLarge, "payload_too_large"},
		{"null is not an object", `null`, false, http.StatusBadRequest, "invalid_json"},
		{"null among spaces", " \n null \t", false, http.StatusBadRequest, "invalid_json"},
		{"null in base64", base64.StdEncoding.EncodeToString([]byte(`null`)), true, http.StatusBadRequest, "invalid_json"},
		{"a string", `"x"`, false, http.StatusBadRequest, "invalid_json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v sample
			err := Decode(events.APIGatewayProxyRequest{Body: tc.body, IsBase64Encoded: tc.base64}, &v)
			if tc.status == 0 {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				return
			}
			status, code, _ := Classify(err)
			if status != tc.status || code != tc.code {
				t.Fatalf("Decode error %v classified %d %s, want %d %s", err, status, code, tc.status, tc.code)
			}
		})
	}
}

// TestARequiredBodyRefusesEmptyWhitespaceAndNull: where a route needs a
// body (a create, a PATCH, a PUT), nothing, blanks or null are a 400, never
// taken as {}; an explicit {} is the caller's own choice.
func TestARequiredBodyRefusesEmptyWhitespaceAndNull(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		base64     bool
		code       string
	}{
		{"empty", ``, false, "missing_body"},
		{"whitespace", " \r\n\t ", false, "missing_body"},
		{"empty in base64", ``, true, "missing_body"},
		{"whitespace in base64", base64.StdEncoding.EncodeToString([]byte("  \n")), true, "missing_body"},
		{"null", `null`, false, "invalid_json"},
		{"an empty object", `{}`, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v sample
			err := DecodeRequired(events.APIGatewayProxyRequest{Body: tc.body, IsBase64Encoded: tc.base64}, &v)
			if tc.code == "" {
				if err != nil {
					t.Fatalf("DecodeRequired: %v", err)
				}
				return
			}
			if status, code, _ := Classify(err); status != http.StatusBadRequest || code != tc.code {
				t.Fatalf("DecodeRequired error %v classified %d %s, want 400 %s", err, status, code, tc.code)
			}
		})
	}
}

// TestDecodeErrorsNeverRepeatCallerInput: a secret pasted as a field
// name, or inside a bad value, never comes back in the error (nor, since
// the Router logs the error, in a log line).
func TestDecodeErrorsNeverRepeatCallerInput(t *testing.T) {
	const key = "tka_6Kq2Vx9Lm3Rt8Wb1Zc5Nd7Hf4Jg0Ps"
	const token = "46a4eccec1414feab118287f5af26f03"
	for _, body := range []string{
		`{"` + key + `":1}`,
		`{"` + token + `":"x"}`,
		`{"name":"a","` + key + `":1,"` + key + `":2}`,
		`{"name":{"` + key + `":1}}`,
		`{"enabled":"` + key + `"}`,
		`{"count":"` + token + `"}`,
		`{"name":"` + key + `",}`,
		`{"name":"` + key + "\xff" + `"}`,
		`{"` + key + `"}`,
		`["` + token + `"]`,
		`"` + key + `"`,
	} {
		err := Decode(events.APIGatewayProxyRequest{Body: body}, &sample{})
		if err == nil {
			t.Errorf("Decode(%s) accepted", body)
			continue
		}
		_, _, msg := Classify(err)
		for _, s := range []string{err.Error(), msg} {
			if strings.Contains(s, key) || strings.Contains(s, token) || strings.Contains(s, "6Kq2Vx9L") {
				t.Errorf("Decode(%s) error repeats the secret: %s", body, s)
			}
		}
	}
}

func TestClassifyMapsEveryDomainKindAndHidesInternals(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
		code   string
	}{
		{apperr.Invalid("invalid_name", "bad"), 400, "invalid_name"},
		{apperr.NotFound("token"), 404, "token_not_found"},
		{apperr.Conflict("email_taken", "taken"), 409, "email_taken"},
		{apperr.Throttled(nil), 429, "throttled"},
		{apperr.Unavailable(nil), 503, "store_unavailable"},
		{paging.ErrBadCursor, 400, "bad_cursor"},
		{ErrBodyTooLarge, 413, "payload_too_large"},
		{fmt.Errorf("save: %w", apperr.Conflict("concurrent_update", "changed meanwhile")), 409, "concurrent_update"},
		{errSecretDetail, 500, "internal_error"},
	} {
		status, code, msg := Classify(tc.err)
		if status != tc.status || code != tc.code {
			t.Errorf("Classify(%v) = %d %s, want %d %s", tc.err, status, code, tc.status, tc.code)
		}
		if strings.Contains(msg, "dynamodb") {
			t.Errorf("Classify(%v) leaks internal detail: %q", tc.err, msg)
		}
	}
}

var errSecretDetail = &apperr.Error{Kind: apperr.KindInternal, Code: "x", Message: "dynamodb table core-xyz exploded"}

func TestPageReadsLimitAndCursor(t *testing.T) {
	for _, tc := range []struct {
		query map[string]string
		multi map[string][]string
		limit int
		ok    bool
	}{
		{nil, nil, 0, true},
		{map[string]string{"limit": "10", "cursor": "abc"}, nil, 10, true},
		{map[string]string{"limit": "0"}, nil, 0, false},
		{map[string]string{"limit": "101"}, nil, 0, false},
		{map[string]string{"limit": "ten"}, nil, 0, false},
		{map[string]string{"limit": "5"}, map[string][]string{"limit": {"5", "6"}}, 0, false},
		{map[string]string{"cursor": strings.Repeat("c", 3000)}, nil, 0, false},
	} {
		p, err := Page(events.APIGatewayProxyRequest{QueryStringParameters: tc.query, MultiValueQueryStringParameters: tc.multi})
		if (err == nil) != tc.ok || (tc.ok && p.Limit != tc.limit) {
			t.Errorf("Page(%v, %v) = %+v, %v", tc.query, tc.multi, p, err)
		}
		if err != nil {
			if status, _, _ := Classify(err); status != http.StatusBadRequest {
				t.Errorf("Page(%v) error status %d", tc.query, status)
			}
		}
	}
}

func TestQueriesReportTheFirstBadParameterInTheirFixedOrder(t *testing.T) {
	// Both parameters are given twice with different values; the answer
	// must name the first one every time, never whichever a map yields.
	req := events.APIGatewayProxyRequest{MultiValueQueryStringParameters: map[string][]string{
		"service": {"a", "b"}, "tokenId": {"c", "d"},
	}}
	for range 50 {
		var service, tokenID string
		err := Queries(req, Q("service", &service), Q("tokenId", &tokenID))
		if _, code, _ := Classify(err); code != "invalid_service" {
			t.Fatalf("error code %q, want invalid_service", code)
		}
	}
}

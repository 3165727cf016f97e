package apicontract_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/acmedata/tokenservice/pkg/testkit/apicontract"
)

const (
	userJSON  = `{"id":"usr_01jqz8y0k5n3d2m1c0b9a8v7t6","email":"ada@example.com","name":"Ada","createdAt":"2026-05-24T09:14:07.000Z"}`
	tokenJSON = `{"id":"tok_01jqz8y0k5n3d2m1c0b9a8v7t6","name":"ci","service":"tmy","type":"userless","userId":null,` +
		`"status":"active","disabledReason":null,"createdAt":"2026-05-24T09:14:07.000Z","expiresAt":null,"lastUsedAt":null,` +
		`"settings":{"publicOnly":true},"isDefault":true,"hint":"6f03",` +
		`"restrictions":{"origins":[],"ipRanges":[]},"protected":false,"clonedFrom":null,"plan":null`
	errorJSON = `{"error":{"code":"not_found","message":"no such route"}}`
)

// TestCheckerHoldsTheServiceToTheDocument proves the checker fails the
// exchanges the API tests rely on it to catch, with the OpenAPI 3.1
// features the document uses (type arrays, unevaluatedProperties).
func TestCheckerHoldsTheServiceToTheDocument(t *testing.T) {
	c, err := apicontract.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name              string
		method, path, key string
		reqBody           string
		status            int
		contentType, body string
		wantBreach        string // "" if the exchange keeps the contract
	}{
		{"a documented answer", "GET", "/healthz", "", "", 200, "application/json", `{"status":"ok"}`, ""},
		{"an undocumented status", "GET", "/healthz", "", "", 418, "application/json", errorJSON, "not one the OpenAPI document describes"},
		{"an undocumented field", "GET", "/healthz", "", "", 200, "application/json", `{"status":"ok","extra":1}`, "not one the OpenAPI document describes"},
		{"a wrong media type", "GET", "/healthz", "", "", 200, "text/plain", `ok`, "not one the OpenAPI document describes"},
		{"a new token with its secret", "POST", "/admin/services/tmy/tokens", "tka_k", `{"name":"ci"}`, 201, "application/json",
			tokenJSON + `,"token":"46a4eccec1414feab118287f5af26f03"}`, ""},
		{"a token view that leaks its secret", "GET", "/admin/tokens/tok_01jqz8y0k5n3d2m1c0b9a8v7t6", "tka_k", "", 200, "application/json",
			tokenJSON + `,"token":"46a4eccec1414feab118287f5af26f03"}`, "not one the OpenAPI document describes"},
		{"a nullable field given null", "GET", "/admin/tokens/tok_01jqz8y0k5n3d2m1c0b9a8v7t6", "tka_k", "", 200, "application/json", tokenJSON + `}`, ""},
		{"an unknown request field refused", "POST", "/admin/users", "tka_k", `{"email":"a@b.c","name":"A","role":"x"}`, 400, "application/json",
			`{"error":{"code":"unknown_field","message":"unknown field \"role\""}}`, ""},
		{"an unknown request field served", "POST", "/admin/users", "tka_k", `{"email":"a@b.c","name":"A","role":"x"}`, 201, "application/json",
			userJSON, "a request the OpenAPI document refuses"},
		{"a missing credential served", "POST", "/admin/users", "", `{"email":"a@b.c","name":"A"}`, 201, "application/json",
			userJSON, "a request the OpenAPI document refuses"},
		{"an unknown route refused", "GET", "/nowhere", "", "", 404, "application/json", errorJSON, ""},
		{"an unknown route served", "GET", "/nowhere", "", "", 200, "application/json", `{}`, "is not in the OpenAPI document"},
		{"an unknown route with a bare body", "DELETE", "/admin/account", "tka_k", "", 404, "text/plain", "404 page not found", "want application/json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, "http://127.0.0.1:8080"+tc.path, strings.NewReader(tc.reqBody))
			if tc.key != "" {
				req.Header.Set("Authorization", "Bearer "+tc.key)
			}
			if tc.reqBody != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			res := &http.Response{StatusCode: tc.status, Header: http.Header{"Content-Type": {tc.contentType}}, Request: req}
			err := c.Check(req, []byte(tc.reqBody), res, []byte(tc.body))
			switch {
			case tc.wantBreach == "" && err != nil:
				t.Fatalf("breach reported for a kept contract: %v", err)
			case tc.wantBreach != "" && err == nil:
				t.Fatalf("no breach reported, want one saying %q", tc.wantBreach)
			case tc.wantBreach != "" && !strings.Contains(err.Error(), tc.wantBreach):
				t.Fatalf("breach %v, want one saying %q", err, tc.wantBreach)
			}
		})
	}
}

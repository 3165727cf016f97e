package databackend

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func serve(t *testing.T, fixture string) (events.APIGatewayProxyRequest, events.APIGatewayProxyResponse) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", "data", fixture+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var req events.APIGatewayProxyRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		t.Fatal(err)
	}
	b, err := New(slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := b.Serve(context.Background(), req)
	if err != nil {
		t.Fatalf("Serve returned an error: %v", err)
	}
	return req, resp
}

func decode(t *testing.T, resp events.APIGatewayProxyResponse) Response {
	t.Helper()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, body %s", resp.StatusCode, resp.Body)
	}
	var body Response
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
		t.Fatal(err)
	}
	return body
}

// TestRestrictedRowsOnlyWhenAskedAndNeverToPublicOnlyTokens covers
// PRODUCT.md's rule for restricted rows.
func TestRestrictedRowsOnlyWhenAskedAndNeverToPublicOnlyTokens(t *testing.T) {
	cases := []struct {
		fixture        string
		wantRestricted bool
	}{
		{"data-get", false},
		{"data-include-restricted", true},
		{"data-public-only-include-restricted", false},
		{"feed-get", false},
	}
	for _, tc := range cases {
		t.Run(tc.fixture, func(t *testing.T) {
			_, resp := serve(t, tc.fixture)
			body := decode(t, resp)
			restricted := 0
			for _, r := range body.Rows {
				if r.Restricted {
					restricted++
				}
			}
			if (restricted > 0) != tc.wantRestricted {
				t.Errorf("%d restricted rows of %d, want restricted=%v", restricted, len(body.Rows), tc.wantRestricted)
			}
			if len(body.Rows) == 0 {
				t.Error("no rows at all")
			}
		})
	}
}

// TestCallerIsTheIdentityTheAuthorizerPassed proves the context reaches the
// backend intact, settings decoded back into their types.
func TestCallerIsTheIdentityTheAuthorizerPassed(t *testing.T) {
	for _, fixture := range []string{"data-get", "data-userless", "data-public-only-include-restricted", "feed-get"} {
		t.Run(fixture, func(t *testing.T) {
			req, resp := serve(t, fixture)
			got := decode(t, resp).Caller
			ctx := req.RequestContext.Authorizer
			if got.AccountID != ctx["accountId"] || got.TokenID != ctx["tokenId"] || got.Type != ctx["tokenType"] || got.Service != ctx["service"] {
				t.Errorf("caller = %+v, context %v", got, ctx)
			}
			if (got.UserID == nil) != (ctx["userId"] == "") || (got.UserID != nil && *got.UserID != ctx["userId"]) {
				t.Errorf("userId = %v, context %v", got.UserID, ctx["userId"])
			}
			var want map[string]any
			if err := json.Unmarshal([]byte(ctx["settings"].(string)), &want); err != nil {
				t.Fatal(err)
			}
			if len(got.Settings) != len(want) {
				t.Errorf("settings = %v, want %v", got.Settings, want)
			}
			for k, v := range want {
				if got.Settings[k] != v {
					t.Errorf("settings[%s] = %v, want %v", k, got.Settings[k], v)
				}
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	cases := []struct {
		fixture string
		status  int
		code    string
	}{
		{"data-service-mismatch", http.StatusForbidden, "forbidden"},
		{"data-no-authorizer", http.StatusUnauthorized, "unauthorized"},
		{"data-include-restricted-invalid", http.StatusBadRequest, "invalid_include_restricted"},
		{"data-settings-corrupt", http.StatusInternalServerError, "internal_error"},
	}
	for _, tc := range cases {
		t.Run(tc.fixture, func(t *testing.T) {
			_, resp := serve(t, tc.fixture)
			var body struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status || body.Error.Code != tc.code || body.Error.Message == "" {
				t.Errorf("got %d %s, want %d %s", resp.StatusCode, resp.Body, tc.status, tc.code)
			}
		})
	}
}

func TestNewRefusesANilLogger(t *testing.T) {
	if _, err := New(nil); err == nil {
		t.Error("New accepted a nil logger")
	}
}

// TestDataAnswerNeverEchoesItsPath: a token (or anything else) a caller
// puts in the path below the service never comes back in the 200: the
// answer names its data set by an opaque ID.
func TestDataAnswerNeverEchoesItsPath(t *testing.T) {
	const planted = "46a4eccec1414feab118287f5af26f03"
	req, _ := serve(t, "data-get")
	b, err := New(slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	for _, proxy := range []string{planted, "hourly/" + planted, "x" + planted + "y", "hourly"} {
		t.Run(proxy, func(t *testing.T) {
			req.PathParameters = map[string]string{"service": req.PathParameters["service"], "proxy": proxy}
			req.Path = "/data/" + req.PathParameters["service"] + "/" + proxy
			resp, err := b.Serve(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			body := decode(t, resp)
			if strings.Contains(resp.Body, proxy) {
				t.Fatalf("the answer repeats the path %q: %s", proxy, resp.Body)
			}
			if !regexp.MustCompile(`^ds_[0-9a-f]{8}$`).MatchString(body.Dataset) {
				t.Fatalf("dataset = %q, want an opaque ds_ ID", body.Dataset)
			}
		})
	}
}

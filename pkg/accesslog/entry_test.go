package accesslog

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func sampleEntry() Entry {
	return Entry{
		RequestID: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", RequestTimeEpoch: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC).UnixMilli(),
		HTTPMethod: "GET", ResourcePath: "/feed/{token}/{service}/{proxy+}", Status: 200, ResponseLatency: 42,
		SourceIP: "203.0.113.7", AccountID: "acc1", TokenID: "tok1", TokenType: "user", UserID: "usr1", Service: "tmy", Outcome: "ok",
	}
}

func TestFormatKeysAreEntryKeys(t *testing.T) {
	// API Gateway fills Format; Parse reads Entry's keys: they must agree.
	rendered := strings.NewReplacer("$context.", "x").Replace(Format)
	var formatKeys map[string]any
	if err := json.Unmarshal([]byte(rendered), &formatKeys); err != nil {
		t.Fatalf("Format is not JSON once variables are filled: %v", err)
	}
	var entryKeys map[string]any
	if err := json.Unmarshal(Entry{}.Line(), &entryKeys); err != nil {
		t.Fatal(err)
	}
	if len(formatKeys) != len(entryKeys) {
		t.Errorf("Format has %d keys, Entry %d", len(formatKeys), len(entryKeys))
	}
	for k := range entryKeys {
		if _, ok := formatKeys[k]; !ok {
			t.Errorf("Entry key %q is missing from Format", k)
		}
	}
	if strings.Contains(Format, "$context.path") {
		t.Error("Format logs $context.path, which can carry a path-form token")
	}
}

func TestParseReadsWhatLineWrites(t *testing.T) {
	for _, e := range []Entry{sampleEntry(), {RequestID: "r", RequestTimeEpoch: 1, Status: 401}} {
		got, err := Parse(e.Line())
		if err != nil {
			t.Fatalf("Parse(%s): %v", e.Line(), err)
		}
		if got != e {
			t.Errorf("round trip\n got %+v\nwant %+v", got, e)
		}
	}
}

func TestLineWritesDashForEmptyValuesAsAPIGatewayDoes(t *testing.T) {
	line := string(Entry{RequestID: "r", RequestTimeEpoch: 1, Status: 401}.Line())
	if !strings.Contains(line, `"tokenId":"-"`) || strings.Contains(line, `""`) {
		t.Errorf("empty values not written as \"-\": %s", line)
	}
}

func TestParseToleratesAPIGatewayEncodings(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		want       Entry
	}{
		{"unquoted numbers", `{"requestId":"r","requestTimeEpoch":1700000000000,"status":403,"responseLatency":7}`,
			Entry{RequestID: "r", RequestTimeEpoch: 1700000000000, Status: 403, ResponseLatency: 7}},
		{"dash for empty", `{"requestId":"r","requestTimeEpoch":"5","status":"401","responseLatency":"-","tokenId":"-","userId":"-"}`,
			Entry{RequestID: "r", RequestTimeEpoch: 5, Status: 401}},
		{"null values", `{"requestId":"r","requestTimeEpoch":"5","tokenId":null}`, Entry{RequestID: "r", RequestTimeEpoch: 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse([]byte(tc.line))
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseRejectsMalformedLines(t *testing.T) {
	for _, line := range []string{
		``, `not json`, `[1,2]`, `null`, `{"requestId":"r"}`, `{"requestTimeEpoch":"5"}`,
		`{"requestId":"r","requestTimeEpoch":"soon"}`, `{"requestId":"r","requestTimeEpoch":"5","status":"ok"}`,
		`{"requestId":"r","requestTimeEpoch":"5"`,
	} {
		if _, err := Parse([]byte(line)); !errors.Is(err, ErrMalformed) {
			t.Errorf("Parse(%q) = %v, want ErrMalformed", line, err)
		}
	}
}

func TestParseDecisionAttributesRefusedCalls(t *testing.T) {
	fallback := time.UnixMilli(99)
	for _, tc := range []struct {
		name, line string
		decision   Decision
		status     int
		epoch      int64
	}{
		{"unauthorized with logger time", `{"time":"2025-03-01T12:00:00.123Z","level":"INFO","msg":"decision","requestId":"r","accountId":"a","tokenId":"t","decision":"unauthorized","resourcePath":"/data/{service}/{proxy+}"}`,
			DecisionUnauthorized, 401, time.Date(2025, 3, 1, 12, 0, 0, 123e6, time.UTC).UnixMilli()},
		{"deny with request time", `{"requestId":"r","requestTimeEpoch":1234,"decision":"deny"}`, DecisionDeny, 403, 1234},
		{"allow without time", `{"requestId":"r","decision":"allow"}`, DecisionAllow, 0, 99},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, d, err := ParseDecision([]byte(tc.line), fallback)
			if err != nil {
				t.Fatal(err)
			}
			if d != tc.decision || e.Status != tc.status || e.RequestTimeEpoch != tc.epoch || e.RequestID != "r" {
				t.Errorf("got %q %+v", d, e)
			}
		})
	}
	if _, _, err := ParseDecision([]byte(`{"requestId":"r","decision":"maybe"}`), fallback); !errors.Is(err, ErrMalformed) {
		t.Errorf("unknown decision: %v, want ErrMalformed", err)
	}
	if !IsDecision([]byte(`{"decision":"deny"}`)) || IsDecision(sampleEntry().Line()) {
		t.Error("IsDecision confuses decision lines and access-log lines")
	}
}

func TestDecisionOfMatchesWhatTheSubscriptionFilterMatches(t *testing.T) {
	for line, want := range map[string]Decision{
		`{"time":"2025-03-01T12:00:00Z","msg":"authorizer decision","requestId":"r","decision":"unauthorized"}`: DecisionUnauthorized,
		`{"requestId":"r","decision":"allow"}`:                         DecisionAllow,
		`{"requestId":"r","decision":"deny"}`:                          DecisionDeny,
		`{"requestId":"r","msg":"the word \"decision\" in a message"}`: "",
		`{"decision":`:               "",
		string(sampleEntry().Line()): "",
	} {
		if got := DecisionOf([]byte(line)); got != want {
			t.Errorf("DecisionOf(%s) = %q, want %q", line, got, want)
		}
	}
}

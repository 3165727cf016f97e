package accesslog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func sampleEntry() Entry {
	return Entry{
		RequestID: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", RequestTimeEpoch: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC).UnixMilli(),
		HTTPMethod: "GET", ResourcePath: "/feed/{token}/{service}/{proxy+}", Status: 200, ResponseLatency: 42,
		SourceIP: "203.0.113.7", AccountID: "acc1", TokenID: "tok1", TokenType: "user", UserID: "usr1", Service: "tmy", Outcome: "ok",
		Path: "/feed/{token}/tmy/hourly", Query: "format=csv",
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

func TestParseDecisionDatesALineWithoutTimeByItsEvent(t *testing.T) {
	fallback := time.UnixMilli(99).UTC()
	for _, tc := range []struct {
		name, line string
		decision   Decision
		status     int
		at         time.Time
	}{
		{"unauthorized with logger time", `{"time":"2025-03-01T12:00:00.123Z","level":"INFO","msg":"authorizer decision","requestId":"r","accountId":"a","tokenId":"t","decision":"unauthorized","resource":"/data/{service}/{proxy+}"}`,
			DecisionUnauthorized, 401, time.Date(2025, 3, 1, 12, 0, 0, 123e6, time.UTC)},
		{"deny", `{"requestId":"r","decision":"deny"}`, DecisionDeny, 403, fallback},
		{"allow without time", `{"requestId":"r","decision":"allow"}`, DecisionAllow, 0, fallback},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := ParseDecision([]byte(tc.line), fallback)
			if err != nil {
				t.Fatal(err)
			}
			e := l.Entry()
			if l.Decision != tc.decision || e.Status != tc.status || !l.Time.Equal(tc.at) || e.RequestTimeEpoch != tc.at.UnixMilli() || e.RequestID != "r" {
				t.Errorf("got %+v", l)
			}
		})
	}
	for _, line := range []string{`{"requestId":"r","decision":"maybe"}`, `{"decision":"deny"}`, `not json`, `{"requestId":"r","decision":"deny","status":"x"}`} {
		if _, err := ParseDecision([]byte(line), fallback); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseDecision(%s) = %v, want ErrMalformed", line, err)
		}
	}
	if !IsDecision([]byte(`{"decision":"deny"}`)) || IsDecision(sampleEntry().Line()) {
		t.Error("IsDecision confuses decision lines and access-log lines")
	}
}

// TestDecisionLineRoundTrips holds the writer and the reader of the
// decision line to one definition: every field Log writes, ParseDecision
// reads back unchanged.
func TestDecisionLineRoundTrips(t *testing.T) {
	want := DecisionLine{
		RequestID: "req-1", Decision: DecisionUnauthorized, Status: 401, Outcome: "disabled",
		AccountID: "acc_1", TokenID: "tok_1", TokenType: "user", UserID: "usr_1", Service: "tmy",
		HTTPMethod: "GET", Resource: "/feed/{token}/{service}/{proxy+}", Path: "/feed/{token}/tmy/hourly",
		Query: "a=1&b=2", SourceIP: "203.0.113.7", LatencyUs: 1234, Error: "boom",
	}
	// Every field set: a field added to the struct but not to Log fails.
	v := reflect.ValueOf(want)
	for i := range v.NumField() {
		if f := v.Type().Field(i); f.Name != "Time" && v.Field(i).IsZero() {
			t.Fatalf("field %s is not set in the test value", f.Name)
		}
	}
	var buf bytes.Buffer
	want.Log(t.Context(), slog.New(slog.NewJSONHandler(&buf, nil)))
	got, err := ParseDecision(bytes.TrimSpace(buf.Bytes()), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Time.IsZero() {
		t.Error("the logger's time was not read back")
	}
	want.Time = got.Time
	if got != want {
		t.Errorf("round trip\n got %+v\nwant %+v", got, want)
	}
}

func TestDecisionLineLogRedactsEveryField(t *testing.T) {
	const token = "46a4eccec1414feab118287f5af26f03"
	l := DecisionLine{
		RequestID: token, Decision: DecisionDeny, Outcome: token, AccountID: token, TokenID: token,
		TokenType: token, UserID: token, Service: token + strings.Repeat("s", 2000), HTTPMethod: token,
		Resource: token, Path: "/data/" + token, Query: "q=" + strings.ToUpper(token), SourceIP: token, Error: token,
	}
	var buf bytes.Buffer
	l.Log(t.Context(), slog.New(slog.NewJSONHandler(&buf, nil)))
	if strings.Contains(strings.ToLower(buf.String()), token) {
		t.Errorf("the line holds a token: %s", buf.String())
	}
	got, err := ParseDecision(bytes.TrimSpace(buf.Bytes()), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Service != "{token}"+strings.Repeat("s", 64-len("{token}")) {
		t.Errorf("service %q: want redacted and cut to 64 bytes", got.Service)
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

// parseByMap is how Parse read a line before it walked tokens: through
// encoding/json into a map. It is the oracle the faster Parse is held to.
func parseByMap(line []byte) (Entry, bool) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var m map[string]any
	if dec.Decode(&m) != nil || m == nil {
		return Entry{}, false
	}
	str := func(k string) string {
		switch v := m[k].(type) {
		case string:
			if v == "-" {
				return ""
			}
			return v
		case json.Number:
			return v.String()
		case bool:
			return fmt.Sprint(v)
		}
		return ""
	}
	num := func(k string) (int64, bool) {
		s := strings.TrimSpace(str(k))
		if s == "" {
			return 0, true
		}
		n, err := strconv.ParseInt(s, 10, 64)
		return n, err == nil
	}
	epoch, ok1 := num("requestTimeEpoch")
	status, ok2 := num("status")
	latency, ok3 := num("responseLatency")
	e := Entry{
		RequestID: str("requestId"), RequestTimeEpoch: epoch, HTTPMethod: str("httpMethod"), ResourcePath: str("resourcePath"),
		Status: int(status), ResponseLatency: latency, SourceIP: str("sourceIp"), ErrorType: str("errorType"),
		AccountID: str("accountId"), TokenID: str("tokenId"), TokenType: str("tokenType"), UserID: str("userId"),
		Service: str("service"), Outcome: str("outcome"), Path: str("path"), Query: str("query"),
	}
	return e, ok1 && ok2 && ok3 && e.RequestID != "" && e.RequestTimeEpoch > 0
}

func TestParseReadsOddLinesAsEncodingJSONWould(t *testing.T) {
	for _, line := range []string{
		string(sampleEntry().Line()),
		`{"requestId":"r","requestTimeEpoch":"5","tokenId":"a","tokenId":"b"}`,       // a duplicate: the last wins
		`{"requestId":"r","requestTimeEpoch":5} trailing words`,                      // one value read, the rest ignored
		`{"requestId":"r","requestTimeEpoch":5,"userId":true,"service":12.5}`,        // booleans and numbers as text
		`{"requestId":"r","requestTimeEpoch":5,"path":{"a":[1,2]},"query":[1]}`,      // objects and arrays as empty
		"{\"requestId\":\"r\\u00e9\\n\",\"requestTimeEpoch\":5,\"path\":\"\xff/x\"}", // escapes, invalid UTF-8
		`{"RequestId":"r","requestTimeEpoch":5}`,                                     // keys match exactly
		`{"requestId":"r","requestTimeEpoch":" 7 ","status":"-"}`,
		`{"requestId":"r","requestTimeEpoch":5,"other":{"deep":{"x":1}},"tokenId":"t"}`,
		`{"requestId":"r","requestTimeEpoch":99999999999999999999}`,
		`{"requestId":"r","requestTimeEpoch":5,}`, `{"requestId":"r" "requestTimeEpoch":5}`, `{`, `"just a string"`,
	} {
		want, ok := parseByMap([]byte(line))
		got, err := Parse([]byte(line))
		if ok != (err == nil) || (ok && got != want) {
			t.Errorf("Parse(%q) = %+v, %v\nencoding/json reads %+v, ok %v", line, got, err, want, ok)
		}
	}
}

// FuzzParseAgreesWithEncodingJSON: whatever a log line holds, Parse reads
// it as encoding/json did, or refuses it where encoding/json refused it.
func FuzzParseAgreesWithEncodingJSON(f *testing.F) {
	f.Add(string(sampleEntry().Line()))
	f.Add(`{"requestId":"r","requestTimeEpoch":5,"tokenId":"a","tokenId":"b"} x`)
	f.Add(`{"requestId":"r","requestTimeEpoch":"5","path":{"a":[1,"\u00e9"]},"status":null}`)
	f.Fuzz(func(t *testing.T, line string) {
		want, ok := parseByMap([]byte(line))
		got, err := Parse([]byte(line))
		if ok != (err == nil) || (ok && got != want) {
			t.Errorf("Parse(%q) = %+v, %v\nencoding/json reads %+v, ok %v", line, got, err, want, ok)
		}
	})
}

package recorder

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/acmedata/tokenservice/pkg/accesslog"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

var update = flag.Bool("update", false, "rewrite the events/recorder fixtures from the code that writes their lines")

// fixtureTime is when the fixtures' calls happened.
var fixtureTime = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// accessLogFixture is a delivery of the stage access log: two served calls
// and a 403 of known tokens (one line delivered twice), a 401 and an admin
// call without a token, and two broken lines. Each line is what
// accesslog.Entry.Line renders, API Gateway's rendering of Format.
func accessLogFixture() events.CloudwatchLogsData {
	at := func(ms int) int64 { return fixtureTime.Add(time.Duration(ms) * time.Millisecond).UnixMilli() }
	served := accesslog.Entry{
		RequestID: "5f0e1b7a-0001-4c1e-9d7e-aa0000000001", RequestTimeEpoch: at(100), HTTPMethod: "GET",
		ResourcePath: "/data/{service}/{proxy+}", Status: 200, ResponseLatency: 41, SourceIP: "203.0.113.10",
		AccountID: "acc_fixture1", TokenID: "tok_fixtureuser", TokenType: "user", UserID: "usr_fixture1",
		Service: "tmy", Outcome: tokens.Valid.Code(), Path: "/data/tmy/hourly", Query: "includeRestricted=true",
	}
	denied := accesslog.Entry{
		RequestID: "5f0e1b7a-0002-4c1e-9d7e-aa0000000002", RequestTimeEpoch: at(200), HTTPMethod: "GET",
		ResourcePath: "/feed/{token}/{service}/{proxy+}", Status: 403, ResponseLatency: 9, SourceIP: "203.0.113.11",
		ErrorType: "ACCESS_DENIED", AccountID: "acc_fixture1", TokenID: "tok_fixtureuserless", TokenType: "userless",
		Service: "timeseries", Outcome: tokens.WrongService.Code(), Path: "/feed/{token}/timeseries/daily",
	}
	unauthorized := accesslog.Entry{
		RequestID: "5f0e1b7a-0003-4c1e-9d7e-aa0000000003", RequestTimeEpoch: at(300), HTTPMethod: "GET",
		ResourcePath: "/data/{service}/{proxy+}", Status: 401, ResponseLatency: 6, SourceIP: "203.0.113.12", ErrorType: "UNAUTHORIZED",
	}
	admin := accesslog.Entry{
		RequestID: "5f0e1b7a-0004-4c1e-9d7e-aa0000000004", RequestTimeEpoch: at(400), HTTPMethod: "GET",
		ResourcePath: "/admin/usage", Status: 200, ResponseLatency: 30, SourceIP: "203.0.113.13", AccountID: "acc_fixture1",
	}
	later := served
	later.RequestID, later.RequestTimeEpoch, later.ResponseLatency, later.Path, later.Query = "5f0e1b7a-0008-4c1e-9d7e-aa0000000008", at(800), 55, "/data/tmy/daily", ""
	return delivery("API-Gateway-Execution-Logs_abc123/prod", "f2ba14b4c79a4ba5eb5bf5b9bd3ae1ba", "usage-recorder",
		string(served.Line()), string(denied.Line()), string(unauthorized.Line()), string(admin.Line()),
		"not a json line", string(served.Line()[:60]), string(served.Line()), string(later.Line()))
}

// authorizerLogFixture is a delivery of the token authorizer's log group:
// a platform line, then decision lines as accesslog.DecisionLine.Log
// writes them (the authorizer's only way to write one): a 401 of a known
// token, a 401 of an unknown token, an allow and a deny.
func authorizerLogFixture(t *testing.T) events.CloudwatchLogsData {
	t.Helper()
	lines := []accesslog.DecisionLine{
		{RequestID: "6a1d0c3e-0001-4b2a-8f00-bb0000000001", Decision: accesslog.DecisionUnauthorized, Status: 401, Outcome: tokens.Disabled.Code(),
			AccountID: "acc_fixture1", TokenID: "tok_fixturedisabled", TokenType: "user", UserID: "usr_fixture1", Service: "tmy",
			HTTPMethod: "GET", Resource: "/feed/{token}/{service}/{proxy+}", Path: "/feed/{token}/tmy/hourly", Query: "from=2025-03-01",
			SourceIP: "198.51.100.20", LatencyUs: 2100},
		{RequestID: "6a1d0c3e-0002-4b2a-8f00-bb0000000002", Decision: accesslog.DecisionUnauthorized, Status: 401, Outcome: tokens.Unknown.Code(),
			Service: "tmy", HTTPMethod: "GET", Resource: "/data/{service}/{proxy+}", Path: "/data/tmy/hourly", SourceIP: "198.51.100.21", LatencyUs: 1800},
		{RequestID: "5f0e1b7a-0001-4c1e-9d7e-aa0000000001", Decision: accesslog.DecisionAllow, Outcome: tokens.Valid.Code(),
			AccountID: "acc_fixture1", TokenID: "tok_fixtureuser", TokenType: "user", UserID: "usr_fixture1", Service: "tmy",
			HTTPMethod: "GET", Resource: "/data/{service}/{proxy+}", Path: "/data/tmy/hourly", SourceIP: "203.0.113.10", LatencyUs: 2500},
		{RequestID: "5f0e1b7a-0002-4c1e-9d7e-aa0000000002", Decision: accesslog.DecisionDeny, Status: 403, Outcome: tokens.WrongService.Code(),
			AccountID: "acc_fixture1", TokenID: "tok_fixtureuserless", TokenType: "userless", Service: "timeseries",
			HTTPMethod: "GET", Resource: "/feed/{token}/{service}/{proxy+}", Path: "/feed/{token}/timeseries/daily", SourceIP: "203.0.113.11", LatencyUs: 2300},
	}
	messages := []string{"START RequestId: 0f4c-aaaa Version: $LATEST"}
	for i, l := range lines {
		var buf bytes.Buffer
		logTime := fixtureTime.Add(time.Second + time.Duration(i)*time.Millisecond)
		l.Log(context.Background(), slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{
			ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey {
					a.Value = slog.TimeValue(logTime)
				}
				return a
			},
		})))
		messages = append(messages, string(bytes.TrimSpace(buf.Bytes())))
	}
	return delivery("/aws/lambda/tokenservice-authorizer", "2025/03/01/[$LATEST]0b1c2d3e4f", "usage-recorder-refused", messages...)
}

func delivery(group, stream, filter string, messages ...string) events.CloudwatchLogsData {
	d := events.CloudwatchLogsData{
		MessageType: accesslog.MessageTypeData, Owner: "123456789012", LogGroup: group, LogStream: stream,
		SubscriptionFilters: []string{filter},
	}
	for i, m := range messages {
		d.LogEvents = append(d.LogEvents, events.CloudwatchLogsLogEvent{
			ID: fmt.Sprintf("38%054d", i), Timestamp: fixtureTime.UnixMilli() + int64(i) + 1000, Message: m,
		})
	}
	return d
}

// TestFixturesAreWhatOurCodeWrites keeps the recorder's fixtures in step
// with the code that writes their lines: run with -update to rewrite them.
func TestFixturesAreWhatOurCodeWrites(t *testing.T) {
	for name, data := range map[string]events.CloudwatchLogsData{
		"access-log":     accessLogFixture(),
		"authorizer-log": authorizerLogFixture(t),
	} {
		t.Run(name, func(t *testing.T) {
			decoded, err := json.MarshalIndent(data, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			raw, err := json.Marshal(data)
			if err != nil {
				t.Fatal(err)
			}
			var gz bytes.Buffer
			zw := gzip.NewWriter(&gz)
			_, _ = zw.Write(raw)
			if err := zw.Close(); err != nil {
				t.Fatal(err)
			}
			ev, err := json.MarshalIndent(events.CloudwatchLogsEvent{AWSLogs: events.CloudwatchLogsRawData{
				Data: base64.StdEncoding.EncodeToString(gz.Bytes()),
			}}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			for file, want := range map[string][]byte{name + ".decoded.json": decoded, name + ".json": ev} {
				path := filepath.Join("..", "..", "..", "events", "recorder", file)
				want = append(want, '\n')
				if *update {
					if err := os.WriteFile(path, want, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				got, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s differs from what the code writes: run go test ./pkg/usage/recorder -run TestFixtures -update", file)
				}
			}
		})
	}
}

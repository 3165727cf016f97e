// Command usagebench measures the usage pipeline against DynamoDB Local and
// prints each figure beside its target (make bench), failing if any is
// missed:
//
//   - write units per recorded call, from ReturnConsumedCapacity INDEXES
//     over a realistic mix (target <= 0.25);
//   - the recorder's throughput on a 10,000-record delivery against a raw
//     BatchWriteItem loop writing every item the recorder leaves: packs,
//     count totals and markers (target >= 0.8x);
//   - the hottest partition's write units for one second of one token at
//     10,000 calls/s, from the keys actually written (target <= 1,000);
//   - what one million authorised calls cost on AWS beside API Gateway's
//     own price, from these figures and the public prices below (target:
//     everything but API Gateway <= 0.25x API Gateway).
//
// It uses $DYNAMODB_ENDPOINT if set, else starts its own DynamoDB Local.
//
//	go run ./scripts/usagebench [-n 10000]
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"sort"

	"github.com/acmedata/tokenservice/pkg/accesslog"
	"github.com/acmedata/tokenservice/pkg/local/dynamolocal"
	"github.com/acmedata/tokenservice/pkg/schema"
	"github.com/acmedata/tokenservice/pkg/testkit/usagebench"
)

// Targets.
const (
	maxWCUPerCall   = 0.25
	minRatio        = 0.8
	maxPartitionWCU = 1000.0
	hotRate         = 10000
	maxCostShare    = 0.25
)

// Public on-demand prices, us-east-1, as published on 2026-12-01.
const (
	// https://aws.amazon.com/api-gateway/pricing/ : REST APIs, first 333 million requests a month.
	priceAPIGatewayPerMillion = 3.50
	// https://aws.amazon.com/lambda/pricing/ : Arm, per GB-second and per million requests.
	priceLambdaGBSecondArm = 0.0000133334
	priceLambdaPerMillion  = 0.20
	// https://aws.amazon.com/cloudwatch/pricing/ : Logs, standard ingestion per GB.
	priceLogsIngestPerGB = 0.50
	// https://aws.amazon.com/dynamodb/pricing/on-demand/ : per million write and read request units.
	priceDynamoWritePerMillion = 0.625
	priceDynamoReadPerMillion  = 0.125
)

// Assumptions of the cost model, beside what is measured.
var (
	authorizerMiB = flag.Float64("authorizer-mib", 256, "token authorizer memory (gofn's default)")
	authorizerMs  = flag.Float64("authorizer-ms", 4, "token authorizer's average billed milliseconds per call (a cached credential ~1 ms, a GetItem ~8 ms)")
	readsPerCall  = flag.Float64("read-units", 0.5, "read units per call: one eventually consistent GetItem, as if the revocation cache never hit")
	recorderMiB   = flag.Float64("recorder-mib", 512, "usage recorder memory (infra/stack/functions.go)")
	linesPerBatch = flag.Int("lines-per-delivery", 1000, "log lines per recorder invocation")
)

func main() {
	n := flag.Int("n", 10000, "records in the throughput delivery")
	flag.Parse()
	if err := run(context.Background(), *n); err != nil {
		fmt.Fprintln(os.Stderr, "usagebench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, n int) error {
	_, client, stop, err := dynamolocal.Connect(ctx, dynamolocal.Options{})
	if err != nil {
		return err
	}
	defer func() { _ = stop() }()
	var drops []func(context.Context) error
	defer func() {
		for _, drop := range drops {
			_ = drop(context.Background())
		}
	}()
	newTable := func() (string, error) {
		names, drop, err := dynamolocal.FreshTables(ctx, client, "bench", []schema.Table{schema.Usage})
		if err != nil {
			return "", err
		}
		drops = append(drops, drop)
		return names[schema.Usage.ID], nil
	}
	var misses []error
	check := func(ok bool, format string, args ...any) {
		status := "ok"
		if !ok {
			status = "MISS"
			misses = append(misses, fmt.Errorf(format, args...))
		}
		fmt.Printf("  %-4s  "+format+"\n", append([]any{status}, args...)...)
	}

	fmt.Println("usage pipeline (DynamoDB Local):")
	evs, calls, err := usagebench.Mix(10, *linesPerBatch, 1)
	if err != nil {
		return err
	}
	table, err := newTable()
	if err != nil {
		return err
	}
	cost, err := usagebench.MeasureWriteCost(ctx, client, table, evs, calls)
	if err != nil {
		return err
	}
	check(cost.PerCall() <= maxWCUPerCall, "write units per recorded call: %.3f (target <= %.2f; %d calls of a mix: %s)",
		cost.PerCall(), maxWCUPerCall, cost.Calls, breakdown(cost))

	res, err := usagebench.Compare(ctx, client, newTable, n)
	if err != nil {
		return err
	}
	check(res.Ratio() >= minRatio, "recorder throughput: %.2fx a raw BatchWriteItem loop (target >= %.1fx; %s)", res.Ratio(), minRatio, res)
	fmt.Printf("        %s\n", res.Reads())

	hotEvs, hotCalls, err := usagebench.HotToken(hotRate, *linesPerBatch)
	if err != nil {
		return err
	}
	if table, err = newTable(); err != nil {
		return err
	}
	hot, err := usagebench.MeasureWriteCost(ctx, client, table, hotEvs, hotCalls)
	if err != nil {
		return err
	}
	check(hot.HottestWCU <= maxPartitionWCU, "hottest partition at %d calls/s on one token: %.0f WCU/s (target <= %.0f; %s)",
		hotRate, hot.HottestWCU, maxPartitionWCU, hot.HottestPartition)

	// One million authorised calls.
	const million = 1e6
	accessLine, decisionLine := typicalLines()
	perEvent := 26.0 // CloudWatch Logs' per-event overhead, bytes
	logGB := million * (float64(len(accessLine)) + float64(len(decisionLine)) + 2*perEvent) / (1 << 30)
	invocations := million / float64(*linesPerBatch)
	recorderSeconds := cost.Recorder.Seconds() / float64(len(evs)) // per delivery, as measured locally
	items := []struct {
		name string
		usd  float64
	}{
		{"token authorizer (Lambda)", million*priceLambdaPerMillion/million + million**authorizerMs/1000**authorizerMiB/1024*priceLambdaGBSecondArm},
		{"usage recorder (Lambda)", invocations*priceLambdaPerMillion/million + invocations*recorderSeconds**recorderMiB/1024*priceLambdaGBSecondArm},
		{fmt.Sprintf("CloudWatch Logs ingestion (%d B access + %d B decision line)", len(accessLine), len(decisionLine)), logGB * priceLogsIngestPerGB},
		{fmt.Sprintf("DynamoDB writes (%.3f WCU/call)", cost.PerCall()), cost.PerCall() * priceDynamoWritePerMillion},
		{fmt.Sprintf("DynamoDB reads (%.2f RCU/call)", *readsPerCall), *readsPerCall * priceDynamoReadPerMillion},
	}
	fmt.Printf("\n  one million authorised calls on AWS (us-east-1, on-demand):\n")
	fmt.Printf("    %-62s $%.3f\n", "API Gateway REST", priceAPIGatewayPerMillion)
	var rest float64
	for _, it := range items {
		fmt.Printf("    %-62s $%.3f\n", it.name, it.usd)
		rest += it.usd
	}
	check(rest <= maxCostShare*priceAPIGatewayPerMillion, "everything but API Gateway: $%.3f = %.2fx API Gateway's price (target <= %.2fx)",
		rest, rest/priceAPIGatewayPerMillion, maxCostShare)
	return errors.Join(misses...)
}

// breakdown lists the write units by table and index.
func breakdown(c usagebench.WriteCost) string {
	keys := make([]string, 0, len(c.ByKey))
	for k := range c.ByKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %.3f", k, c.ByKey[k]/float64(c.Calls))
	}
	return b.String()
}

// typicalLines are a served call's access-log line and decision line.
func typicalLines() (access, decision []byte) {
	e := accesslog.Entry{
		RequestID: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", RequestTimeEpoch: 1740830400000, HTTPMethod: "GET",
		ResourcePath: "/data/{service}/{proxy+}", Path: "/data/tmy/hourly", Query: "from=2025-03-01&to=2025-03-02", Status: 200,
		ResponseLatency: 41, SourceIP: "203.0.113.10", AccountID: "acc_01jdx8v0f8q2m4r6t8w0y2a4c6", TokenID: "tok_01jdx8v0f8q2m4r6t8w0y2a4c7",
		TokenType: "userless", Service: "tmy", Outcome: "valid",
	}
	var buf bytes.Buffer
	accesslog.DecisionLine{
		RequestID: e.RequestID, Decision: accesslog.DecisionAllow, Outcome: "valid", AccountID: e.AccountID, TokenID: e.TokenID,
		TokenType: e.TokenType, Service: e.Service, HTTPMethod: "GET", Resource: e.ResourcePath, Path: e.Path, Query: e.Query,
		SourceIP: e.SourceIP, LatencyUs: 850,
	}.Log(context.Background(), slog.New(slog.NewJSONHandler(&buf, nil)))
	return e.Line(), bytes.TrimSpace(buf.Bytes())
}

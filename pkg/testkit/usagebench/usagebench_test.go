package usagebench

import (
	"os"
	"testing"

	"github.com/acmedata/tokenservice/pkg/schema"
	"github.com/acmedata/tokenservice/pkg/testkit/dynamotest"
)

func TestMain(m *testing.M) { os.Exit(dynamotest.Run(m)) }

// BenchmarkRecorderVsRawBatchWrite reports the recorder's and the raw
// loop's records/s on 10,000-record deliveries, and their ratio.
func BenchmarkRecorderVsRawBatchWrite(b *testing.B) {
	client := dynamotest.Client(b)
	newTable := func() (string, error) { return dynamotest.Tables(b)[schema.Usage.ID], nil }
	for b.Loop() {
		res, err := Compare(b.Context(), client, newTable, 10000)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(res.RecorderRate(), "recorder-rec/s")
		b.ReportMetric(res.RawRate(), "raw-rec/s")
		b.ReportMetric(res.Ratio(), "ratio")
	}
}

// BenchmarkReadDelivery is the recorder's own work on a 10,000-line
// delivery, before any write (a store that writes nothing): the part of
// its time the raw loop in BenchmarkRecorderVsRawBatchWrite never spends.
func BenchmarkReadDelivery(b *testing.B) {
	ev, err := Event(Batch(10000))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Read(b.Context(), ev); err != nil {
			b.Fatal(err)
		}
	}
}

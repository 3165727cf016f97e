package stack

import (
	"fmt"
	"strings"
	"testing"

	"github.com/acmedata/tokenservice/infra/internal/cdktest"
)

// TestAFailedUsageDeliveryIsKeptEncryptedAlarmedAndReplayable: the
// recorder's failed deliveries go, after Lambda's two retries, to an
// encrypted SQS queue with an alarm on its depth, and a disabled mapping
// from that queue back to the recorder is there for make redrive.
func TestAFailedUsageDeliveryIsKeptEncryptedAlarmedAndReplayable(t *testing.T) {
	s := deployed(t)
	queues := s.ofType("AWS::SQS::Queue")
	if len(queues) != 1 {
		t.Fatalf("%d queues, want the usage failure queue", len(queues))
	}
	var queueID string
	for id, q := range queues {
		queueID = id
		if q.Properties["SqsManagedSseEnabled"] != true {
			t.Errorf("failure queue not encrypted: %v", q.Properties)
		}
	}
	recorderID := cdktest.LogicalID(s.stack.Stack, s.stack.Functions[recorder])
	configs := s.ofType("AWS::Lambda::EventInvokeConfig")
	found := false
	for _, c := range configs {
		p := c.Properties
		if strings.Contains(fmt.Sprint(p["FunctionName"]), recorderID) {
			found = true
			dest := fmt.Sprint(p["DestinationConfig"])
			if !strings.Contains(dest, queueID) || fmt.Sprint(p["MaximumRetryAttempts"]) != "2" {
				t.Errorf("recorder's async config %v: want two retries, then the failure queue", p)
			}
		}
	}
	if !found {
		t.Error("no on-failure destination for the recorder")
	}
	mappings := s.ofType("AWS::Lambda::EventSourceMapping")
	replay := 0
	for _, m := range mappings {
		if strings.Contains(fmt.Sprint(m.Properties["EventSourceArn"]), queueID) {
			replay++
			if m.Properties["Enabled"] != false || !strings.Contains(fmt.Sprint(m.Properties["FunctionResponseTypes"]), "ReportBatchItemFailures") {
				t.Errorf("replay mapping %v: want disabled until make redrive, with batch item failures", m.Properties)
			}
		}
	}
	if replay != 1 {
		t.Errorf("%d mappings from the failure queue, want one for make redrive", replay)
	}
	alarmed := false
	for _, a := range s.ofType("AWS::CloudWatch::Alarm") {
		if strings.Contains(fmt.Sprint(a.Properties["Dimensions"]), queueID) && a.Properties["MetricName"] == "ApproximateNumberOfMessagesVisible" {
			alarmed = true
		}
	}
	if !alarmed {
		t.Error("no alarm on the failure queue's depth")
	}
}

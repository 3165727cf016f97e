package cwlogs

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/acmedata/tokenservice/pkg/accesslog"
)

// Line is one log line with the time CloudWatch Logs ingested it.
type Line struct {
	Timestamp time.Time
	Message   []byte
}

// Batch describes one subscription delivery.
type Batch struct {
	Owner               string
	LogGroup            string
	LogStream           string
	SubscriptionFilters []string
	Lines               []Line
}

// eventSeq makes event IDs unique within the process, as CloudWatch's are
// within a log group.
var eventSeq atomic.Uint64

// Event wraps b exactly as CloudWatch Logs delivers a subscription to
// Lambda: awslogs.data is the base64 of the gzip of the JSON
// CloudwatchLogsData, messageType DATA_MESSAGE.
func Event(b Batch) (events.CloudwatchLogsEvent, error) {
	data := events.CloudwatchLogsData{
		Owner:               b.Owner,
		LogGroup:            b.LogGroup,
		LogStream:           b.LogStream,
		SubscriptionFilters: b.SubscriptionFilters,
		MessageType:         accesslog.MessageTypeData,
		LogEvents:           make([]events.CloudwatchLogsLogEvent, 0, len(b.Lines)),
	}
	for _, l := range b.Lines {
		data.LogEvents = append(data.LogEvents, events.CloudwatchLogsLogEvent{
			ID:        eventID(l.Timestamp),
			Timestamp: l.Timestamp.UnixMilli(),
			Message:   string(l.Message),
		})
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return events.CloudwatchLogsEvent{}, fmt.Errorf("cwlogs: encode subscription data: %w", err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(raw); err != nil {
		return events.CloudwatchLogsEvent{}, fmt.Errorf("cwlogs: gzip subscription data: %w", err)
	}
	if err := zw.Close(); err != nil {
		return events.CloudwatchLogsEvent{}, fmt.Errorf("cwlogs: gzip subscription data: %w", err)
	}
	return events.CloudwatchLogsEvent{AWSLogs: events.CloudwatchLogsRawData{
		Data: base64.StdEncoding.EncodeToString(buf.Bytes()),
	}}, nil
}

// eventID imitates CloudWatch's 56-digit event IDs: a millisecond time
// followed by a sequence number, unique and sortable.
func eventID(t time.Time) string {
	id := fmt.Sprintf("%020d%036d", t.UnixMilli(), eventSeq.Add(1))
	return id[:56]
}

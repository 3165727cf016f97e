package accesslog

import (
	"fmt"

	"github.com/aws/aws-lambda-go/events"
)

// MessageTypeData is the messageType of a subscription delivery that holds
// log events; CloudWatch Logs also sends CONTROL_MESSAGE deliveries to
// check that a destination is reachable, which hold none worth reading.
const MessageTypeData = "DATA_MESSAGE"

// Decode opens a subscription delivery. It is a thin wrapper over
// events.CloudwatchLogsRawData.Parse that adds context to its errors.
func Decode(ev events.CloudwatchLogsEvent) (events.CloudwatchLogsData, error) {
	data, err := ev.AWSLogs.Parse()
	if err != nil {
		return events.CloudwatchLogsData{}, fmt.Errorf("accesslog: decode awslogs.data (%d bytes): %w", len(ev.AWSLogs.Data), err)
	}
	return data, nil
}

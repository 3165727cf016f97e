package cwlogs

import (
	"testing"
	"time"

	"github.com/acmedata/tokenservice/pkg/accesslog"
)

func TestEventIsWhatCloudWatchLogsDelivers(t *testing.T) {
	at := time.UnixMilli(1700000000123)
	lines := []Line{{Timestamp: at, Message: []byte(`{"requestId":"r1"}`)}, {Timestamp: at, Message: []byte("second")}}
	ev, err := Event(Batch{Owner: "123456789012", LogGroup: "g", LogStream: "s", SubscriptionFilters: []string{"f"}, Lines: lines})
	if err != nil {
		t.Fatal(err)
	}
	data, err := accesslog.Decode(ev)
	if err != nil {
		t.Fatal(err)
	}
	if data.MessageType != accesslog.MessageTypeData || data.LogGroup != "g" || data.LogStream != "s" || data.Owner != "123456789012" ||
		len(data.SubscriptionFilters) != 1 || len(data.LogEvents) != 2 {
		t.Fatalf("envelope: %+v", data)
	}
	ids := map[string]bool{}
	for i, le := range data.LogEvents {
		if le.Message != string(lines[i].Message) || le.Timestamp != at.UnixMilli() || len(le.ID) != 56 {
			t.Errorf("event %d: %+v", i, le)
		}
		ids[le.ID] = true
	}
	if len(ids) != 2 {
		t.Error("event IDs are not unique")
	}
}

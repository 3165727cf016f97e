package dynamolocal

import (
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// TestClientKeepsIdleConnectionsForAWholeStack guards against the SDK's
// default of 10 idle connections per host, which made a local stack under
// 16 concurrent callers dial and drop over a hundred connections a second.
func TestClientKeepsIdleConnectionsForAWholeStack(t *testing.T) {
	bc, ok := testClient.Options().HTTPClient.(*awshttp.BuildableClient)
	if !ok {
		t.Fatalf("HTTP client is a %T, want the SDK's buildable client", testClient.Options().HTTPClient)
	}
	if tr := bc.GetTransport(); tr.MaxIdleConnsPerHost < 64 || tr.MaxIdleConns < tr.MaxIdleConnsPerHost {
		t.Errorf("idle connections: %d per host, %d in all; want at least 64 per host", tr.MaxIdleConnsPerHost, tr.MaxIdleConns)
	}
}

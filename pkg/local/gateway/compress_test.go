package gateway

import (
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/acmedata/tokenservice/pkg/routes"
)

// API Gateway compresses an answer of at least routes.MinimumCompressionSize
// bytes for a client that accepts gzip (the REST API's
// minimumCompressionSize, set by infra/stack from the same constant); the
// local gateway does the same, so what a browser measures locally is what
// it gets on AWS.
func TestAnswersOfTheMinimumSizeAreGzippedForClientsThatAcceptIt(t *testing.T) {
	big := strings.Repeat("console file ", routes.MinimumCompressionSize/10)
	small := strings.Repeat("x", routes.MinimumCompressionSize-1)
	answer := big
	f := newGateway(t, func(o *Options) {
		o.Functions[routes.Health] = func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
			return events.APIGatewayProxyResponse{StatusCode: http.StatusOK, Headers: map[string]string{"Content-Type": "text/plain"}, Body: answer}, nil
		}
	})

	rec := f.do(t, "GET", "/healthz", nil, http.Header{"Accept-Encoding": {"gzip, deflate, br"}})
	if rec.Header().Get("Content-Encoding") != "gzip" || rec.Body.Len() >= len(big) {
		t.Fatalf("Content-Encoding %q, %d bytes for %d; want gzip, smaller", rec.Header().Get("Content-Encoding"), rec.Body.Len(), len(big))
	}
	zr, err := gzip.NewReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(zr); err != nil || string(got) != big {
		t.Fatalf("the gzipped answer reads %d bytes (%v), want the function's %d", len(got), err, len(big))
	}
	if !strings.Contains(rec.Header().Get("Vary"), "Accept-Encoding") {
		t.Errorf("Vary %q: a cache could hand the gzipped answer to a client that cannot read it", rec.Header().Get("Vary"))
	}

	for name, tc := range map[string]struct {
		body, accept string
	}{
		"no Accept-Encoding":     {big, ""},
		"gzip refused":           {big, "gzip;q=0, identity"},
		"only brotli":            {big, "br"},
		"under the minimum size": {small, "gzip"},
	} {
		answer = tc.body
		rec := f.do(t, "GET", "/healthz", nil, http.Header{"Accept-Encoding": {tc.accept}})
		if rec.Header().Get("Content-Encoding") != "" || rec.Body.String() != tc.body {
			t.Errorf("%s: Content-Encoding %q, %d bytes; want the body as it is", name, rec.Header().Get("Content-Encoding"), rec.Body.Len())
		}
	}
}

package health_test

import (
	"context"
	"errors"
	"testing"

	"github.com/acmedata/tokenservice/pkg/handlers/health"
	"github.com/acmedata/tokenservice/pkg/testkit/handlertest"
)

type pinger struct{ err error }

func (p pinger) Ping(context.Context) error { return p.err }

func TestHealthReflectsWhetherTheStoreAnswers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		status int
	}{
		{"store up", nil, 200},
		{"store down", errors.New("connection refused"), 503},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := health.New(pinger{tc.err}, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp := handlertest.Call(t, h.Serve, "health/healthz.json", nil)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d body %s", resp.StatusCode, resp.Body)
			}
		})
	}
}

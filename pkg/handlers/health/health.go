// Package health serves GET /healthz: 200 when the function can reach its
// store, 503 otherwise, so a load balancer or an operator's probe can tell
// a broken deployment from a quiet one.
package health

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/httpapi"
	"github.com/acmedata/tokenservice/pkg/routes"
)

// Pinger checks that the store answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// timeout keeps a hung store from hanging the probe.
const timeout = 2 * time.Second

// handler's methods are the routes of the health check.
type handler struct {
	store Pinger
}

// New returns the router serving the health check over store.
func New(store Pinger, log *slog.Logger) (*httpapi.Router, error) {
	if store == nil {
		return nil, errors.New("health: nil store")
	}
	h := &handler{store: store}
	return httpapi.NewRouter(routes.Health, log, httpapi.Handlers{routes.HealthCheck: h.check})
}

// Status is the health check's body.
type Status struct {
	Status string `json:"status"`
}

func (h *handler) check(ctx context.Context, _ httpapi.Request) (int, any, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := h.store.Ping(ctx); err != nil {
		return 0, nil, apperr.Unavailable(err)
	}
	return http.StatusOK, Status{Status: "ok"}, nil
}

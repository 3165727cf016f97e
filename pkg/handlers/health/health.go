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

	"github.com/aws/aws-lambda-go/events"

	"github.com/acmedata/tokenservice/pkg/httpapi"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// Pinger checks that the store answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// timeout keeps a hung store from hanging the probe.
const timeout = 2 * time.Second

// Handler serves the health check.
type Handler struct {
	store  Pinger
	router *httpapi.Router
}

// New returns a Handler over store.
func New(store Pinger, log *slog.Logger) (*Handler, error) {
	if store == nil {
		return nil, errors.New("health: nil store")
	}
	h := &Handler{store: store, router: httpapi.NewRouter(log)}
	h.router.Handle(http.MethodGet, "/healthz", h.check)
	return h, nil
}

// Serve answers one API Gateway proxy event.
func (h *Handler) Serve(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	return h.router.Serve(ctx, req)
}

// Status is the health check's body.
type Status struct {
	Status string `json:"status"`
}

func (h *Handler) check(ctx context.Context, _ httpapi.Request) (int, any, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := h.store.Ping(ctx); err != nil {
		return 0, nil, tokens.Unavailable(err)
	}
	return http.StatusOK, Status{Status: "ok"}, nil
}

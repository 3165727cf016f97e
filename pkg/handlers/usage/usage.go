// Package usage serves GET /admin/usage: the calling account's usage
// history of the last seven days, newest first, narrowed by service, token,
// user and time, paginated.
//
// The account comes only from the API-key authorizer's context, and the
// store keys every query by it, so no filter value can reach another
// account's records. The seven-day limit is applied by the store on every
// read (see usage.Filter.Window), not left to TTL.
package usage

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/acmedata/tokenservice/pkg/httpapi"
	"github.com/acmedata/tokenservice/pkg/paging"
	"github.com/acmedata/tokenservice/pkg/routes"
	"github.com/acmedata/tokenservice/pkg/usage"
)

// History reads an account's usage records.
type History interface {
	Records(ctx context.Context, accountID string, f usage.Filter, page paging.Request) (paging.Page[usage.Record], error)
}

// handler's list method serves GET /admin/usage.
type handler struct {
	history History
}

// New returns the router serving GET /admin/usage over history.
func New(history History, log *slog.Logger) (*httpapi.Router, error) {
	if history == nil {
		return nil, errors.New("usage handler: nil history")
	}
	h := &handler{history: history}
	return httpapi.NewRouter(routes.Usage, log, httpapi.Handlers{routes.ListUsage: h.list})
}

// RecordView is a usage record's representation.
type RecordView struct {
	Time      string  `json:"time"`
	RequestID string  `json:"requestId"`
	TokenID   string  `json:"tokenId"`
	UserID    *string `json:"userId"`
	Service   string  `json:"service"`
	Method    string  `json:"method"`
	Path      string  `json:"path"`
	Query     string  `json:"query"`
	Status    int     `json:"status"`
	LatencyMs int64   `json:"latencyMs"`
	SourceIP  string  `json:"sourceIp"`
}

// Record represents r. It is bounded and redacted again: the store holds
// redacted records, and a representation must not depend on that.
func Record(r usage.Record) RecordView {
	r = r.Bounded()
	v := RecordView{
		Time: httpapi.Time(r.Time), RequestID: r.RequestID, TokenID: r.TokenID, Service: r.Service,
		Method: r.Method, Path: r.Path, Query: r.Query, Status: r.Status, LatencyMs: r.LatencyMs, SourceIP: r.SourceIP,
	}
	if r.UserID != "" {
		v.UserID = &r.UserID
	}
	return v
}

func (h *handler) list(ctx context.Context, r httpapi.Request) (int, any, error) {
	page, err := httpapi.Page(r.APIGatewayProxyRequest)
	if err != nil {
		return 0, nil, err
	}
	f, err := filter(r.APIGatewayProxyRequest)
	if err != nil {
		return 0, nil, err
	}
	p, err := h.history.Records(ctx, r.Account, f, page)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, httpapi.ListOf(p, Record), nil
}

// filter reads the query's filters.
func filter(req events.APIGatewayProxyRequest) (usage.Filter, error) {
	var f usage.Filter
	var from, to string
	if err := httpapi.Queries(req, httpapi.Q("service", &f.Service), httpapi.Q("tokenId", &f.TokenID), httpapi.Q("userId", &f.UserID), httpapi.Q("from", &from), httpapi.Q("to", &to)); err != nil {
		return f, err
	}
	var err error
	if f.From, err = httpapi.QueryTime("from", from); err != nil {
		return f, err
	}
	if f.To, err = httpapi.QueryTime("to", to); err != nil {
		return f, err
	}
	return f, f.Validate()
}

// Package usage serves GET /admin/usage: the calling account's usage
// history of the last seven days, newest first, narrowed by service, token,
// user, status (403) or status class (4xx) and time, paginated, as JSON or
// (format=csv) as CSV; and GET /admin/usage/summary: the account's call
// counts per hour or day over the last 90 days, split by status class and
// optionally by token, user or service (docs/usage.md describes both).
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

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/httpapi"
	"github.com/acmedata/tokenservice/pkg/paging"
	"github.com/acmedata/tokenservice/pkg/routes"
	"github.com/acmedata/tokenservice/pkg/usage"
)

// History reads an account's usage records and counts.
type History interface {
	Records(ctx context.Context, accountID string, f usage.Filter, page paging.Request) (paging.Page[usage.Record], error)
	Summary(ctx context.Context, accountID string, q usage.SummaryQuery) (usage.Summary, error)
}

// handler serves the usage routes.
type handler struct {
	history History
}

// New returns the router serving the usage routes over history.
func New(history History, log *slog.Logger) (*httpapi.Router, error) {
	if history == nil {
		return nil, errors.New("usage handler: nil history")
	}
	h := &handler{history: history}
	return httpapi.NewRouter(routes.Usage, log, httpapi.Handlers{routes.ListUsage: h.list, routes.UsageSummary: h.summary})
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

// The answer formats of GET /admin/usage.
const (
	formatJSON = "json"
	formatCSV  = "csv"
)

func (h *handler) list(ctx context.Context, r httpapi.Request) (int, any, error) {
	var format string
	if err := httpapi.Queries(r.APIGatewayProxyRequest, httpapi.Q("format", &format)); err != nil {
		return 0, nil, err
	}
	if format != "" && format != formatJSON && format != formatCSV {
		return 0, nil, apperr.Invalid("invalid_format", "format must be json or csv")
	}
	page, err := httpapi.Page(r.APIGatewayProxyRequest)
	if err != nil {
		return 0, nil, err
	}
	f, err := filter(r.APIGatewayProxyRequest)
	if err != nil {
		return 0, nil, err
	}
	// Only the list filters by status: the summary splits by class instead.
	var status string
	if err := httpapi.Queries(r.APIGatewayProxyRequest, httpapi.Q("status", &status)); err != nil {
		return 0, nil, err
	}
	if f.Status, err = usage.ParseStatus(status); err != nil {
		return 0, nil, err
	}
	p, err := h.history.Records(ctx, r.Account, f, page)
	if err != nil {
		return 0, nil, err
	}
	if format == formatCSV {
		return http.StatusOK, csvPage(r.APIGatewayProxyRequest, p), nil
	}
	return http.StatusOK, httpapi.ListOf(p, Record), nil
}

// SummaryView is the answer of GET /admin/usage/summary.
type SummaryView struct {
	Interval usage.Interval `json:"interval"`
	GroupBy  *string        `json:"groupBy"`
	From     string         `json:"from"`
	To       string         `json:"to"`
	Items    []BucketView   `json:"items"`
}

// BucketView is one interval's counts of one group.
type BucketView struct {
	Time  string  `json:"time"`
	Group *string `json:"group"`
	C2xx  int64   `json:"2xx"`
	C4xx  int64   `json:"4xx"`
	C5xx  int64   `json:"5xx"`
	Total int64   `json:"total"`
}

func (h *handler) summary(ctx context.Context, r httpapi.Request) (int, any, error) {
	var interval, groupBy string
	if err := httpapi.Queries(r.APIGatewayProxyRequest, httpapi.Q("interval", &interval), httpapi.Q("groupBy", &groupBy)); err != nil {
		return 0, nil, err
	}
	f, err := filter(r.APIGatewayProxyRequest)
	if err != nil {
		return 0, nil, err
	}
	q := usage.SummaryQuery{Filter: f, Interval: usage.Interval(interval), GroupBy: usage.GroupBy(groupBy)}
	if q.Interval == "" {
		q.Interval = usage.Hour
	}
	if err := q.Validate(); err != nil {
		return 0, nil, err
	}
	s, err := h.history.Summary(ctx, r.Account, q)
	if err != nil {
		return 0, nil, err
	}
	v := SummaryView{Interval: q.Interval, From: httpapi.Time(s.From), To: httpapi.Time(s.To), Items: make([]BucketView, len(s.Buckets))}
	if q.GroupBy != usage.NoGroup {
		v.GroupBy = &groupBy
	}
	for i, b := range s.Buckets {
		v.Items[i] = BucketView{Time: httpapi.Time(b.Start), C2xx: b.Counts.Class2xx, C4xx: b.Counts.Class4xx, C5xx: b.Counts.Class5xx, Total: b.Counts.Total}
		if q.GroupBy != usage.NoGroup {
			v.Items[i].Group = &b.Group
		}
	}
	return http.StatusOK, v, nil
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

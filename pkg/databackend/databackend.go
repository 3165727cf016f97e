// Package databackend is the demo data service behind the token authorizer
// (PRODUCT.md, "Data"). It exists to prove that the identity the authorizer
// decided on reaches a backend intact: every answer carries a small
// synthetic data set for the service and the caller as the authorizer
// passed it.
//
// Rows marked restricted are served only when the request asks for them
// with includeRestricted=true, and never to a token whose settings hold
// "publicOnly": true. The backend also refuses a call whose path names a
// service other than the one the authorizer verified: defence in depth
// should a deployer's cached authorizer policy ever be broader than meant.
package databackend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/authctx"
	"github.com/acmedata/tokenservice/pkg/httpapi"
	"github.com/acmedata/tokenservice/pkg/routes"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// rowsPerDataset is the size of every synthetic data set.
const rowsPerDataset = 6

var (
	errOtherService = &httpapi.Error{Status: http.StatusForbidden, Code: "forbidden", Message: "the token is not valid for this service"}
	errBadInclude   = apperr.Invalid("invalid_include_restricted", "includeRestricted must be true or false")
)

// Backend serves the data routes.
type Backend struct {
	router *httpapi.Router
}

// New returns the backend, logging through log.
func New(log *slog.Logger) (*Backend, error) {
	if log == nil {
		return nil, errors.New("databackend: nil logger")
	}
	b := &Backend{}
	router, err := httpapi.NewRouter(routes.Data, log, httpapi.Handlers{routes.DataQuery: b.get, routes.DataFeed: b.get})
	if err != nil {
		return nil, err
	}
	b.router = router
	return b, nil
}

// Serve answers one API Gateway proxy event.
func (b *Backend) Serve(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	return b.router.Serve(ctx, req)
}

// Response is the body of a data call. It never repeats the request's
// path: a caller may have put a token in it (PRODUCT.md, "Never"), so the
// data set is named by an opaque ID derived from the path instead.
type Response struct {
	Service string `json:"service"`
	// Dataset identifies the data set: "ds_" and 8 hex characters, the
	// same for the same service and path, never the path itself.
	Dataset string `json:"dataset"`
	Rows    []Row  `json:"rows"`
	Caller  Caller `json:"caller"`
}

// Row is one synthetic data point.
type Row struct {
	ID         int     `json:"id"`
	Value      float64 `json:"value"`
	Restricted bool    `json:"restricted"`
}

// Caller is the identity the authorizer passed.
type Caller struct {
	AccountID string          `json:"accountId"`
	TokenID   string          `json:"tokenId"`
	Type      string          `json:"type"`
	UserID    *string         `json:"userId"`
	Service   string          `json:"service"`
	Settings  tokens.Settings `json:"settings"`
}

func (b *Backend) get(_ context.Context, req httpapi.Request) (int, any, error) {
	caller, err := callerOf(req)
	if err != nil {
		return 0, nil, err
	}
	service := req.Param("service")
	if service != caller.Service {
		return 0, nil, errOtherService
	}
	include, err := includeRestricted(req.APIGatewayProxyRequest)
	if err != nil {
		return 0, nil, err
	}
	if publicOnly, _ := caller.Settings["publicOnly"].(bool); publicOnly {
		include = false
	}
	seed := datasetSeed(service, req.Param("proxy"))
	return http.StatusOK, Response{Service: service, Dataset: fmt.Sprintf("ds_%08x", seed), Rows: rows(seed, include), Caller: caller}, nil
}

// callerOf reads the authorizer context; see pkg/authz for its shape.
func callerOf(req httpapi.Request) (Caller, error) {
	ctx := req.RequestContext.Authorizer
	c := Caller{
		AccountID: req.Account,
		TokenID:   authctx.String(ctx, authctx.TokenID),
		Type:      authctx.String(ctx, authctx.TokenType),
		Service:   authctx.String(ctx, authctx.Service),
		Settings:  tokens.Settings{},
	}
	if u := authctx.String(ctx, authctx.UserID); u != "" {
		c.UserID = &u
	}
	if raw := authctx.String(ctx, authctx.Settings); raw != "" {
		if err := json.Unmarshal([]byte(raw), &c.Settings); err != nil {
			// The authorizer always writes a JSON object: anything else
			// is our bug, not the caller's.
			return Caller{}, fmt.Errorf("databackend: authorizer settings: %w", err)
		}
	}
	return c, nil
}

func includeRestricted(req events.APIGatewayProxyRequest) (bool, error) {
	v, err := httpapi.Query(req, "includeRestricted")
	switch {
	case err != nil:
		return false, err
	case v == "" || v == "false":
		return false, nil
	case v == "true":
		return true, nil
	default:
		return false, errBadInclude
	}
}

// datasetSeed is what a data set is made from: the FNV-1a hash of the
// service and the path below it.
func datasetSeed(service, path string) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(service + "/" + path))
	return h.Sum32()
}

// rows makes the data set: deterministic per service and data set, every
// third row restricted.
func rows(seed uint32, includeRestricted bool) []Row {
	out := make([]Row, 0, rowsPerDataset)
	for i := 1; i <= rowsPerDataset; i++ {
		r := Row{ID: i, Value: float64((seed>>uint(i))%1000) / 10, Restricted: i%3 == 0}
		if r.Restricted && !includeRestricted {
			continue
		}
		out = append(out, r)
	}
	return out
}

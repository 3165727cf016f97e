// Package issue serves token issuance, POST /admin/services/{service}/tokens:
// the one response in a token's life that carries its secret. It is a
// function of its own so that its permissions, logs and alarms can be told
// apart from the read-mostly management API.
package issue

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/httpapi"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// Issuer issues tokens.
type Issuer interface {
	IssueToken(ctx context.Context, accountID, service string, r tokens.IssueRequest) (tokens.TokenView, string, error)
}

// handler's methods are the routes of token issuance.
type handler struct {
	issuer Issuer
}

// New returns the router serving token issuance over issuer.
func New(issuer Issuer, log *slog.Logger) (*httpapi.Router, error) {
	if issuer == nil {
		return nil, errors.New("issue: nil issuer")
	}
	h := &handler{issuer: issuer}
	router := httpapi.NewRouter(log)
	router.HandleAccount(http.MethodPost, "/admin/services/{service}/tokens", h.issue)
	return router, nil
}

type issueBody struct {
	Name      *string `json:"name"`
	UserID    *string `json:"userId"`
	ExpiresAt *string `json:"expiresAt"`
}

func (h *handler) issue(ctx context.Context, req httpapi.Request) (int, any, error) {
	var body issueBody
	if err := req.Decode(&body); err != nil {
		return 0, nil, err
	}
	r := tokens.IssueRequest{Name: body.Name}
	if body.UserID != nil {
		r.UserID = *body.UserID
	}
	if body.ExpiresAt != nil {
		t, err := time.Parse(time.RFC3339Nano, *body.ExpiresAt)
		if err != nil {
			return 0, nil, apperr.Invalid("invalid_expires_at", "expiresAt must be an RFC 3339 time such as 2030-01-02T15:04:05Z")
		}
		r.ExpiresAt = &t
	}
	view, secret, err := h.issuer.IssueToken(ctx, req.Account, req.Param("service"), r)
	return httpapi.Result(http.StatusCreated, httpapi.NewToken(secret), view, err)
}

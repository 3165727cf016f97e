// Package clone serves token cloning (rotation),
// POST /admin/tokens/{tokenId}/clone: a new token with the source's
// service, user and settings, its secret shown once, and optionally a grace
// period after which the source stops working.
package clone

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

// Cloner clones tokens.
type Cloner interface {
	CloneToken(ctx context.Context, accountID, tokenID string, r tokens.CloneRequest) (tokens.TokenView, string, error)
}

// handler's methods are the routes of token cloning.
type handler struct {
	cloner Cloner
}

// New returns the router serving token cloning over cloner.
func New(cloner Cloner, log *slog.Logger) (*httpapi.Router, error) {
	if cloner == nil {
		return nil, errors.New("clone: nil cloner")
	}
	h := &handler{cloner: cloner}
	router := httpapi.NewRouter(log)
	router.HandleAccount(http.MethodPost, "/admin/tokens/{tokenId}/clone", h.clone)
	return router, nil
}

type cloneBody struct {
	Name *string `json:"name"`
	// A whole number of seconds; a fraction or a string is refused by the
	// strict decoder rather than rounded.
	RevokeSourceAfterSeconds *int64 `json:"revokeSourceAfterSeconds"`
}

func (h *handler) clone(ctx context.Context, req httpapi.Request) (int, any, error) {
	var body cloneBody
	if err := req.Decode(&body); err != nil {
		return 0, nil, err
	}
	r := tokens.CloneRequest{Name: body.Name}
	if s := body.RevokeSourceAfterSeconds; s != nil {
		if *s < 0 || *s > int64(tokens.MaxGracePeriod/time.Second) {
			return 0, nil, apperr.Invalid("invalid_revoke_source_after_seconds", "revokeSourceAfterSeconds must be between 0 and %d", int64(tokens.MaxGracePeriod/time.Second))
		}
		d := time.Duration(*s) * time.Second
		r.RevokeSourceAfter = &d
	}
	view, secret, err := h.cloner.CloneToken(ctx, req.Account, req.Param("tokenId"), r)
	return httpapi.Result(http.StatusCreated, httpapi.NewToken(secret), view, err)
}

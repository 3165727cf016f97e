// Package newtoken serves the two routes whose answer carries a token's
// secret, the one time it is ever shown: issuance
// (POST /admin/services/{service}/tokens, the issue function) and cloning
// (POST /admin/tokens/{tokenId}/clone, the clone function). They are
// separate functions so that the secret-bearing paths have their own
// roles, logs and alarms apart from the read-mostly management API, and
// one package because they answer alike.
package newtoken

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/httpapi"
	"github.com/acmedata/tokenservice/pkg/restrict"
	"github.com/acmedata/tokenservice/pkg/routes"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// Issuer issues tokens.
type Issuer interface {
	IssueToken(ctx context.Context, accountID, service string, r tokens.IssueRequest) (tokens.TokenView, string, error)
}

// Cloner clones tokens.
type Cloner interface {
	CloneToken(ctx context.Context, accountID, tokenID string, r tokens.CloneRequest) (tokens.TokenView, string, error)
}

// NewIssue returns the router of the issue function over issuer.
func NewIssue(issuer Issuer, log *slog.Logger) (*httpapi.Router, error) {
	if issuer == nil {
		return nil, errors.New("newtoken: nil issuer")
	}
	return httpapi.NewRouter(routes.Issue, log, httpapi.Handlers{routes.IssueToken: func(ctx context.Context, req httpapi.Request) (int, any, error) {
		var body issueBody
		if err := req.Decode(&body); err != nil {
			return 0, nil, err
		}
		if err := body.Check(); err != nil {
			return 0, nil, err
		}
		r, err := body.request()
		if err != nil {
			return 0, nil, err
		}
		r.KeyGeneration = req.KeyGeneration()
		return created(issuer.IssueToken(ctx, req.Account, req.Param("service"), r))
	}})
}

// NewClone returns the router of the clone function over cloner.
func NewClone(cloner Cloner, log *slog.Logger) (*httpapi.Router, error) {
	if cloner == nil {
		return nil, errors.New("newtoken: nil cloner")
	}
	return httpapi.NewRouter(routes.Clone, log, httpapi.Handlers{routes.CloneToken: func(ctx context.Context, req httpapi.Request) (int, any, error) {
		var body cloneBody
		if err := req.Decode(&body); err != nil {
			return 0, nil, err
		}
		if err := body.Check(); err != nil {
			return 0, nil, err
		}
		r := tokens.CloneRequest{Name: body.Name, Restrictions: body.Restrictions, RevokeSourceAfterSeconds: body.RevokeSourceAfterSeconds, KeyGeneration: req.KeyGeneration()}
		var err error
		if r.ExpiresAt, err = expiry(body.ExpiresAt); err != nil {
			return 0, nil, err
		}
		return created(cloner.CloneToken(ctx, req.Account, req.Param("tokenId"), r))
	}})
}

// created answers a new token: its representation plus the secret, once.
func created(view tokens.TokenView, secret string, err error) (int, any, error) {
	return httpapi.Result(http.StatusCreated, httpapi.NewToken(secret), view, err)
}

type issueBody struct {
	Name      *string `json:"name"`
	UserID    *string `json:"userId"`
	ExpiresAt *string `json:"expiresAt"`
	// Restrictions are validated by the domain (restrict.Parse); the
	// strict decoder refuses unknown fields inside them too.
	Restrictions *restrict.Restrictions `json:"restrictions"`
	Protected    *bool                  `json:"protected"`
	httpapi.OperatorOnly
}

func (b issueBody) request() (tokens.IssueRequest, error) {
	r := tokens.IssueRequest{Name: b.Name, Restrictions: b.Restrictions, Protected: b.Protected != nil && *b.Protected}
	if b.UserID != nil {
		r.UserID = *b.UserID
	}
	var err error
	r.ExpiresAt, err = expiry(b.ExpiresAt)
	return r, err
}

// expiry parses an expiresAt a body holds (nil: none).
func expiry(s *string) (*time.Time, error) {
	if s == nil {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, *s)
	if err != nil {
		return nil, apperr.Invalid("invalid_expires_at", "expiresAt must be an RFC 3339 time such as 2030-01-02T15:04:05Z")
	}
	return &t, nil
}

type cloneBody struct {
	Name *string `json:"name"`
	// Restrictions replace the source's, which a clone copies otherwise.
	Restrictions *restrict.Restrictions `json:"restrictions"`
	// A whole number of seconds; a fraction or a string is refused by the
	// strict decoder rather than rounded. The domain checks the range.
	RevokeSourceAfterSeconds *int64 `json:"revokeSourceAfterSeconds"`
	// ExpiresAt may bring the clone's expiry forward, never past the
	// source's.
	ExpiresAt *string `json:"expiresAt"`
	httpapi.OperatorOnly
}

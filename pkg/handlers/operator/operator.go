// Package operator serves the operator routes under /operator: creating
// accounts, choosing their services and status, recovering a lost API key
// and setting the token settings admins may not set themselves. On AWS
// these routes are IAM-authorised (SigV4); the handler trusts API Gateway
// for that and logs the calling principal for the audit trail.
package operator

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/acmedata/tokenservice/pkg/httpapi"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// Manager is what the operator API needs of the domain.
type Manager interface {
	CreateAccount(ctx context.Context, name string, services []string) (tokens.Account, string, error)
	Account(ctx context.Context, accountID string) (tokens.Account, error)
	UpdateAccount(ctx context.Context, accountID string, c tokens.AccountChange) (tokens.Account, error)
	ReplaceAPIKey(ctx context.Context, accountID string) (tokens.Account, string, error)
	SetTokenSettings(ctx context.Context, tokenID string, s tokens.Settings) (tokens.TokenView, error)
}

// Handler serves the operator routes.
type Handler struct {
	mgr    Manager
	log    *slog.Logger
	router *httpapi.Router
}

// New returns a Handler over mgr.
func New(mgr Manager, log *slog.Logger) (*Handler, error) {
	if mgr == nil {
		return nil, errors.New("operator: nil manager")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{mgr: mgr, log: log, router: httpapi.NewRouter(log)}
	h.router.Handle(http.MethodPost, "/operator/accounts", h.createAccount)
	h.router.Handle(http.MethodGet, "/operator/accounts/{accountId}", h.getAccount)
	h.router.Handle(http.MethodPatch, "/operator/accounts/{accountId}", h.updateAccount)
	h.router.Handle(http.MethodPost, "/operator/accounts/{accountId}/api-key", h.replaceKey)
	h.router.Handle(http.MethodPut, "/operator/tokens/{tokenId}/settings", h.setSettings)
	return h, nil
}

// Serve answers one API Gateway proxy event.
func (h *Handler) Serve(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	return h.router.Serve(ctx, req)
}

// audit records who changed what: operators act across accounts, so every
// write is logged with the IAM principal API Gateway authenticated.
func (h *Handler) audit(ctx context.Context, req httpapi.Request, action, target string) {
	h.log.LogAttrs(ctx, slog.LevelInfo, "operator action",
		slog.String("action", action), slog.String("target", target),
		slog.String("principal", req.RequestContext.Identity.UserArn),
		slog.String("requestId", req.RequestContext.RequestID))
}

type createAccountBody struct {
	Name     *string   `json:"name"`
	Services *[]string `json:"services"`
}

// CreatedAccount answers account creation: the account and its first key.
type CreatedAccount struct {
	Account httpapi.AccountView `json:"account"`
	APIKey  string              `json:"apiKey"`
}

func (h *Handler) createAccount(ctx context.Context, req httpapi.Request) (int, any, error) {
	var body createAccountBody
	if err := req.Decode(&body); err != nil {
		return 0, nil, err
	}
	if body.Name == nil || body.Services == nil {
		return 0, nil, tokens.Invalid("missing_field", "name and services are required")
	}
	a, key, err := h.mgr.CreateAccount(ctx, *body.Name, *body.Services)
	if err != nil {
		return 0, nil, err
	}
	h.audit(ctx, req, "create_account", a.ID)
	return http.StatusCreated, CreatedAccount{Account: httpapi.Account(a), APIKey: key}, nil
}

func (h *Handler) getAccount(ctx context.Context, req httpapi.Request) (int, any, error) {
	id := req.Param("accountId")
	a, err := h.mgr.Account(ctx, id)
	return httpapi.Result(http.StatusOK, httpapi.Account, a, err)
}

type updateAccountBody struct {
	Status   *tokens.AccountStatus `json:"status"`
	Services *[]string             `json:"services"`
}

func (h *Handler) updateAccount(ctx context.Context, req httpapi.Request) (int, any, error) {
	id := req.Param("accountId")
	var body updateAccountBody
	if err := req.Decode(&body); err != nil {
		return 0, nil, err
	}
	a, err := h.mgr.UpdateAccount(ctx, id, tokens.AccountChange{Status: body.Status, Services: body.Services})
	if err != nil {
		return 0, nil, err
	}
	h.audit(ctx, req, "update_account", a.ID)
	return http.StatusOK, httpapi.Account(a), nil
}

func (h *Handler) replaceKey(ctx context.Context, req httpapi.Request) (int, any, error) {
	id := req.Param("accountId")
	if err := req.Decode(&struct{}{}); err != nil {
		return 0, nil, err
	}
	a, key, err := h.mgr.ReplaceAPIKey(ctx, id)
	if err != nil {
		return 0, nil, err
	}
	h.audit(ctx, req, "replace_api_key", a.ID)
	return http.StatusCreated, httpapi.NewKey(key), nil
}

type settingsBody struct {
	Settings *tokens.Settings `json:"settings"`
}

func (h *Handler) setSettings(ctx context.Context, req httpapi.Request) (int, any, error) {
	id := req.Param("tokenId")
	var body settingsBody
	if err := req.Decode(&body); err != nil {
		return 0, nil, err
	}
	if body.Settings == nil || *body.Settings == nil {
		return 0, nil, tokens.Invalid("missing_field", "settings is required (an object, {} to clear)")
	}
	t, err := h.mgr.SetTokenSettings(ctx, id, *body.Settings)
	if err != nil {
		return 0, nil, err
	}
	h.audit(ctx, req, "set_token_settings", t.ID)
	return http.StatusOK, httpapi.Token(t), nil
}

// Package manage serves the account admin API (everything under /admin
// except token issuance and cloning, which are functions of their own):
// the account and its key, users, per-service access and token management.
// Admins are authenticated by the API-key authorizer, which passes the
// account ID in the request context; every lookup is scoped to it, so
// another account's resources answer 404.
package manage

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/acmedata/tokenservice/pkg/httpapi"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// Manager is what the admin API needs of the domain.
type Manager interface {
	Account(ctx context.Context, accountID string) (tokens.Account, error)
	ReplaceAPIKey(ctx context.Context, accountID string) (tokens.Account, string, error)

	CreateUser(ctx context.Context, accountID, email, name string) (tokens.User, error)
	User(ctx context.Context, accountID, userID string) (tokens.User, error)
	Users(ctx context.Context, accountID string, page tokens.PageRequest) (tokens.Page[tokens.User], error)
	UpdateUser(ctx context.Context, accountID, userID string, c tokens.UserChange) (tokens.User, error)
	DeleteUser(ctx context.Context, accountID, userID string) error

	Services(ctx context.Context, accountID string) ([]tokens.ServiceSummary, error)
	ServiceSummary(ctx context.Context, accountID, service string) (tokens.ServiceSummary, error)
	ServiceUsers(ctx context.Context, accountID, service string, page tokens.PageRequest) (tokens.Page[tokens.User], error)
	SetAccess(ctx context.Context, accountID, service, userID string, on bool) (tokens.User, error)

	Tokens(ctx context.Context, accountID string, f tokens.TokenFilter, page tokens.PageRequest) (tokens.Page[tokens.TokenView], error)
	DefaultToken(ctx context.Context, accountID, service string) (tokens.TokenView, error)
	Token(ctx context.Context, accountID, tokenID string) (tokens.TokenView, error)
	UpdateToken(ctx context.Context, accountID, tokenID string, c tokens.TokenChange) (tokens.TokenView, error)
	DeleteToken(ctx context.Context, accountID, tokenID string) error
}

// Handler serves the admin management routes.
type Handler struct {
	mgr    Manager
	router *httpapi.Router
}

// New returns a Handler over mgr.
func New(mgr Manager, log *slog.Logger) (*Handler, error) {
	if mgr == nil {
		return nil, errors.New("manage: nil manager")
	}
	h := &Handler{mgr: mgr, router: httpapi.NewRouter(log)}
	for _, r := range []struct {
		method, path string
		route        httpapi.Route
	}{
		{http.MethodGet, "/admin/account", h.getAccount},
		{http.MethodPost, "/admin/api-key/rotate", h.rotateKey},
		{http.MethodPost, "/admin/users", h.createUser},
		{http.MethodGet, "/admin/users", h.listUsers},
		{http.MethodGet, "/admin/users/{userId}", h.getUser},
		{http.MethodPatch, "/admin/users/{userId}", h.updateUser},
		{http.MethodDelete, "/admin/users/{userId}", h.deleteUser},
		{http.MethodGet, "/admin/services", h.listServices},
		{http.MethodGet, "/admin/services/{service}", h.getService},
		{http.MethodGet, "/admin/services/{service}/users", h.listServiceUsers},
		{http.MethodPut, "/admin/services/{service}/users/{userId}", h.setAccess},
		{http.MethodGet, "/admin/services/{service}/tokens", h.listTokens},
		{http.MethodGet, "/admin/services/{service}/tokens/default", h.defaultToken},
		{http.MethodGet, "/admin/tokens/{tokenId}", h.getToken},
		{http.MethodPatch, "/admin/tokens/{tokenId}", h.updateToken},
		{http.MethodDelete, "/admin/tokens/{tokenId}", h.deleteToken},
	} {
		h.router.Handle(r.method, r.path, r.route)
	}
	return h, nil
}

// Serve answers one API Gateway proxy event.
func (h *Handler) Serve(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	return h.router.Serve(ctx, req)
}

// ---- account ----

func (h *Handler) getAccount(ctx context.Context, req events.APIGatewayProxyRequest) (int, any, error) {
	acc, err := httpapi.AccountID(req)
	if err != nil {
		return 0, nil, err
	}
	a, err := h.mgr.Account(ctx, acc)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, httpapi.Account(a), nil
}

// KeyResponse answers the key routes: the new key, shown this once.
type KeyResponse struct {
	APIKey string `json:"apiKey"`
}

func (h *Handler) rotateKey(ctx context.Context, req events.APIGatewayProxyRequest) (int, any, error) {
	acc, err := httpapi.AccountID(req)
	if err != nil {
		return 0, nil, err
	}
	if err := httpapi.Decode(req, &struct{}{}); err != nil {
		return 0, nil, err
	}
	_, key, err := h.mgr.ReplaceAPIKey(ctx, acc)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, KeyResponse{APIKey: key}, nil
}

// ---- users ----

type createUserBody struct {
	Email *string `json:"email"`
	Name  *string `json:"name"`
}

func (h *Handler) createUser(ctx context.Context, req events.APIGatewayProxyRequest) (int, any, error) {
	acc, err := httpapi.AccountID(req)
	if err != nil {
		return 0, nil, err
	}
	var body createUserBody
	if err := httpapi.Decode(req, &body); err != nil {
		return 0, nil, err
	}
	if body.Email == nil || body.Name == nil {
		return 0, nil, tokens.Invalid("missing_field", "email and name are required")
	}
	u, err := h.mgr.CreateUser(ctx, acc, *body.Email, *body.Name)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, httpapi.User(u), nil
}

func (h *Handler) listUsers(ctx context.Context, req events.APIGatewayProxyRequest) (int, any, error) {
	acc, err := httpapi.AccountID(req)
	if err != nil {
		return 0, nil, err
	}
	page, err := httpapi.Page(req)
	if err != nil {
		return 0, nil, err
	}
	p, err := h.mgr.Users(ctx, acc, page)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, httpapi.ListOf(p, httpapi.User), nil
}

func (h *Handler) getUser(ctx context.Context, req events.APIGatewayProxyRequest) (int, any, error) {
	acc, userID, err := accountAnd(req, "userId")
	if err != nil {
		return 0, nil, err
	}
	u, err := h.mgr.User(ctx, acc, userID)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, httpapi.User(u), nil
}

func (h *Handler) updateUser(ctx context.Context, req events.APIGatewayProxyRequest) (int, any, error) {
	acc, userID, err := accountAnd(req, "userId")
	if err != nil {
		return 0, nil, err
	}
	var body createUserBody
	if err := httpapi.Decode(req, &body); err != nil {
		return 0, nil, err
	}
	u, err := h.mgr.UpdateUser(ctx, acc, userID, tokens.UserChange{Email: body.Email, Name: body.Name})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, httpapi.User(u), nil
}

func (h *Handler) deleteUser(ctx context.Context, req events.APIGatewayProxyRequest) (int, any, error) {
	acc, userID, err := accountAnd(req, "userId")
	if err != nil {
		return 0, nil, err
	}
	if err := h.mgr.DeleteUser(ctx, acc, userID); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

// ---- services and access ----

// ServiceView is a subscribed service with its "General" tab counts.
type ServiceView struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	UsersWithAccess int    `json:"usersWithAccess"`
	UserTokens      int    `json:"userTokens"`
	UserlessTokens  int    `json:"userlessTokens"`
}

func serviceView(s tokens.ServiceSummary) ServiceView {
	return ServiceView{ID: s.ID, Name: s.Name, UsersWithAccess: s.UsersWithAccess, UserTokens: s.UserTokens, UserlessTokens: s.UserlessTokens}
}

func (h *Handler) listServices(ctx context.Context, req events.APIGatewayProxyRequest) (int, any, error) {
	acc, err := httpapi.AccountID(req)
	if err != nil {
		return 0, nil, err
	}
	services, err := h.mgr.Services(ctx, acc)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, httpapi.ListOf(tokens.Page[tokens.ServiceSummary]{Items: services}, serviceView), nil
}

func (h *Handler) getService(ctx context.Context, req events.APIGatewayProxyRequest) (int, any, error) {
	acc, service, err := accountAnd(req, "service")
	if err != nil {
		return 0, nil, err
	}
	s, err := h.mgr.ServiceSummary(ctx, acc, service)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, serviceView(s), nil
}

// AccessView is a user's access to one service.
type AccessView struct {
	httpapi.UserView
	Service string `json:"service"`
	Active  bool   `json:"active"`
}

func accessView(service string) func(tokens.User) AccessView {
	return func(u tokens.User) AccessView {
		return AccessView{UserView: httpapi.User(u), Service: service, Active: u.HasAccess(service)}
	}
}

func (h *Handler) listServiceUsers(ctx context.Context, req events.APIGatewayProxyRequest) (int, any, error) {
	acc, service, err := accountAnd(req, "service")
	if err != nil {
		return 0, nil, err
	}
	page, err := httpapi.Page(req)
	if err != nil {
		return 0, nil, err
	}
	p, err := h.mgr.ServiceUsers(ctx, acc, service, page)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, httpapi.ListOf(p, accessView(service)), nil
}

type accessBody struct {
	Active *bool `json:"active"`
}

func (h *Handler) setAccess(ctx context.Context, req events.APIGatewayProxyRequest) (int, any, error) {
	acc, service, err := accountAnd(req, "service")
	if err != nil {
		return 0, nil, err
	}
	userID, err := httpapi.PathParam(req, "userId")
	if err != nil {
		return 0, nil, err
	}
	var body accessBody
	if err := httpapi.Decode(req, &body); err != nil {
		return 0, nil, err
	}
	if body.Active == nil {
		return 0, nil, tokens.Invalid("missing_field", "active is required")
	}
	u, err := h.mgr.SetAccess(ctx, acc, service, userID, *body.Active)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, accessView(service)(u), nil
}

// ---- tokens ----

func (h *Handler) listTokens(ctx context.Context, req events.APIGatewayProxyRequest) (int, any, error) {
	acc, service, err := accountAnd(req, "service")
	if err != nil {
		return 0, nil, err
	}
	page, err := httpapi.Page(req)
	if err != nil {
		return 0, nil, err
	}
	f := tokens.TokenFilter{Service: service}
	var typ, status string
	for name, dst := range map[string]*string{"type": &typ, "userId": &f.UserID, "status": &status} {
		if *dst, err = httpapi.Query(req, name); err != nil {
			return 0, nil, err
		}
	}
	f.Type, f.Status = tokens.TokenType(typ), tokens.TokenStatus(status)
	p, err := h.mgr.Tokens(ctx, acc, f, page)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, httpapi.ListOf(p, httpapi.Token), nil
}

func (h *Handler) defaultToken(ctx context.Context, req events.APIGatewayProxyRequest) (int, any, error) {
	acc, service, err := accountAnd(req, "service")
	if err != nil {
		return 0, nil, err
	}
	t, err := h.mgr.DefaultToken(ctx, acc, service)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, httpapi.Token(t), nil
}

func (h *Handler) getToken(ctx context.Context, req events.APIGatewayProxyRequest) (int, any, error) {
	acc, tokenID, err := accountAnd(req, "tokenId")
	if err != nil {
		return 0, nil, err
	}
	t, err := h.mgr.Token(ctx, acc, tokenID)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, httpapi.Token(t), nil
}

type updateTokenBody struct {
	Name    *string `json:"name"`
	Enabled *bool   `json:"enabled"`
}

func (h *Handler) updateToken(ctx context.Context, req events.APIGatewayProxyRequest) (int, any, error) {
	acc, tokenID, err := accountAnd(req, "tokenId")
	if err != nil {
		return 0, nil, err
	}
	var body updateTokenBody
	if err := httpapi.Decode(req, &body); err != nil {
		return 0, nil, err
	}
	t, err := h.mgr.UpdateToken(ctx, acc, tokenID, tokens.TokenChange{Name: body.Name, Enabled: body.Enabled})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, httpapi.Token(t), nil
}

func (h *Handler) deleteToken(ctx context.Context, req events.APIGatewayProxyRequest) (int, any, error) {
	acc, tokenID, err := accountAnd(req, "tokenId")
	if err != nil {
		return 0, nil, err
	}
	if err := h.mgr.DeleteToken(ctx, acc, tokenID); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

// accountAnd returns the caller's account and one path parameter.
func accountAnd(req events.APIGatewayProxyRequest, param string) (string, string, error) {
	acc, err := httpapi.AccountID(req)
	if err != nil {
		return "", "", err
	}
	v, err := httpapi.PathParam(req, param)
	return acc, v, err
}

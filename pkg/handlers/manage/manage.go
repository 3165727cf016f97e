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

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/audit"
	"github.com/acmedata/tokenservice/pkg/httpapi"
	"github.com/acmedata/tokenservice/pkg/paging"
	"github.com/acmedata/tokenservice/pkg/restrict"
	"github.com/acmedata/tokenservice/pkg/routes"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// Manager is what the admin API needs of the domain.
type Manager interface {
	Account(ctx context.Context, accountID string) (tokens.Account, error)
	RotateAPIKey(ctx context.Context, accountID string, presented int64) (tokens.Account, string, error)

	CreateUser(ctx context.Context, accountID, email, name string) (tokens.User, error)
	User(ctx context.Context, accountID, userID string) (tokens.User, error)
	Users(ctx context.Context, accountID string, page paging.Request) (paging.Page[tokens.User], error)
	UpdateUser(ctx context.Context, accountID, userID string, c tokens.UserChange) (tokens.User, error)
	DeleteUser(ctx context.Context, accountID, userID string) error

	Services(ctx context.Context, accountID string) ([]tokens.ServiceSummary, error)
	ServiceSummary(ctx context.Context, accountID, service string) (tokens.ServiceSummary, error)
	ServiceUsers(ctx context.Context, accountID, service string, page paging.Request) (paging.Page[tokens.User], error)
	SetAccess(ctx context.Context, accountID, service, userID string, on bool) (tokens.User, error)

	Tokens(ctx context.Context, accountID string, f tokens.TokenFilter, page paging.Request) (paging.Page[tokens.TokenView], error)
	DefaultToken(ctx context.Context, accountID, service string) (tokens.TokenView, error)
	Token(ctx context.Context, accountID, tokenID string) (tokens.TokenView, error)
	UpdateToken(ctx context.Context, accountID, tokenID string, c tokens.TokenChange) (tokens.TokenView, error)
	DeleteToken(ctx context.Context, accountID, tokenID string) error

	AuditLog(ctx context.Context, accountID string, f audit.Filter, page paging.Request) (paging.Page[audit.Entry], error)
}

// handler's methods are the admin management routes.
type handler struct {
	mgr Manager
}

// New returns the router serving the admin management routes over mgr.
func New(mgr Manager, log *slog.Logger) (*httpapi.Router, error) {
	if mgr == nil {
		return nil, errors.New("manage: nil manager")
	}
	h := &handler{mgr: mgr}
	return httpapi.NewRouter(routes.Manage, log, httpapi.Handlers{
		routes.GetOwnAccount:    h.getAccount,
		routes.RotateAPIKey:     h.rotateKey,
		routes.CreateUser:       h.createUser,
		routes.ListUsers:        h.listUsers,
		routes.GetUser:          h.getUser,
		routes.UpdateUser:       h.updateUser,
		routes.DeleteUser:       h.deleteUser,
		routes.ListServices:     h.listServices,
		routes.GetService:       h.getService,
		routes.ListServiceUsers: h.listServiceUsers,
		routes.SetAccess:        h.setAccess,
		routes.ListTokens:       h.listTokens,
		routes.GetDefaultToken:  h.defaultToken,
		routes.GetToken:         h.getToken,
		routes.UpdateToken:      h.updateToken,
		routes.DeleteToken:      h.deleteToken,
		routes.ListAudit:        h.listAudit,
	})
}

// ---- account ----

func (h *handler) getAccount(ctx context.Context, r httpapi.Request) (int, any, error) {
	a, err := h.mgr.Account(ctx, r.Account)
	return httpapi.Result(http.StatusOK, httpapi.Account, a, err)
}

func (h *handler) rotateKey(ctx context.Context, r httpapi.Request) (int, any, error) {
	if err := r.Decode(&struct{}{}); err != nil {
		return 0, nil, err
	}
	_, key, err := h.mgr.RotateAPIKey(ctx, r.Account, r.KeyGeneration())
	return httpapi.Result(http.StatusCreated, httpapi.NewKey, key, err)
}

// ---- users ----

type userBody struct {
	Email *string `json:"email"`
	Name  *string `json:"name"`
}

func (h *handler) createUser(ctx context.Context, r httpapi.Request) (int, any, error) {
	var body userBody
	if err := r.DecodeRequired(&body); err != nil {
		return 0, nil, err
	}
	if body.Email == nil || body.Name == nil {
		return 0, nil, apperr.Invalid("missing_field", "email and name are required")
	}
	u, err := h.mgr.CreateUser(ctx, r.Account, *body.Email, *body.Name)
	return httpapi.Result(http.StatusCreated, httpapi.User, u, err)
}

func (h *handler) listUsers(ctx context.Context, r httpapi.Request) (int, any, error) {
	page, err := httpapi.Page(r.APIGatewayProxyRequest)
	if err != nil {
		return 0, nil, err
	}
	p, err := h.mgr.Users(ctx, r.Account, page)
	return httpapi.Result(http.StatusOK, listOf(httpapi.User), p, err)
}

func (h *handler) getUser(ctx context.Context, r httpapi.Request) (int, any, error) {
	u, err := h.mgr.User(ctx, r.Account, r.Param("userId"))
	return httpapi.Result(http.StatusOK, httpapi.User, u, err)
}

func (h *handler) updateUser(ctx context.Context, r httpapi.Request) (int, any, error) {
	var body userBody
	if err := r.DecodeRequired(&body); err != nil {
		return 0, nil, err
	}
	u, err := h.mgr.UpdateUser(ctx, r.Account, r.Param("userId"), tokens.UserChange{Email: body.Email, Name: body.Name})
	return httpapi.Result(http.StatusOK, httpapi.User, u, err)
}

func (h *handler) deleteUser(ctx context.Context, r httpapi.Request) (int, any, error) {
	return httpapi.NoContent(h.mgr.DeleteUser(ctx, r.Account, r.Param("userId")))
}

// ---- services and access ----

// ServiceView is a subscribed service with its "General" tab counts, its
// plan and its quota use.
type ServiceView = httpapi.ServiceView

var serviceView = httpapi.Service

func (h *handler) listServices(ctx context.Context, r httpapi.Request) (int, any, error) {
	services, err := h.mgr.Services(ctx, r.Account)
	return httpapi.Result(http.StatusOK, listOf(serviceView), paging.Page[tokens.ServiceSummary]{Items: services}, err)
}

func (h *handler) getService(ctx context.Context, r httpapi.Request) (int, any, error) {
	s, err := h.mgr.ServiceSummary(ctx, r.Account, r.Param("service"))
	return httpapi.Result(http.StatusOK, serviceView, s, err)
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

func (h *handler) listServiceUsers(ctx context.Context, r httpapi.Request) (int, any, error) {
	page, err := httpapi.Page(r.APIGatewayProxyRequest)
	if err != nil {
		return 0, nil, err
	}
	service := r.Param("service")
	p, err := h.mgr.ServiceUsers(ctx, r.Account, service, page)
	return httpapi.Result(http.StatusOK, listOf(accessView(service)), p, err)
}

type accessBody struct {
	Active *bool `json:"active"`
}

func (h *handler) setAccess(ctx context.Context, r httpapi.Request) (int, any, error) {
	var body accessBody
	if err := r.DecodeRequired(&body); err != nil {
		return 0, nil, err
	}
	if body.Active == nil {
		return 0, nil, apperr.Invalid("missing_field", "active is required")
	}
	service := r.Param("service")
	u, err := h.mgr.SetAccess(ctx, r.Account, service, r.Param("userId"), *body.Active)
	return httpapi.Result(http.StatusOK, accessView(service), u, err)
}

// ---- tokens ----

func (h *handler) listTokens(ctx context.Context, r httpapi.Request) (int, any, error) {
	page, err := httpapi.Page(r.APIGatewayProxyRequest)
	if err != nil {
		return 0, nil, err
	}
	f := tokens.TokenFilter{Service: r.Param("service")}
	var typ, status string
	if err := httpapi.Queries(r.APIGatewayProxyRequest, httpapi.Q("type", &typ), httpapi.Q("userId", &f.UserID), httpapi.Q("status", &status), httpapi.Q("name", &f.NamePrefix)); err != nil {
		return 0, nil, err
	}
	f.Type, f.Status = tokens.TokenType(typ), tokens.TokenStatus(status)
	p, err := h.mgr.Tokens(ctx, r.Account, f, page)
	return httpapi.Result(http.StatusOK, listOf(httpapi.Token), p, err)
}

func (h *handler) defaultToken(ctx context.Context, r httpapi.Request) (int, any, error) {
	t, err := h.mgr.DefaultToken(ctx, r.Account, r.Param("service"))
	return httpapi.Result(http.StatusOK, httpapi.Token, t, err)
}

func (h *handler) getToken(ctx context.Context, r httpapi.Request) (int, any, error) {
	t, err := h.mgr.Token(ctx, r.Account, r.Param("tokenId"))
	return httpapi.Result(http.StatusOK, httpapi.Token, t, err)
}

type updateTokenBody struct {
	Name         *string                `json:"name"`
	Enabled      *bool                  `json:"enabled"`
	Restrictions *restrict.Restrictions `json:"restrictions"`
	Protected    *bool                  `json:"protected"`
	httpapi.OperatorOnly
}

func (h *handler) updateToken(ctx context.Context, r httpapi.Request) (int, any, error) {
	var body updateTokenBody
	if err := r.DecodeRequired(&body); err != nil {
		return 0, nil, err
	}
	if err := body.Check(); err != nil {
		return 0, nil, err
	}
	t, err := h.mgr.UpdateToken(ctx, r.Account, r.Param("tokenId"), tokens.TokenChange{
		Name: body.Name, Enabled: body.Enabled, Restrictions: body.Restrictions, Protected: body.Protected, KeyGeneration: r.KeyGeneration(),
	})
	return httpapi.Result(http.StatusOK, httpapi.Token, t, err)
}

func (h *handler) deleteToken(ctx context.Context, r httpapi.Request) (int, any, error) {
	return httpapi.NoContent(h.mgr.DeleteToken(ctx, r.Account, r.Param("tokenId")))
}

// ---- audit log ----

// listAudit answers the account's own audit log: the account comes from
// the key authorizer alone, so no filter can reach another account's.
func (h *handler) listAudit(ctx context.Context, r httpapi.Request) (int, any, error) {
	f, page, err := httpapi.AuditQuery(r.APIGatewayProxyRequest)
	if err != nil {
		return 0, nil, err
	}
	p, err := h.mgr.AuditLog(ctx, r.Account, f, page)
	return httpapi.Result(http.StatusOK, httpapi.AuditList, p, err)
}

// listOf adapts a representation to the listing shape.
func listOf[S, T any](convert func(S) T) func(paging.Page[S]) httpapi.List[T] {
	return func(p paging.Page[S]) httpapi.List[T] { return httpapi.ListOf(p, convert) }
}

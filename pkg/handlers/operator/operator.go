// Package operator serves the operator routes under /operator: creating
// accounts, choosing their services and status, recovering a lost API key
// and setting the token settings admins may not set themselves. On AWS
// these routes are IAM-authorised (SigV4); the handler trusts API Gateway
// for that.
//
// Every change an operator makes is recorded twice, in one vocabulary: the
// account's audit entry (committed with the change, with the fields that
// changed) and a log line (LogMessage) with the request ID, so an operator
// can follow one principal across accounts and join the change to the
// router's line of its request (status, latency). Both name the principal
// the router attached to the request (httpapi's caller) and the audit log's
// action; plans, which belong to no account and have no audit entry, have
// the plan.* actions of this package.
package operator

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/audit"
	"github.com/acmedata/tokenservice/pkg/ghscan"
	"github.com/acmedata/tokenservice/pkg/httpapi"
	"github.com/acmedata/tokenservice/pkg/paging"
	"github.com/acmedata/tokenservice/pkg/routes"
	"github.com/acmedata/tokenservice/pkg/secret"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// Manager is what the operator API needs of the domain.
type Manager interface {
	CreateAccount(ctx context.Context, name string, services []string) (tokens.Account, string, error)
	Account(ctx context.Context, accountID string) (tokens.Account, error)
	UpdateAccount(ctx context.Context, accountID string, c tokens.AccountChange) (tokens.Account, error)
	ReplaceAPIKey(ctx context.Context, accountID string) (tokens.Account, string, error)
	SetTokenSettings(ctx context.Context, tokenID string, s tokens.Settings) (tokens.TokenView, error)
	SetTokenProtected(ctx context.Context, tokenID string, protected bool) (tokens.TokenView, error)
	Accounts(ctx context.Context, f tokens.AccountFilter, page paging.Request) (paging.Page[tokens.Account], error)
	AuditLog(ctx context.Context, accountID string, f audit.Filter, page paging.Request) (paging.Page[audit.Entry], error)
	ReportLeaks(ctx context.Context, r tokens.LeakReport) ([]tokens.LeakItem, error)
	PlanManager
}

// handler's methods are the operator routes.
type handler struct {
	mgr   Manager
	plans PlanManager
	log   *slog.Logger
	// github verifies GitHub's secret scanning reports; nil refuses them.
	github *ghscan.Verifier
}

// Option configures the operator routes.
type Option func(*handler)

// WithGitHubKeys takes GitHub's secret scanning reports on
// POST /leaks/github, verified with v's keys (nil: none taken).
func WithGitHubKeys(v *ghscan.Verifier) Option { return func(h *handler) { h.github = v } }

// New returns the router serving the operator routes over mgr.
func New(mgr Manager, log *slog.Logger, opts ...Option) (*httpapi.Router, error) {
	if mgr == nil {
		return nil, errors.New("operator: nil manager")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &handler{mgr: mgr, plans: mgr, log: log}
	for _, o := range opts {
		o(h)
	}
	return httpapi.NewRouter(routes.Operator, log, httpapi.Handlers{
		routes.CreateAccount:     h.createAccount,
		routes.ListAccounts:      h.listAccounts,
		routes.GetAccount:        h.getAccount,
		routes.UpdateAccount:     h.updateAccount,
		routes.ReplaceAPIKey:     h.replaceKey,
		routes.PutTokenSettings:  h.setSettings,
		routes.ProtectToken:      h.protectToken,
		routes.ListAccountAudit:  h.listAudit,
		routes.ReportLeaks:       h.reportLeaks,
		routes.ReportGitHubLeaks: h.reportGitHubLeaks,
		routes.CreatePlan:        h.createPlan,
		routes.ListPlans:         h.listPlans,
		routes.GetPlan:           h.getPlan,
		routes.UpdatePlan:        h.updatePlan,
		routes.DeletePlan:        h.deletePlan,
		routes.PutServicePlan:    h.putServicePlan,
		routes.PutTokenPlan:      h.putTokenPlan,
	})
}

// LogMessage is the message of the line each operator change logs.
const LogMessage = "operator action"

// The actions of the plans, which belong to no account: the log line is
// their only record (the audit log is an account's). Assigning a plan is
// the audit log's audit.PlanAssign.
const (
	PlanCreate = "plan.create"
	PlanUpdate = "plan.update"
	PlanDelete = "plan.delete"
)

// logChange logs one change the request made: the principal of the audit
// request ctx carries (the one the change's audit entry records), the
// action (an audit.Action, or a plan's), the target's ID and the request
// ID. It is called only once the change has committed; a refused or
// failed request has the router's line alone, which names the principal
// too.
func (h *handler) logChange(ctx context.Context, req httpapi.Request, action, target string) {
	principal := ""
	if r, err := audit.RequestFrom(ctx); err == nil {
		principal = r.Actor.Principal
	}
	h.log.LogAttrs(ctx, slog.LevelInfo, LogMessage,
		slog.String("requestId", req.RequestContext.RequestID),
		slog.String("principal", principal),
		slog.String("action", action),
		slog.String("target", target))
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

func (h *handler) createAccount(ctx context.Context, req httpapi.Request) (int, any, error) {
	var body createAccountBody
	if err := req.DecodeRequired(&body); err != nil {
		return 0, nil, err
	}
	if body.Name == nil || body.Services == nil {
		return 0, nil, apperr.Invalid("missing_field", "name and services are required")
	}
	a, key, err := h.mgr.CreateAccount(ctx, *body.Name, *body.Services)
	if err != nil {
		return 0, nil, err
	}
	h.logChange(ctx, req, string(audit.AccountCreate), a.ID)
	return http.StatusCreated, CreatedAccount{Account: httpapi.Account(a), APIKey: key}, nil
}

// listAccounts finds accounts without knowing their IDs: by status, by a
// subscribed service, by the start of the name.
func (h *handler) listAccounts(ctx context.Context, req httpapi.Request) (int, any, error) {
	page, err := httpapi.Page(req.APIGatewayProxyRequest)
	if err != nil {
		return 0, nil, err
	}
	var f tokens.AccountFilter
	var status string
	if err := httpapi.Queries(req.APIGatewayProxyRequest, httpapi.Q("status", &status), httpapi.Q("service", &f.Service), httpapi.Q("name", &f.NamePrefix)); err != nil {
		return 0, nil, err
	}
	f.Status = tokens.AccountStatus(status)
	p, err := h.mgr.Accounts(ctx, f, page)
	return httpapi.Result(http.StatusOK, func(p paging.Page[tokens.Account]) httpapi.List[httpapi.AccountView] {
		return httpapi.ListOf(p, httpapi.Account)
	}, p, err)
}

func (h *handler) getAccount(ctx context.Context, req httpapi.Request) (int, any, error) {
	id := req.Param("accountId")
	a, err := h.mgr.Account(ctx, id)
	return httpapi.Result(http.StatusOK, httpapi.Account, a, err)
}

type updateAccountBody struct {
	Status   *tokens.AccountStatus `json:"status"`
	Services *[]string             `json:"services"`
}

func (h *handler) updateAccount(ctx context.Context, req httpapi.Request) (int, any, error) {
	id := req.Param("accountId")
	var body updateAccountBody
	if err := req.DecodeRequired(&body); err != nil {
		return 0, nil, err
	}
	a, err := h.mgr.UpdateAccount(ctx, id, tokens.AccountChange{Status: body.Status, Services: body.Services})
	if err != nil {
		return 0, nil, err
	}
	h.logChange(ctx, req, string(audit.AccountUpdate), a.ID)
	return http.StatusOK, httpapi.Account(a), nil
}

func (h *handler) replaceKey(ctx context.Context, req httpapi.Request) (int, any, error) {
	id := req.Param("accountId")
	if err := req.Decode(&struct{}{}); err != nil {
		return 0, nil, err
	}
	a, key, err := h.mgr.ReplaceAPIKey(ctx, id)
	if err != nil {
		return 0, nil, err
	}
	h.logChange(ctx, req, string(audit.APIKeyReplace), a.ID)
	return http.StatusCreated, httpapi.NewKey(key), nil
}

type settingsBody struct {
	Settings *tokens.Settings `json:"settings"`
}

func (h *handler) setSettings(ctx context.Context, req httpapi.Request) (int, any, error) {
	id := req.Param("tokenId")
	var body settingsBody
	if err := req.DecodeRequired(&body); err != nil {
		return 0, nil, err
	}
	if body.Settings == nil || *body.Settings == nil {
		return 0, nil, apperr.Invalid("missing_field", "settings is required (an object, {} to clear)")
	}
	t, err := h.mgr.SetTokenSettings(ctx, id, *body.Settings)
	if err != nil {
		return 0, nil, err
	}
	h.logChange(ctx, req, string(audit.SettingsUpdate), t.ID)
	return http.StatusOK, httpapi.Token(t), nil
}

type protectBody struct {
	Protected *bool `json:"protected"`
}

// protectToken sets or lifts a token's protection: an operator keeping a
// customer's production token from deletion by a hurried admin.
func (h *handler) protectToken(ctx context.Context, req httpapi.Request) (int, any, error) {
	id := req.Param("tokenId")
	var body protectBody
	if err := req.DecodeRequired(&body); err != nil {
		return 0, nil, err
	}
	if body.Protected == nil {
		return 0, nil, apperr.Invalid("missing_field", "protected is required (true or false)")
	}
	t, err := h.mgr.SetTokenProtected(ctx, id, *body.Protected)
	if err != nil {
		return 0, nil, err
	}
	h.logChange(ctx, req, string(audit.TokenUpdate), t.ID)
	return http.StatusOK, httpapi.Token(t), nil
}

// listAudit answers an account's audit log for an operator (404 for an
// account that does not exist).
func (h *handler) listAudit(ctx context.Context, req httpapi.Request) (int, any, error) {
	f, page, err := httpapi.AuditQuery(req.APIGatewayProxyRequest)
	if err != nil {
		return 0, nil, err
	}
	p, err := h.mgr.AuditLog(ctx, req.Param("accountId"), f, page)
	return httpapi.Result(http.StatusOK, httpapi.AuditList, p, err)
}

type leaksBody struct {
	Tokens *[]string `json:"tokens"`
	Source string    `json:"source"`
	URL    string    `json:"url"`
}

// reportLeaks disables the live tokens among strings found in public and
// answers, per string in order, its hint and what was done: never the
// string. The log line names the tokens disabled by ID.
func (h *handler) reportLeaks(ctx context.Context, req httpapi.Request) (int, any, error) {
	var body leaksBody
	if err := req.Decode(&body); err != nil {
		return 0, nil, err
	}
	if body.Tokens == nil {
		return 0, nil, apperr.Invalid("missing_field", "tokens is required (a list of strings)")
	}
	items, err := h.mgr.ReportLeaks(ctx, tokens.LeakReport{Strings: *body.Tokens, Source: body.Source, URL: body.URL})
	if err != nil {
		return 0, nil, err
	}
	for _, it := range items {
		if it.Result == tokens.LeakExposed {
			h.logChange(ctx, req, string(audit.TokenExpose), it.TokenID)
		}
	}
	return http.StatusOK, httpapi.LeakList(items), nil
}

// GitHubActor is the audit actor of GitHub's reports: an operator-side
// principal, as no account's key made the change.
const GitHubActor = "github-secret-scanning"

// errGitHubUnverified answers a GitHub report whose signature does not
// verify (or a deployment configured with no GitHub keys).
var errGitHubUnverified = &httpapi.Error{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "the request is not signed by a configured GitHub secret scanning key"}

// reportGitHubLeaks is GitHub's secret scanning partner endpoint: it
// verifies the signature over the exact body before reading anything,
// reports the matches as a leak report per URL (source "github", actor
// GitHubActor) and answers GitHub's feedback by token hash.
func (h *handler) reportGitHubLeaks(ctx context.Context, req httpapi.Request) (int, any, error) {
	body, err := httpapi.RawBody(req.APIGatewayProxyRequest)
	if err != nil {
		return 0, nil, err
	}
	keyID, sig := header(req.Headers, ghscan.HeaderKeyID), header(req.Headers, ghscan.HeaderSignature)
	if err := h.github.Verify(keyID, sig, body); err != nil {
		return 0, nil, errGitHubUnverified
	}
	var matches []ghscan.Match
	if err := json.Unmarshal(body, &matches); err != nil || len(matches) == 0 || len(matches) > tokens.MaxLeakStrings {
		return 0, nil, apperr.Invalid("invalid_json", "the body must be a JSON array of 1 to %d matches", tokens.MaxLeakStrings)
	}
	id := req.RequestContext.Identity
	ctx = audit.WithRequest(ctx, audit.NewRequest(audit.Operator(GitHubActor), id.SourceIP, id.UserAgent))
	// One report per URL, so each audit entry says where its token was.
	byURL := map[string][]int{}
	var order []string
	for i, m := range matches {
		if _, seen := byURL[m.URL]; !seen {
			order = append(order, m.URL)
		}
		byURL[m.URL] = append(byURL[m.URL], i)
	}
	out := make([]ghscan.Feedback, len(matches))
	for _, u := range order {
		at := byURL[u]
		strs := make([]string, len(at))
		for j, i := range at {
			strs[j] = matches[i].Token
		}
		items, err := h.mgr.ReportLeaks(ctx, tokens.LeakReport{Strings: strs, Source: "github", URL: githubURL(u)})
		if err != nil {
			return 0, nil, err
		}
		for j, i := range at {
			label := ghscan.FalsePositive
			if r := items[j].Result; r == tokens.LeakExposed || r == tokens.LeakAlreadyDisabled {
				label = ghscan.TruePositive
			}
			if items[j].Result == tokens.LeakExposed {
				h.logChange(ctx, req, string(audit.TokenExpose), items[j].TokenID)
			}
			out[i] = ghscan.Feedback{TokenHash: secret.Hash(matches[i].Token), TokenType: matches[i].Type, Label: label}
		}
	}
	return http.StatusOK, out, nil
}

// githubURL is the finding's URL as the audit entry keeps it: "" unless
// it is a plain http(s) URL without a secret in it (the report's rules).
func githubURL(u string) string {
	if tokens.RefuseSecret("url", u) != nil || len(u) > tokens.MaxLeakURL || !(strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://")) {
		return ""
	}
	return u
}

// header returns a request header by name in any case.
func header(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

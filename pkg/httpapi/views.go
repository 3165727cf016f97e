package httpapi

import (
	"time"

	"github.com/acmedata/tokenservice/pkg/paging"
	"github.com/acmedata/tokenservice/pkg/plans"
	"github.com/acmedata/tokenservice/pkg/restrict"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// TimeFormat is RFC 3339 in UTC with milliseconds, the precision we store.
const TimeFormat = "2006-01-02T15:04:05.000Z07:00"

// Time formats t for a response.
func Time(t time.Time) string { return t.UTC().Format(TimeFormat) }

func optionalTime(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := Time(*t)
	return &s
}

func nilIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// AccountView is an account's representation.
type AccountView struct {
	ID        string        `json:"id"`
	Name      string        `json:"name"`
	Status    string        `json:"status"`
	Services  []string      `json:"services"`
	APIKey    APIKeySummary `json:"apiKey"`
	CreatedAt string        `json:"createdAt"`
	UpdatedAt string        `json:"updatedAt"`
}

// APIKeySummary describes the current API key without revealing it.
type APIKeySummary struct {
	ID        string `json:"id"`
	Hint      string `json:"hint"`
	CreatedAt string `json:"createdAt"`
}

// Account represents a.
func Account(a tokens.Account) AccountView {
	services := a.Services
	if services == nil {
		services = []string{}
	}
	return AccountView{
		ID: a.ID, Name: a.Name, Status: string(a.Status), Services: services,
		APIKey:    APIKeySummary{ID: a.APIKey.ID, Hint: a.APIKey.Hint, CreatedAt: Time(a.APIKey.CreatedAt)},
		CreatedAt: Time(a.CreatedAt), UpdatedAt: Time(a.UpdatedAt),
	}
}

// UserView is a user's representation.
type UserView struct {
	ID        string `json:"id"`
	Email     string `json:"email"`
	Name      string `json:"name"`
	CreatedAt string `json:"createdAt"`
}

// User represents u.
func User(u tokens.User) UserView {
	return UserView{ID: u.ID, Email: u.Email, Name: u.Name, CreatedAt: Time(u.CreatedAt)}
}

// TokenView is a token's representation. It never holds the secret.
type TokenView struct {
	ID             string                `json:"id"`
	Name           string                `json:"name"`
	Service        string                `json:"service"`
	Type           string                `json:"type"`
	UserID         *string               `json:"userId"`
	Status         string                `json:"status"`
	DisabledReason *string               `json:"disabledReason"`
	CreatedAt      string                `json:"createdAt"`
	ExpiresAt      *string               `json:"expiresAt"`
	LastUsedAt     *string               `json:"lastUsedAt"`
	Settings       tokens.Settings       `json:"settings"`
	IsDefault      bool                  `json:"isDefault"`
	Hint           string                `json:"hint"`
	Restrictions   restrict.Restrictions `json:"restrictions"`
	Protected      bool                  `json:"protected"`
	ClonedFrom     *string               `json:"clonedFrom"`
	// Plan is the token's own plan (null: none, whatever its service's).
	Plan *PlanSummary `json:"plan"`
}

// Token represents v.
func Token(v tokens.TokenView) TokenView {
	settings := v.Settings
	if settings == nil {
		settings = tokens.Settings{}
	}
	return TokenView{
		ID: v.ID, Name: v.Name, Service: v.Service, Type: string(v.Type()), UserID: nilIfEmpty(v.UserID),
		Status: string(v.Status), DisabledReason: nilIfEmpty(string(v.DisabledReason)),
		CreatedAt: Time(v.CreatedAt), ExpiresAt: optionalTime(v.ExpiresAt), LastUsedAt: optionalTime(v.LastUsedAt),
		Settings: settings, IsDefault: v.IsDefault, Hint: v.Hint,
		Restrictions: v.Restrictions.Restrictions(), Protected: v.Protected, ClonedFrom: nilIfEmpty(v.ClonedFrom),
		Plan: optionalPlan(v.Plan),
	}
}

// NewTokenView is the answer to a create or clone: the representation
// plus the secret, shown this once.
type NewTokenView struct {
	TokenView
	Token string `json:"token"`
}

// KeyView answers the routes that make an API key: the key, shown this once.
type KeyView struct {
	APIKey string `json:"apiKey"`
}

// NewKey renders a key just made.
func NewKey(key string) KeyView { return KeyView{APIKey: key} }

// NewToken returns the view of a token just made with secret.
func NewToken(secret string) func(tokens.TokenView) NewTokenView {
	return func(v tokens.TokenView) NewTokenView { return NewTokenView{TokenView: Token(v), Token: secret} }
}

// List is the shape of every listing.
type List[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"nextCursor"`
}

// ListOf represents a page through convert.
func ListOf[S, T any](p paging.Page[S], convert func(S) T) List[T] {
	items := make([]T, 0, len(p.Items))
	for _, s := range p.Items {
		items = append(items, convert(s))
	}
	return List[T]{Items: items, NextCursor: nilIfEmpty(p.NextCursor)}
}

// LeakItemView is the answer for one string of a leak report: its hint
// and what was done, never the string.
type LeakItemView struct {
	Hint   string `json:"hint"`
	Result string `json:"result"`
}

// LeakListView answers a leak report: one item per string, in order.
type LeakListView struct {
	Items []LeakItemView `json:"items"`
}

// LeakList renders a leak report's answer.
func LeakList(items []tokens.LeakItem) LeakListView {
	out := LeakListView{Items: make([]LeakItemView, len(items))}
	for i, it := range items {
		out.Items[i] = LeakItemView{Hint: it.Hint, Result: string(it.Result)}
	}
	return out
}

// PlanView is a plan's representation for operators.
type PlanView struct {
	PlanSummary
	CreatedAt string `json:"createdAt"`
	UpdatedAt string `json:"updatedAt"`
}

// PlanSummary is a plan as a service's or a token's representation holds
// it: {id, name, rate, burst, quota}.
type PlanSummary struct {
	ID    string     `json:"id"`
	Name  string     `json:"name"`
	Rate  float64    `json:"rate"`
	Burst int        `json:"burst"`
	Quota *QuotaView `json:"quota"`
}

// QuotaView is a plan's quota: {limit, period}.
type QuotaView struct {
	Limit  int64  `json:"limit"`
	Period string `json:"period"`
}

// Plan represents p for operators.
func Plan(p plans.Plan) PlanView {
	return PlanView{PlanSummary: planSummary(p), CreatedAt: Time(p.CreatedAt), UpdatedAt: Time(p.UpdatedAt)}
}

func planSummary(p plans.Plan) PlanSummary {
	s := PlanSummary{ID: p.ID, Name: p.Name, Rate: p.Rate, Burst: p.Burst}
	if p.Quota != nil {
		s.Quota = &QuotaView{Limit: p.Quota.Limit, Period: string(p.Quota.Period)}
	}
	return s
}

func optionalPlan(p *plans.Plan) *PlanSummary {
	if p == nil {
		return nil
	}
	s := planSummary(*p)
	return &s
}

// QuotaUseView is the quota use of an account's service: {limit, used,
// period, resetsAt}.
type QuotaUseView struct {
	Limit    int64  `json:"limit"`
	Used     int64  `json:"used"`
	Period   string `json:"period"`
	ResetsAt string `json:"resetsAt"`
}

// ServiceView is a subscribed service with its "General" tab counts, its
// plan for the account and the plan's quota use (null without).
type ServiceView struct {
	ID              string        `json:"id"`
	Name            string        `json:"name"`
	UsersWithAccess int           `json:"usersWithAccess"`
	UserTokens      int           `json:"userTokens"`
	UserlessTokens  int           `json:"userlessTokens"`
	Plan            *PlanSummary  `json:"plan"`
	Quota           *QuotaUseView `json:"quota"`
}

// Service represents s.
func Service(s tokens.ServiceSummary) ServiceView {
	v := ServiceView{ID: s.ID, Name: s.Name, UsersWithAccess: s.UsersWithAccess, UserTokens: s.UserTokens, UserlessTokens: s.UserlessTokens, Plan: optionalPlan(s.Plan)}
	if q := s.Quota; q != nil {
		v.Quota = &QuotaUseView{Limit: q.Limit, Used: q.Used, Period: string(q.Period), ResetsAt: Time(q.ResetsAt)}
	}
	return v
}

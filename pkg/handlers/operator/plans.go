package operator

import (
	"context"
	"net/http"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/audit"
	"github.com/acmedata/tokenservice/pkg/httpapi"
	"github.com/acmedata/tokenservice/pkg/paging"
	"github.com/acmedata/tokenservice/pkg/plans"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// PlanManager is what the plan routes need of the domain.
type PlanManager interface {
	CreatePlan(ctx context.Context, in tokens.PlanInput) (plans.Plan, error)
	Plan(ctx context.Context, planID string) (plans.Plan, error)
	Plans(ctx context.Context, page paging.Request) (paging.Page[plans.Plan], error)
	UpdatePlan(ctx context.Context, planID string, c tokens.PlanChange) (plans.Plan, error)
	DeletePlan(ctx context.Context, planID string) error
	SetServicePlan(ctx context.Context, accountID, service, planID string) (tokens.ServiceSummary, error)
	SetTokenPlan(ctx context.Context, tokenID, planID string) (tokens.TokenView, error)
}

type planBody struct {
	Name  *string  `json:"name"`
	Rate  *float64 `json:"rate"`
	Burst *int     `json:"burst"`
	// Quota is {limit, period}, or null for none (on a PATCH: take the
	// quota off); absent keeps it.
	Quota jsontext.Value `json:"quota"`
}

type quotaBody struct {
	Limit  *int64  `json:"limit"`
	Period *string `json:"period"`
}

var errQuota = apperr.Invalid("invalid_quota", `quota must be null or {"limit": a whole number of calls, "period": "day", "week" or "month"}`)

// quota reads a body's quota: nil for absent or null (set says which).
func (b planBody) quota() (q *plans.Quota, set bool, err error) {
	if len(b.Quota) == 0 {
		return nil, false, nil
	}
	if b.Quota.Kind() == 'n' {
		return nil, true, nil
	}
	var in quotaBody
	if b.Quota.Kind() != '{' || json.Unmarshal(b.Quota, &in, json.RejectUnknownMembers(true)) != nil || in.Limit == nil || in.Period == nil {
		return nil, true, errQuota
	}
	return &plans.Quota{Limit: *in.Limit, Period: plans.Period(*in.Period)}, true, nil
}

func (h *handler) createPlan(ctx context.Context, req httpapi.Request) (int, any, error) {
	var body planBody
	if err := req.DecodeRequired(&body); err != nil {
		return 0, nil, err
	}
	if body.Name == nil || body.Rate == nil || body.Burst == nil {
		return 0, nil, apperr.Invalid("missing_field", "name, rate and burst are required")
	}
	q, _, err := body.quota()
	if err != nil {
		return 0, nil, err
	}
	p, err := h.plans.CreatePlan(ctx, tokens.PlanInput{Name: *body.Name, Rate: *body.Rate, Burst: *body.Burst, Quota: q})
	if err != nil {
		return 0, nil, err
	}
	h.logChange(ctx, req, PlanCreate, p.ID)
	return http.StatusCreated, httpapi.Plan(p), nil
}

func (h *handler) listPlans(ctx context.Context, req httpapi.Request) (int, any, error) {
	page, err := httpapi.Page(req.APIGatewayProxyRequest)
	if err != nil {
		return 0, nil, err
	}
	p, err := h.plans.Plans(ctx, page)
	return httpapi.Result(http.StatusOK, func(p paging.Page[plans.Plan]) httpapi.List[httpapi.PlanView] {
		return httpapi.ListOf(p, httpapi.Plan)
	}, p, err)
}

func (h *handler) getPlan(ctx context.Context, req httpapi.Request) (int, any, error) {
	p, err := h.plans.Plan(ctx, req.Param("planId"))
	return httpapi.Result(http.StatusOK, httpapi.Plan, p, err)
}

func (h *handler) updatePlan(ctx context.Context, req httpapi.Request) (int, any, error) {
	var body planBody
	if err := req.DecodeRequired(&body); err != nil {
		return 0, nil, err
	}
	q, set, err := body.quota()
	if err != nil {
		return 0, nil, err
	}
	p, err := h.plans.UpdatePlan(ctx, req.Param("planId"), tokens.PlanChange{Name: body.Name, Rate: body.Rate, Burst: body.Burst, Quota: q, RemoveQuota: set && q == nil})
	if err != nil {
		return 0, nil, err
	}
	h.logChange(ctx, req, PlanUpdate, p.ID)
	return http.StatusOK, httpapi.Plan(p), nil
}

func (h *handler) deletePlan(ctx context.Context, req httpapi.Request) (int, any, error) {
	id := req.Param("planId")
	if err := h.plans.DeletePlan(ctx, id); err != nil {
		return 0, nil, err
	}
	h.logChange(ctx, req, PlanDelete, id)
	return httpapi.NoContent(nil)
}

// assignBody is {"planId": "pln_..."} or {"planId": null} (none).
type assignBody struct {
	PlanID jsontext.Value `json:"planId"`
}

func (b assignBody) planID() (string, error) {
	switch {
	case len(b.PlanID) == 0:
		return "", apperr.Invalid("missing_field", "planId is required (a plan's ID, or null for none)")
	case b.PlanID.Kind() == 'n':
		return "", nil
	}
	var id string
	if b.PlanID.Kind() != '"' || json.Unmarshal(b.PlanID, &id) != nil || id == "" {
		return "", apperr.Invalid("invalid_plan_id", "planId must be a plan's ID or null")
	}
	return id, nil
}

func (h *handler) putServicePlan(ctx context.Context, req httpapi.Request) (int, any, error) {
	var body assignBody
	if err := req.DecodeRequired(&body); err != nil {
		return 0, nil, err
	}
	planID, err := body.planID()
	if err != nil {
		return 0, nil, err
	}
	s, err := h.plans.SetServicePlan(ctx, req.Param("accountId"), req.Param("service"), planID)
	if err != nil {
		return 0, nil, err
	}
	h.logChange(ctx, req, string(audit.PlanAssign), req.Param("accountId"))
	return http.StatusOK, httpapi.Service(s), nil
}

func (h *handler) putTokenPlan(ctx context.Context, req httpapi.Request) (int, any, error) {
	var body assignBody
	if err := req.DecodeRequired(&body); err != nil {
		return 0, nil, err
	}
	planID, err := body.planID()
	if err != nil {
		return 0, nil, err
	}
	t, err := h.plans.SetTokenPlan(ctx, req.Param("tokenId"), planID)
	if err != nil {
		return 0, nil, err
	}
	h.logChange(ctx, req, string(audit.PlanAssign), t.ID)
	return http.StatusOK, httpapi.Token(t), nil
}

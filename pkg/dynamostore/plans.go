package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/audit"
	"github.com/acmedata/tokenservice/pkg/paging"
	"github.com/acmedata/tokenservice/pkg/plans"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// Plans live in one partition of their own (a deployment has at most a
// few hundred: API Gateway's usage plans per region), each with the count
// of its assignments; pending reconciliations live in another, one marker
// item per plan or assignment (docs/data-model.md, "Plans").
const (
	pkPlans     = "PLANS"
	prefixPlan  = "PLAN#"
	pkReconcile = "RECONCILE"
)

var _ plans.MarkerStore = (*Store)(nil)

func planSK(planID string) string { return prefixPlan + planID }

type planItem struct {
	PK          string  `dynamodbav:"pk"`
	SK          string  `dynamodbav:"sk"`
	ID          string  `dynamodbav:"id"`
	Name        string  `dynamodbav:"name"`
	Rate        float64 `dynamodbav:"rate"`
	Burst       int     `dynamodbav:"burst"`
	QuotaLimit  int64   `dynamodbav:"quotaLimit,omitempty"`
	QuotaPeriod string  `dynamodbav:"quotaPeriod,omitempty"`
	CreatedAt   string  `dynamodbav:"createdAt"`
	UpdatedAt   string  `dynamodbav:"updatedAt"`
	// InUse counts the plan's assignments (accounts' services and
	// tokens), moved by the transactions that assign it: a deletion is
	// conditional on 0, so plan_in_use costs no query.
	InUse   int64 `dynamodbav:"inUse"`
	Version int64 `dynamodbav:"version"`
}

func newPlanItem(p plans.Plan, inUse, version int64) planItem {
	it := planItem{
		PK: pkPlans, SK: planSK(p.ID), ID: p.ID, Name: p.Name, Rate: p.Rate, Burst: p.Burst,
		CreatedAt: formatTime(p.CreatedAt), UpdatedAt: formatTime(p.UpdatedAt), InUse: inUse, Version: version,
	}
	if p.Quota != nil {
		it.QuotaLimit, it.QuotaPeriod = p.Quota.Limit, string(p.Quota.Period)
	}
	return it
}

func (it planItem) plan() (plans.Plan, error) {
	created, err1 := parseTime(it.CreatedAt)
	updated, err2 := parseTime(it.UpdatedAt)
	p := plans.Plan{ID: it.ID, Name: it.Name, Rate: it.Rate, Burst: it.Burst, CreatedAt: created, UpdatedAt: updated}
	if it.QuotaPeriod != "" {
		p.Quota = &plans.Quota{Limit: it.QuotaLimit, Period: plans.Period(it.QuotaPeriod)}
	}
	return p, errors.Join(err1, err2)
}

// markerItem is a pending reconciliation (plans.Marker).
type markerItem struct {
	PK         string   `dynamodbav:"pk"`
	SK         string   `dynamodbav:"sk"` // Marker.Ref: plan markers sort first
	Kind       string   `dynamodbav:"kind"`
	PlanID     string   `dynamodbav:"planId"`
	AccountID  string   `dynamodbav:"accountId,omitempty"`
	Service    string   `dynamodbav:"service,omitempty"`
	TokenID    string   `dynamodbav:"tokenId,omitempty"`
	Seq        string   `dynamodbav:"seq"`
	Retire     []string `dynamodbav:"retire,stringset,omitempty"`
	LeaseUntil string   `dynamodbav:"leaseUntil,omitempty"`
}

func (it markerItem) marker() (plans.Marker, error) {
	m := plans.Marker{
		Kind: plans.MarkerKind(it.Kind), PlanID: it.PlanID, Seq: it.Seq, Retire: it.Retire,
		Assignment: plans.Assignment{AccountID: it.AccountID, Service: it.Service, TokenID: it.TokenID},
	}
	if it.LeaseUntil != "" {
		t, err := parseTime(it.LeaseUntil)
		if err != nil {
			return plans.Marker{}, err
		}
		m.LeaseUntil = t
	}
	return m, nil
}

// mark adds to the transaction the write of m's marker: a new one, or
// the pending one rewritten with m's plan and Seq, its keys to retire
// added to the pending ones, its lease kept.
func (t *txn) mark(m plans.Marker) {
	sets := "SET #kind = :kind, #planId = :planId, #seq = :seq"
	values := map[string]types.AttributeValue{":kind": str(string(m.Kind)), ":planId": str(m.PlanID), ":seq": str(m.Seq)}
	a := m.Assignment
	for _, f := range []struct{ attr, v string }{{"accountId", a.AccountID}, {"service", a.Service}, {"tokenId", a.TokenID}} {
		if f.v != "" {
			sets += ", #" + f.attr + " = :" + f.attr
			values[":"+f.attr] = str(f.v)
		}
	}
	if len(m.Retire) > 0 {
		sets += " ADD #retire :retire"
		values[":retire"] = &types.AttributeValueMemberSS{Value: m.Retire}
	}
	t.update(itemKey(pkReconcile, m.Ref()), sets, "", values)
}

// use adds to the transaction delta assignments of planID, on condition
// that the plan exists.
func (t *txn) use(planID string, delta int64) txnItem {
	return t.update(itemKey(pkPlans, planSK(planID)), "ADD #inUse :d", exists, map[string]types.AttributeValue{":d": num(delta)})
}

// moveUse adds the move of one assignment from plan prev to plan next
// ("" for none) and returns the handle of next's count (noItem if none),
// whose failed condition means that next does not exist.
func (t *txn) moveUse(prev, next string) txnItem {
	if prev == next {
		return noItem
	}
	if prev != "" {
		t.use(prev, -1)
	}
	if next == "" {
		return noItem
	}
	return t.use(next, 1)
}

// CreatePlan implements tokens.PlanStore.
func (s *Store) CreatePlan(ctx context.Context, p plans.Plan) error {
	t := s.txn()
	plan := t.put(newPlanItem(p, 0, 1), notExists, nil)
	t.mark(plans.Marker{Kind: plans.MarkPlan, PlanID: p.ID, Seq: plans.NewSeq()})
	err := t.run(ctx, s.db)
	if plan.failed(err) {
		return apperr.Conflict("plan_exists", "a plan with this ID exists")
	}
	return err
}

// GetPlan implements tokens.PlanStore.
func (s *Store) GetPlan(ctx context.Context, planID string) (plans.Plan, error) {
	it, err := s.planItem(ctx, planID)
	if err != nil {
		return plans.Plan{}, err
	}
	return it.plan()
}

// Plan implements plans.MarkerStore.
func (s *Store) Plan(ctx context.Context, planID string) (plans.Plan, error) {
	return s.GetPlan(ctx, planID)
}

func (s *Store) planItem(ctx context.Context, planID string) (planItem, error) {
	var it planItem
	found, err := s.get(ctx, pkPlans, planSK(planID), &it)
	if err == nil && !found {
		err = apperr.NotFound("plan")
	}
	return it, err
}

// ListPlans implements tokens.PlanStore: one Query of the plans'
// partition, newest first.
func (s *Store) ListPlans(ctx context.Context, page paging.Request) (paging.Page[plans.Plan], error) {
	l := listing{sortAttr: attrSK, prefix: prefixPlan, partAttr: attrPK, partValue: pkPlans, filters: []string{"plans"}}
	l.startKey = func(sk string) map[string]types.AttributeValue { return itemKey(pkPlans, sk) }
	return list(ctx, s, "", l, page, "", nil, func(it planItem) (plans.Plan, bool, error) {
		p, err := it.plan()
		return p, true, err
	})
}

// UpdatePlan implements tokens.PlanStore.
func (s *Store) UpdatePlan(ctx context.Context, planID string, change func(*plans.Plan) error) (plans.Plan, error) {
	var out plans.Plan
	err := optimistic(ctx, func() error {
		stored, err := s.planItem(ctx, planID)
		if err != nil {
			return err
		}
		p, err := stored.plan()
		if err != nil {
			return err
		}
		orig := p
		if err := change(&p); err != nil {
			return err
		}
		p.ID, p.CreatedAt = orig.ID, orig.CreatedAt
		// The count is the assignments' to move: it is not written here,
		// and an assignment meanwhile fails the version condition.
		next := newPlanItem(p, stored.InUse, stored.Version)
		sets := "SET #name = :name, #rate = :rate, #burst = :burst, #updatedAt = :updatedAt, #version = :next"
		values := map[string]types.AttributeValue{
			":name": str(next.Name), ":rate": &types.AttributeValueMemberN{Value: strconv.FormatFloat(next.Rate, 'g', -1, 64)},
			":burst": num(int64(next.Burst)), ":updatedAt": str(next.UpdatedAt), ":next": num(stored.Version + 1), ":prev": num(stored.Version),
		}
		if p.Quota != nil {
			sets += ", #quotaLimit = :quotaLimit, #quotaPeriod = :quotaPeriod"
			values[":quotaLimit"], values[":quotaPeriod"] = num(next.QuotaLimit), str(next.QuotaPeriod)
		} else {
			sets += " REMOVE #quotaLimit, #quotaPeriod"
		}
		t := s.txn()
		t.update(itemKey(pkPlans, planSK(planID)), sets, "#version = :prev", values)
		t.mark(plans.Marker{Kind: plans.MarkPlan, PlanID: planID, Seq: plans.NewSeq()})
		if err := s.staleOrMissing(ctx, t.run(ctx, s.db), pkPlans, planSK(planID), "plan"); err != nil {
			return err
		}
		out = p
		return nil
	})
	return out, err
}

// DeletePlan implements tokens.PlanStore: conditional on no assignment.
func (s *Store) DeletePlan(ctx context.Context, planID string) error {
	t := s.txn()
	plan := t.delete(itemKey(pkPlans, planSK(planID)), exists+" AND #inUse = :zero", map[string]types.AttributeValue{":zero": num(0)})
	t.mark(plans.Marker{Kind: plans.MarkPlan, PlanID: planID, Seq: plans.NewSeq()})
	err := t.run(ctx, s.db)
	if !plan.failed(err) {
		return err
	}
	if _, getErr := s.planItem(ctx, planID); getErr != nil {
		return getErr
	}
	return tokens.ErrPlanInUse
}

// errPlanChanged is an attempt finding that the assignment no longer wants
// the plan it is asked about: final, unlike ErrStale, which is retried.
var errPlanChanged = errors.New("the assignment wants another plan")

// AssignServicePlan implements tokens.PlanStore: the account item, the
// plans' counts, the marker and the audit entry in one transaction of at
// most five items, whatever the account holds.
func (s *Store) AssignServicePlan(ctx context.Context, accountID, service, planID string, e audit.Entry) (tokens.Account, plans.Marker, error) {
	var out tokens.Account
	var marker plans.Marker
	err := optimistic(ctx, func() error {
		stored, err := s.accountItem(ctx, accountID)
		if err != nil {
			return err
		}
		a, err := stored.account()
		if err != nil {
			return err
		}
		prev, usedKey := a.Plans[service], a.UsageKeys[service]
		if a.Plans == nil {
			a.Plans = map[string]string{}
		}
		if planID == "" {
			delete(a.Plans, service)
			delete(a.UsageKeys, service) // unlimited at once
		} else {
			a.Plans[service] = planID
		}
		marker = plans.Assigned(plans.Assignment{AccountID: accountID, Service: service}, planID, e.ID, usedKey, prev)
		t := s.txn()
		t.put(newAccountItem(a, stored.APIKeyHash, stored.Version+1), "#version = :prev", prevVersion(stored.Version))
		plan := t.moveUse(prev, planID)
		t.mark(marker)
		t.audit(accountID, e.Diff(tokens.ServicePlanFields(service, prev), tokens.ServicePlanFields(service, planID)))
		err = t.run(ctx, s.db)
		if plan.failed(err) {
			if _, getErr := s.planItem(ctx, planID); getErr != nil {
				return getErr
			}
			return apperr.ErrStale
		}
		out = a
		return err
	})
	return out, marker, err
}

// AssignTokenPlan implements tokens.PlanStore: the token's two items, the
// plans' counts, the marker and the audit entry in one transaction of at
// most six items.
func (s *Store) AssignTokenPlan(ctx context.Context, accountID, tokenID, planID string, e audit.Entry) (tokens.Token, plans.Marker, error) {
	var out tokens.Token
	var marker plans.Marker
	err := optimistic(ctx, func() error {
		tok, version, err := s.readToken(ctx, accountID, tokenID)
		if err != nil {
			return err
		}
		prev, usedKey := tok.PlanID, tok.UsageKey
		next := tok
		next.PlanID = planID
		if planID == "" {
			next.UsageKey = "" // back to the service's plan at once
		}
		marker = plans.Assigned(plans.Assignment{AccountID: accountID, TokenID: tokenID}, planID, e.ID, usedKey, prev)
		t := s.txn()
		t.setTokenPlan(next, &version)
		plan := t.moveUse(prev, planID)
		t.mark(marker)
		t.audit(accountID, e.Diff(tokens.TokenPlanFields(prev), tokens.TokenPlanFields(planID)))
		err = t.run(ctx, s.db)
		if plan.failed(err) {
			if _, getErr := s.planItem(ctx, planID); getErr != nil {
				return getErr
			}
			return apperr.ErrStale
		}
		if err := s.staleOrMissing(ctx, err, accountPK(accountID), tokenSK(tokenID), "token"); err != nil {
			return err
		}
		out = next
		return nil
	})
	return out, marker, err
}

// setTokenPlan adds the write of a token's plan and usage key to both its
// items: with version, on condition that the token item still has it (and
// the version moves on); without, on condition that the token still wants
// its plan (the reconciler's PointAt).
func (t *txn) setTokenPlan(tok tokens.Token, version *int64) {
	sets, removes := []string{}, []string{}
	values := map[string]types.AttributeValue{}
	for _, f := range []struct{ attr, v string }{{"planId", tok.PlanID}, {"usageKey", tok.UsageKey}} {
		if f.v == "" {
			removes = append(removes, "#"+f.attr)
			continue
		}
		sets, values[":"+f.attr] = append(sets, "#"+f.attr+" = :"+f.attr), str(f.v)
	}
	cond := "#planId = :planId"
	tokenValues := maps.Clone(values)
	tokenSets := sets
	if version != nil {
		cond = "#version = :prev"
		tokenSets = append(tokenSets, "#version = :v")
		tokenValues[":prev"], tokenValues[":v"] = num(*version), num(*version+1)
	}
	expr := func(sets []string) string {
		out := ""
		if len(sets) > 0 {
			out = "SET " + join(sets)
		}
		if len(removes) > 0 {
			out += " REMOVE " + join(removes)
		}
		return out
	}
	t.update(itemKey(accountPK(tok.AccountID), tokenSK(tok.ID)), expr(tokenSets), cond, tokenValues)
	credCond := exists
	if version == nil {
		credCond += " AND " + cond
	}
	t.update(itemKey(credPK(tok.SecretHash), skCred), expr(sets), credCond, nonEmptyValues(values))
}

func join(parts []string) string { return strings.Join(parts, ", ") }

func nonEmptyValues(v map[string]types.AttributeValue) map[string]types.AttributeValue {
	if len(v) == 0 {
		return nil
	}
	return v
}

// tokenMade adds to a create's transaction the count and the marker of a
// token with a plan of its own (a clone keeps its source's), returning
// the handle of the count (noItem if none).
func (t *txn) tokenMade(tok tokens.Token, seq string) txnItem {
	if tok.PlanID == "" {
		return noItem
	}
	at := t.moveUse("", tok.PlanID)
	t.mark(plans.Assigned(plans.Assignment{AccountID: tok.AccountID, TokenID: tok.ID}, tok.PlanID, seq, "", ""))
	return at
}

// tokenGone adds to a deletion's transaction the uncounting of a token's
// own plan and the marker that retires its key.
func (t *txn) tokenGone(tok tokens.Token, seq string) {
	if tok.PlanID == "" {
		return
	}
	t.moveUse(tok.PlanID, "")
	t.mark(plans.Assigned(plans.Assignment{AccountID: tok.AccountID, TokenID: tok.ID}, "", seq, tok.UsageKey, tok.PlanID))
}

// PendingMarkers implements plans.MarkerStore: one Query of the markers'
// partition, in key order (plan markers first).
func (s *Store) PendingMarkers(ctx context.Context, limit int) ([]plans.Marker, error) {
	keyCond := "#pk = :pk"
	res, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName: &s.table, ConsistentRead: aws.Bool(true), KeyConditionExpression: &keyCond,
		ExpressionAttributeNames:  exprNames(nil, keyCond),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pkReconcile)},
		Limit:                     aws.Int32(int32(max(limit, 1))),
	})
	if err != nil {
		return nil, storeErr(err)
	}
	var items []markerItem
	if err := attributevalue.UnmarshalListOfMaps(res.Items, &items); err != nil {
		return nil, fmt.Errorf("decode markers: %w", err)
	}
	out := make([]plans.Marker, 0, len(items))
	for _, it := range items {
		m, err := it.marker()
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// ClaimMarker implements plans.MarkerStore with one conditional UpdateItem.
func (s *Store) ClaimMarker(ctx context.Context, m plans.Marker, now, until time.Time) (plans.Marker, error) {
	update := "SET #leaseUntil = :until"
	cond := exists + " AND (attribute_not_exists(#leaseUntil) OR #leaseUntil < :now)"
	res, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: itemKey(pkReconcile, m.Ref()), UpdateExpression: &update, ConditionExpression: &cond,
		ExpressionAttributeNames:  exprNames(nil, update, cond),
		ExpressionAttributeValues: map[string]types.AttributeValue{":until": str(formatTime(until)), ":now": str(formatTime(now))},
		ReturnValues:              types.ReturnValueAllNew,
	})
	if err = storeErr(err); err != nil {
		return plans.Marker{}, s.staleOrMissing(ctx, err, pkReconcile, m.Ref(), "marker")
	}
	var it markerItem
	if err := attributevalue.UnmarshalMap(res.Attributes, &it); err != nil {
		return plans.Marker{}, fmt.Errorf("decode marker: %w", err)
	}
	return it.marker()
}

// PointAt implements plans.MarkerStore. A token's key is one conditional
// transaction of its two items; an account's is a write of the account
// item on condition of its version (as every write of it is), so no
// concurrent change of the account is lost.
func (s *Store) PointAt(ctx context.Context, m plans.Marker, key string) error {
	a := m.Assignment
	if m.Kind == plans.MarkToken {
		tok, _, err := s.readToken(ctx, a.AccountID, a.TokenID)
		if err != nil {
			return err
		}
		if tok.PlanID != m.PlanID {
			return apperr.ErrStale
		}
		tok.UsageKey = key
		t := s.txn()
		t.setTokenPlan(tok, nil)
		return s.staleOrMissing(ctx, t.run(ctx, s.db), accountPK(a.AccountID), tokenSK(a.TokenID), "token")
	}
	err := optimistic(ctx, func() error {
		stored, err := s.accountItem(ctx, a.AccountID)
		if err != nil {
			return err
		}
		acc, err := stored.account()
		if err != nil {
			return err
		}
		if acc.Plans[a.Service] != m.PlanID {
			return errPlanChanged
		}
		if acc.UsageKeys == nil {
			acc.UsageKeys = map[string]string{}
		}
		acc.UsageKeys[a.Service] = key
		t := s.txn()
		t.put(newAccountItem(acc, stored.APIKeyHash, stored.Version+1), "#version = :prev", prevVersion(stored.Version))
		return t.run(ctx, s.db)
	})
	if errors.Is(err, errPlanChanged) {
		return apperr.ErrStale
	}
	return err
}

// FinishMarker implements plans.MarkerStore: the marker is deleted if it
// still has m.Seq; else a newer write rewrote it, and only the lease goes.
func (s *Store) FinishMarker(ctx context.Context, m plans.Marker) error {
	t := s.txn()
	t.delete(itemKey(pkReconcile, m.Ref()), "#seq = :seq", map[string]types.AttributeValue{":seq": str(m.Seq)})
	err := t.run(ctx, s.db)
	if !errors.Is(err, apperr.ErrStale) {
		return err
	}
	err = s.update(ctx, itemKey(pkReconcile, m.Ref()), "REMOVE #leaseUntil", exists, nil, nil)
	if errors.Is(err, apperr.ErrStale) {
		return nil // gone meanwhile
	}
	return err
}

package apigwplans

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"

	"github.com/acmedata/tokenservice/pkg/plans"
)

// Environment variables of the functions that drive the engine (operator,
// manage, sweeper), set by the CDK stack.
const (
	EnvRestAPIID = "PLANS_REST_API_ID" // the REST API whose stage the usage plans limit
	EnvStage     = "PLANS_STAGE"       // that stage's name
	// EnvExtraStages lists other APIs' stages the usage plans limit too,
	// comma-separated "restApiId:stage": deployers' own APIs behind the
	// token authorizer (tokenauth.EnforcePlans), where a plan's key must
	// be in a usage plan of that stage as well, or API Gateway refuses
	// the call 403.
	EnvExtraStages = "PLANS_EXTRA_STAGES"
)

// Stage is one REST API's stage.
type Stage struct{ APIID, Name string }

func (s Stage) String() string { return s.APIID + ":" + s.Name }

// ParseStages reads EnvExtraStages' value; "" is none.
func ParseStages(raw string) ([]Stage, error) {
	var out []Stage
	for part := range strings.SplitSeq(raw, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		api, name, ok := strings.Cut(part, ":")
		if !ok || api == "" || name == "" || strings.Contains(name, ":") {
			return nil, fmt.Errorf("apigwplans: %s: %q is not restApiId:stage", EnvExtraStages, part)
		}
		out = append(out, Stage{APIID: api, Name: name})
	}
	return out, nil
}

// ErrNoPlan is returned by PutKey for a plan that has no usage plan yet:
// the reconciler puts the plan first.
var ErrNoPlan = errors.New("apigwplans: the plan has no usage plan")

// ErrKeyInOtherPlan is returned by PutKey when the key is already a key
// of another usage plan of the stage. A key never moves between plans (a
// re-assignment makes a new key), so this is a bug or a hand-made change.
var ErrKeyInOtherPlan = errors.New("apigwplans: the key is in another usage plan of the stage")

// API is the part of API Gateway's control plane the engine calls;
// *apigateway.Client has it.
type API interface {
	GetUsagePlans(context.Context, *apigateway.GetUsagePlansInput, ...func(*apigateway.Options)) (*apigateway.GetUsagePlansOutput, error)
	GetUsagePlan(context.Context, *apigateway.GetUsagePlanInput, ...func(*apigateway.Options)) (*apigateway.GetUsagePlanOutput, error)
	CreateUsagePlan(context.Context, *apigateway.CreateUsagePlanInput, ...func(*apigateway.Options)) (*apigateway.CreateUsagePlanOutput, error)
	UpdateUsagePlan(context.Context, *apigateway.UpdateUsagePlanInput, ...func(*apigateway.Options)) (*apigateway.UpdateUsagePlanOutput, error)
	DeleteUsagePlan(context.Context, *apigateway.DeleteUsagePlanInput, ...func(*apigateway.Options)) (*apigateway.DeleteUsagePlanOutput, error)
	GetApiKeys(context.Context, *apigateway.GetApiKeysInput, ...func(*apigateway.Options)) (*apigateway.GetApiKeysOutput, error)
	CreateApiKey(context.Context, *apigateway.CreateApiKeyInput, ...func(*apigateway.Options)) (*apigateway.CreateApiKeyOutput, error)
	UpdateApiKey(context.Context, *apigateway.UpdateApiKeyInput, ...func(*apigateway.Options)) (*apigateway.UpdateApiKeyOutput, error)
	DeleteApiKey(context.Context, *apigateway.DeleteApiKeyInput, ...func(*apigateway.Options)) (*apigateway.DeleteApiKeyOutput, error)
	GetUsagePlanKeys(context.Context, *apigateway.GetUsagePlanKeysInput, ...func(*apigateway.Options)) (*apigateway.GetUsagePlanKeysOutput, error)
	GetUsagePlanKey(context.Context, *apigateway.GetUsagePlanKeyInput, ...func(*apigateway.Options)) (*apigateway.GetUsagePlanKeyOutput, error)
	CreateUsagePlanKey(context.Context, *apigateway.CreateUsagePlanKeyInput, ...func(*apigateway.Options)) (*apigateway.CreateUsagePlanKeyOutput, error)
	DeleteUsagePlanKey(context.Context, *apigateway.DeleteUsagePlanKeyInput, ...func(*apigateway.Options)) (*apigateway.DeleteUsagePlanKeyOutput, error)
	GetUsage(context.Context, *apigateway.GetUsageInput, ...func(*apigateway.Options)) (*apigateway.GetUsageOutput, error)
}

var (
	_ API          = (*apigateway.Client)(nil)
	_ plans.Engine = (*Engine)(nil)
)

// Engine drives the usage plans of one REST API's stage. It is safe for
// concurrent use.
type Engine struct {
	api       API
	restAPIID string
	stages    []Stage // the API's own first

	mu    sync.Mutex
	plans map[string]string // plan ID -> usage plan ID
	keys  map[string]string // API key name -> API key ID
}

// New returns the engine of the usage plans of stage of the REST API
// restAPIID, which also limit the extra stages of other APIs.
func New(api API, restAPIID, stage string, extra ...Stage) (*Engine, error) {
	switch {
	case api == nil:
		return nil, errors.New("apigwplans: nil API Gateway client")
	case restAPIID == "":
		return nil, fmt.Errorf("apigwplans: no REST API ID (%s)", EnvRestAPIID)
	case stage == "":
		return nil, fmt.Errorf("apigwplans: no stage (%s)", EnvStage)
	}
	stages := []Stage{{APIID: restAPIID, Name: stage}}
	for _, st := range extra {
		if st.APIID == "" || st.Name == "" {
			return nil, fmt.Errorf("apigwplans: extra stage %q is not restApiId:stage", st)
		}
		if !slices.Contains(stages, st) {
			stages = append(stages, st)
		}
	}
	return &Engine{api: api, restAPIID: restAPIID, stages: stages, plans: map[string]string{}, keys: map[string]string{}}, nil
}

// PlanName is the name of plan planID's usage plan.
func (e *Engine) PlanName(planID string) string {
	return "tokenservice-" + e.restAPIID + "-" + planID
}

// KeyName is the name of the API key whose value is value: it names the
// key without showing its value.
func (e *Engine) KeyName(value string) string {
	sum := sha256.Sum256([]byte(value))
	return "tokenservice-" + e.restAPIID + "-" + hex.EncodeToString(sum[:16])
}

// PutPlan creates p's usage plan or brings its throttle, quota and stage
// to p's.
func (e *Engine) PutPlan(ctx context.Context, p plans.Plan) error {
	throttle, quota, err := settings(p)
	if err != nil {
		return err
	}
	found, err := e.findPlans(ctx, p.ID)
	if err != nil {
		return err
	}
	if len(found) == 0 {
		out, err := e.api.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{
			Name:        aws.String(e.PlanName(p.ID)),
			Description: aws.String("Plan " + p.ID + " of the token service; made and kept by its reconciler"),
			ApiStages:   e.apiStages(),
			Throttle:    throttle,
			Quota:       quota,
			Tags:        map[string]string{"tokenservice:plan": p.ID},
		})
		if err != nil {
			return fmt.Errorf("apigwplans: create usage plan of %s: %w", p.ID, err)
		}
		// Another reconciler may have made one at the same time: the
		// smallest ID wins, here as everywhere.
		if found, err = e.findPlans(ctx, p.ID); err != nil {
			return err
		}
		if len(found) == 0 { // not listed yet: ours is the one
			e.remember(e.plans, p.ID, aws.ToString(out.Id))
			return nil
		}
	}
	canonical := found[0]
	if ops := e.planPatch(canonical, throttle, quota); len(ops) > 0 {
		if _, err := e.api.UpdateUsagePlan(ctx, &apigateway.UpdateUsagePlanInput{UsagePlanId: canonical.Id, PatchOperations: ops}); err != nil {
			return fmt.Errorf("apigwplans: update usage plan of %s: %w", p.ID, err)
		}
	}
	for _, dup := range found[1:] {
		if err := e.merge(ctx, aws.ToString(dup.Id), aws.ToString(canonical.Id)); err != nil {
			return fmt.Errorf("apigwplans: merge a duplicate usage plan of %s: %w", p.ID, err)
		}
	}
	return nil
}

// settings are p's throttle and quota as API Gateway takes them.
func settings(p plans.Plan) (*types.ThrottleSettings, *types.QuotaSettings, error) {
	if p.ID == "" {
		return nil, nil, errors.New("apigwplans: a plan without an ID")
	}
	if p.Burst < 0 || p.Burst > math.MaxInt32 {
		return nil, nil, fmt.Errorf("apigwplans: plan %s: burst %d out of range", p.ID, p.Burst)
	}
	throttle := &types.ThrottleSettings{RateLimit: p.Rate, BurstLimit: int32(p.Burst)}
	if p.Quota == nil {
		return throttle, nil, nil
	}
	period, ok := periods[p.Quota.Period]
	if !ok {
		return nil, nil, fmt.Errorf("apigwplans: plan %s: quota period %q", p.ID, p.Quota.Period)
	}
	if p.Quota.Limit < 0 || p.Quota.Limit > math.MaxInt32 {
		return nil, nil, fmt.Errorf("apigwplans: plan %s: quota limit %d is more than API Gateway takes (%d)", p.ID, p.Quota.Limit, math.MaxInt32)
	}
	return throttle, &types.QuotaSettings{Limit: int32(p.Quota.Limit), Period: period, Offset: 0}, nil
}

var periods = map[plans.Period]types.QuotaPeriodType{
	plans.Day:   types.QuotaPeriodTypeDay,
	plans.Week:  types.QuotaPeriodTypeWeek,
	plans.Month: types.QuotaPeriodTypeMonth,
}

// planPatch is what brings up to the throttle, quota and stage wanted;
// nothing if it has them.
func (e *Engine) planPatch(up types.UsagePlan, throttle *types.ThrottleSettings, quota *types.QuotaSettings) []types.PatchOperation {
	var ops []types.PatchOperation
	replace := func(path, value string) {
		ops = append(ops, types.PatchOperation{Op: types.OpReplace, Path: aws.String(path), Value: aws.String(value)})
	}
	if up.Throttle == nil || up.Throttle.RateLimit != throttle.RateLimit {
		replace("/throttle/rateLimit", strconv.FormatFloat(throttle.RateLimit, 'f', -1, 64))
	}
	if up.Throttle == nil || up.Throttle.BurstLimit != throttle.BurstLimit {
		replace("/throttle/burstLimit", strconv.Itoa(int(throttle.BurstLimit)))
	}
	switch {
	case quota == nil && up.Quota != nil:
		ops = append(ops, types.PatchOperation{Op: types.OpRemove, Path: aws.String("/quota")})
	case quota != nil && (up.Quota == nil || *up.Quota != *quota):
		replace("/quota/limit", strconv.Itoa(int(quota.Limit)))
		replace("/quota/period", string(quota.Period))
		replace("/quota/offset", "0")
	}
	for _, st := range e.stages {
		has := slices.ContainsFunc(up.ApiStages, func(s types.ApiStage) bool {
			return aws.ToString(s.ApiId) == st.APIID && aws.ToString(s.Stage) == st.Name
		})
		if !has {
			ops = append(ops, types.PatchOperation{Op: types.OpAdd, Path: aws.String("/apiStages"), Value: aws.String(st.String())})
		}
	}
	return ops
}

// apiStages are the stages every usage plan limits.
func (e *Engine) apiStages() []types.ApiStage {
	out := make([]types.ApiStage, len(e.stages))
	for i, st := range e.stages {
		out[i] = types.ApiStage{ApiId: aws.String(st.APIID), Stage: aws.String(st.Name)}
	}
	return out
}

// merge moves the keys of usage plan dup into canonical and deletes dup.
// A key is in no plan of the stage between its removal from dup and its
// addition to canonical (a call in that instant is refused 403): only a
// race on a plan's first creation leaves a duplicate, before any key.
func (e *Engine) merge(ctx context.Context, dup, canonical string) error {
	var position *string
	for {
		out, err := e.api.GetUsagePlanKeys(ctx, &apigateway.GetUsagePlanKeysInput{UsagePlanId: aws.String(dup), Limit: aws.Int32(500), Position: position})
		if isNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		for _, k := range out.Items {
			if _, err := e.api.DeleteUsagePlanKey(ctx, &apigateway.DeleteUsagePlanKeyInput{UsagePlanId: aws.String(dup), KeyId: k.Id}); err != nil && !isNotFound(err) {
				return err
			}
			if err := e.addKey(ctx, canonical, aws.ToString(k.Id)); err != nil {
				return err
			}
		}
		if position = out.Position; aws.ToString(position) == "" {
			break
		}
	}
	return e.deleteUsagePlan(ctx, dup)
}

// DeletePlan deletes plan planID's usage plan (and any duplicate of it).
func (e *Engine) DeletePlan(ctx context.Context, planID string) error {
	found, err := e.findPlans(ctx, planID)
	if err != nil {
		return err
	}
	for _, up := range found {
		if err := e.deleteUsagePlan(ctx, aws.ToString(up.Id)); err != nil {
			return fmt.Errorf("apigwplans: delete usage plan of %s: %w", planID, err)
		}
	}
	e.forget(e.plans, planID)
	return nil
}

// deleteUsagePlan removes the usage plan's stages, which API Gateway asks
// for before it deletes a plan, then the plan.
func (e *Engine) deleteUsagePlan(ctx context.Context, id string) error {
	for _, st := range e.stages {
		_, err := e.api.UpdateUsagePlan(ctx, &apigateway.UpdateUsagePlanInput{UsagePlanId: aws.String(id), PatchOperations: []types.PatchOperation{
			{Op: types.OpRemove, Path: aws.String("/apiStages"), Value: aws.String(st.String())},
		}})
		if isNotFound(err) {
			return nil
		}
		var bad *types.BadRequestException // the stage was removed already
		if err != nil && !errors.As(err, &bad) {
			return err
		}
	}
	if _, err := e.api.DeleteUsagePlan(ctx, &apigateway.DeleteUsagePlanInput{UsagePlanId: aws.String(id)}); err != nil && !isNotFound(err) {
		return err
	}
	return nil
}

// PutKey makes k.Value an API key of plan k.PlanID's usage plan.
func (e *Engine) PutKey(ctx context.Context, k plans.Key) error {
	if err := plans.CheckKeyValue(k.Value); err != nil {
		return err
	}
	planID, err := e.usagePlanID(ctx, k.PlanID)
	if err != nil {
		return err
	}
	keyID, err := e.ensureKey(ctx, k.Value)
	if err != nil {
		return err
	}
	err = e.addKey(ctx, planID, keyID)
	if isNotFound(err) { // the plan or key went since we looked: look again, once
		e.forget(e.plans, k.PlanID)
		e.forget(e.keys, e.KeyName(k.Value))
		if planID, err = e.usagePlanID(ctx, k.PlanID); err != nil {
			return err
		}
		if keyID, err = e.ensureKey(ctx, k.Value); err != nil {
			return err
		}
		err = e.addKey(ctx, planID, keyID)
	}
	if err != nil {
		return fmt.Errorf("apigwplans: put a key of %s: %w", k.PlanID, err)
	}
	return nil
}

// addKey makes API key keyID a key of usage plan planID.
func (e *Engine) addKey(ctx context.Context, planID, keyID string) error {
	_, err := e.api.CreateUsagePlanKey(ctx, &apigateway.CreateUsagePlanKeyInput{UsagePlanId: aws.String(planID), KeyId: aws.String(keyID), KeyType: aws.String("API_KEY")})
	var conflict *types.ConflictException
	if !errors.As(err, &conflict) {
		return err
	}
	// Already a key of this plan (a retry), or of another of the stage.
	_, err = e.api.GetUsagePlanKey(ctx, &apigateway.GetUsagePlanKeyInput{UsagePlanId: aws.String(planID), KeyId: aws.String(keyID)})
	if isNotFound(err) {
		return ErrKeyInOtherPlan
	}
	return err
}

// ensureKey is the ID of the API key of value, made (enabled) if there is
// none.
func (e *Engine) ensureKey(ctx context.Context, value string) (string, error) {
	name := e.KeyName(value)
	key, err := e.findKey(ctx, name)
	if err != nil {
		return "", err
	}
	if key == nil {
		out, err := e.api.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{
			Name:        aws.String(name),
			Value:       aws.String(value),
			Enabled:     true,
			Description: aws.String("A usage key of the token service; made and kept by its reconciler"),
		})
		var conflict *types.ConflictException
		if errors.As(err, &conflict) { // made by a concurrent call
			if key, err = e.findKey(ctx, name); err == nil && key == nil {
				err = conflict
			}
		}
		if err != nil {
			return "", fmt.Errorf("apigwplans: create an API key: %w", err)
		}
		if key == nil {
			e.remember(e.keys, name, aws.ToString(out.Id))
			return aws.ToString(out.Id), nil
		}
	}
	if !key.Enabled {
		if _, err := e.api.UpdateApiKey(ctx, &apigateway.UpdateApiKeyInput{ApiKey: key.Id, PatchOperations: []types.PatchOperation{
			{Op: types.OpReplace, Path: aws.String("/enabled"), Value: aws.String("true")},
		}}); err != nil {
			return "", fmt.Errorf("apigwplans: enable an API key: %w", err)
		}
	}
	return aws.ToString(key.Id), nil
}

// DeleteKey deletes the API key of value, which leaves its usage plan
// with it.
func (e *Engine) DeleteKey(ctx context.Context, value string) error {
	name := e.KeyName(value)
	id, err := e.keyID(ctx, name)
	if err != nil || id == "" {
		return err
	}
	_, err = e.api.DeleteApiKey(ctx, &apigateway.DeleteApiKeyInput{ApiKey: aws.String(id)})
	e.forget(e.keys, name)
	if isNotFound(err) {
		// The ID remembered may be of a key another process deleted and
		// made again: look the name up once more.
		if id, err = e.keyID(ctx, name); err != nil || id == "" {
			return err
		}
		_, err = e.api.DeleteApiKey(ctx, &apigateway.DeleteApiKeyInput{ApiKey: aws.String(id)})
		e.forget(e.keys, name)
	}
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("apigwplans: delete an API key: %w", err)
	}
	return nil
}

// QuotaUsage is the sum of the calls API Gateway counted for k's key on
// each UTC day of the current period of its plan's quota: 0 without a
// quota or before the key exists.
func (e *Engine) QuotaUsage(ctx context.Context, k plans.Key, now time.Time) (int64, error) {
	planID, err := e.usagePlanID(ctx, k.PlanID)
	if errors.Is(err, ErrNoPlan) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	up, err := e.api.GetUsagePlan(ctx, &apigateway.GetUsagePlanInput{UsagePlanId: aws.String(planID)})
	if isNotFound(err) {
		e.forget(e.plans, k.PlanID)
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("apigwplans: read usage plan of %s: %w", k.PlanID, err)
	}
	if up.Quota == nil {
		return 0, nil
	}
	var period plans.Period
	for p, t := range periods {
		if t == up.Quota.Period {
			period = p
		}
	}
	if period == "" {
		return 0, fmt.Errorf("apigwplans: usage plan of %s has quota period %q", k.PlanID, up.Quota.Period)
	}
	name := e.KeyName(k.Value)
	keyID, err := e.keyID(ctx, name)
	if err != nil || keyID == "" {
		return 0, err
	}
	const day = "2006-01-02"
	in := &apigateway.GetUsageInput{
		UsagePlanId: aws.String(planID),
		KeyId:       aws.String(keyID),
		StartDate:   aws.String(period.Start(now).Format(day)),
		EndDate:     aws.String(now.UTC().Format(day)),
	}
	var used int64
	for {
		out, err := e.api.GetUsage(ctx, in)
		if isNotFound(err) {
			e.forget(e.keys, name)
			return 0, nil
		}
		if err != nil {
			return 0, fmt.Errorf("apigwplans: read usage of a key of %s: %w", k.PlanID, err)
		}
		// Filtered by key ID, the only entry is the key's: one [used,
		// remaining] pair per day.
		for _, days := range out.Items {
			for _, d := range days {
				if len(d) > 0 {
					used += d[0]
				}
			}
		}
		if in.Position = out.Position; aws.ToString(in.Position) == "" {
			return used, nil
		}
	}
}

// findPlans lists the usage plans named after planID, smallest ID first,
// and remembers the first.
func (e *Engine) findPlans(ctx context.Context, planID string) ([]types.UsagePlan, error) {
	name := e.PlanName(planID)
	var found []types.UsagePlan
	in := &apigateway.GetUsagePlansInput{Limit: aws.Int32(500)}
	for {
		out, err := e.api.GetUsagePlans(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("apigwplans: list usage plans: %w", err)
		}
		for _, up := range out.Items {
			if aws.ToString(up.Name) == name {
				found = append(found, up)
			}
		}
		if in.Position = out.Position; aws.ToString(in.Position) == "" {
			break
		}
	}
	slices.SortFunc(found, func(a, b types.UsagePlan) int {
		return cmp.Compare(aws.ToString(a.Id), aws.ToString(b.Id))
	})
	if len(found) > 0 {
		e.remember(e.plans, planID, aws.ToString(found[0].Id))
	} else {
		e.forget(e.plans, planID)
	}
	return found, nil
}

// usagePlanID is the ID of plan planID's usage plan, remembered or
// looked up; ErrNoPlan if it has none.
func (e *Engine) usagePlanID(ctx context.Context, planID string) (string, error) {
	if id, ok := e.recall(e.plans, planID); ok {
		return id, nil
	}
	found, err := e.findPlans(ctx, planID)
	if err != nil {
		return "", err
	}
	if len(found) == 0 {
		return "", fmt.Errorf("%w: %s", ErrNoPlan, planID)
	}
	return aws.ToString(found[0].Id), nil
}

// findKey looks up the API key named name; nil if there is none.
func (e *Engine) findKey(ctx context.Context, name string) (*types.ApiKey, error) {
	in := &apigateway.GetApiKeysInput{NameQuery: aws.String(name), Limit: aws.Int32(500)}
	for {
		out, err := e.api.GetApiKeys(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("apigwplans: list API keys: %w", err)
		}
		for i, k := range out.Items {
			if aws.ToString(k.Name) == name { // the query may match by prefix
				e.remember(e.keys, name, aws.ToString(k.Id))
				return &out.Items[i], nil
			}
		}
		if in.Position = out.Position; aws.ToString(in.Position) == "" {
			e.forget(e.keys, name)
			return nil, nil
		}
	}
}

// keyID is the ID of the API key named name, remembered or looked up; ""
// if there is none.
func (e *Engine) keyID(ctx context.Context, name string) (string, error) {
	if id, ok := e.recall(e.keys, name); ok {
		return id, nil
	}
	k, err := e.findKey(ctx, name)
	if err != nil || k == nil {
		return "", err
	}
	return aws.ToString(k.Id), nil
}

func (e *Engine) remember(m map[string]string, k, v string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	m[k] = v
}

func (e *Engine) recall(m map[string]string, k string) (string, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	v, ok := m[k]
	return v, ok
}

func (e *Engine) forget(m map[string]string, k string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(m, k)
}

func isNotFound(err error) bool {
	var nf *types.NotFoundException
	return errors.As(err, &nf)
}

package stack

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/acmedata/tokenservice/infra/internal/cdktest"
	"github.com/acmedata/tokenservice/infra/tokenauth"
	"github.com/acmedata/tokenservice/pkg/apigwplans"
	"github.com/acmedata/tokenservice/pkg/authz"
	"github.com/acmedata/tokenservice/pkg/gatewayresp"
	"github.com/acmedata/tokenservice/pkg/routes"
)

// theOne is the only resource of typ, or fails the test.
func (s *synthesis) theOne(t *testing.T, typ string) (string, cdktest.Resource) {
	t.Helper()
	found := s.ofType(typ)
	if len(found) != 1 {
		t.Fatalf("%d resources of type %s, want 1", len(found), typ)
	}
	for id, r := range found {
		return id, r
	}
	panic("unreachable")
}

func (s *synthesis) env(name string) map[string]any {
	fn := s.resources[cdktest.LogicalID(s.stack.Stack, s.stack.Functions[name])]
	vars, _ := fn.Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
	return vars
}

func jsonOf(v any) string {
	raw, _ := json.Marshal(v)
	return string(raw)
}

// TestTheAPITakesUsageKeysOnlyFromTheAuthorizer: with the key source
// AUTHORIZER, API Gateway counts a call by the usageIdentifierKey the
// token authorizer returns; a caller's x-api-key header is never read.
func TestTheAPITakesUsageKeysOnlyFromTheAuthorizer(t *testing.T) {
	s := deployed(t)
	p := s.resources[cdktest.LogicalID(s.stack.Stack, s.stack.API)].Properties
	if p["ApiKeySourceType"] != "AUTHORIZER" {
		t.Errorf("ApiKeySourceType %v, want AUTHORIZER", p["ApiKeySourceType"])
	}
}

// TestOnlyTheTokenAuthorizedMethodsRequireAUsageKey: the data methods are
// limited by usage plans; admin, operator, public and console methods
// are not (no usage key reaches them, so requiring one would refuse them
// all with 403).
func TestOnlyTheTokenAuthorizedMethodsRequireAUsageKey(t *testing.T) {
	s := deployed(t)
	n := 0
	for _, r := range routes.All {
		p := s.resources[cdktest.LogicalID(s.stack.Stack, s.stack.Methods[r])].Properties
		want := r.Auth == routes.TokenAuth
		if got := p["ApiKeyRequired"] == true; got != want {
			t.Errorf("%s: ApiKeyRequired %v, want %v", r, p["ApiKeyRequired"], want)
		}
		if want {
			n++
		}
	}
	if n == 0 {
		t.Error("no route behind the token authorizer: nothing is limited")
	}
}

// TestTheUnlimitedPlanHasNoLimitsOnTheStageAndHoldsTheAuthorizersKey: a
// call no plan limits carries the unlimited key, which must be in a usage
// plan of the stage (else API Gateway refuses it 403), without throttle
// or quota of its own.
func TestTheUnlimitedPlanHasNoLimitsOnTheStageAndHoldsTheAuthorizersKey(t *testing.T) {
	s := deployed(t)
	planID, plan := s.theOne(t, "AWS::ApiGateway::UsagePlan")
	keyID, key := s.theOne(t, "AWS::ApiGateway::ApiKey")
	_, link := s.theOne(t, "AWS::ApiGateway::UsagePlanKey")

	if _, ok := plan.Properties["Throttle"]; ok {
		t.Errorf("unlimited plan throttles: %v", plan.Properties["Throttle"])
	}
	if _, ok := plan.Properties["Quota"]; ok {
		t.Errorf("unlimited plan has a quota: %v", plan.Properties["Quota"])
	}
	api := cdktest.LogicalID(s.stack.Stack, s.stack.API)
	stage := cdktest.LogicalID(s.stack.Stack, s.stack.API.DeploymentStage())
	wantStages := fmt.Sprintf(`[{"ApiId":{"Ref":%q},"Stage":{"Ref":%q},"Throttle":{}}]`, api, stage)
	if got := jsonOf(plan.Properties["ApiStages"]); got != wantStages {
		t.Errorf("unlimited plan's stages %s, want %s", got, wantStages)
	}
	if key.Properties["Enabled"] != true {
		t.Errorf("unlimited key enabled %v, want true", key.Properties["Enabled"])
	}
	wantLink := fmt.Sprintf(`{"KeyId":{"Ref":%q},"KeyType":"API_KEY","UsagePlanId":{"Ref":%q}}`, keyID, planID)
	if got := jsonOf(link.Properties); got != wantLink {
		t.Errorf("usage plan key %s, want %s", got, wantLink)
	}
	// The authorizer returns exactly the key's value.
	if got, want := jsonOf(s.env(tokenauth.FunctionName)[authz.EnvUnlimitedUsageKey]), jsonOf(key.Properties["Value"]); got != want || got == "null" {
		t.Errorf("authorizer's %s = %s, want the unlimited key's value %s", authz.EnvUnlimitedUsageKey, got, want)
	}
}

// TestTheUnlimitedKeysValueIsMadeAtDeployFromTheStacksID: nobody makes or
// types the value. It resolves, for any stack ID, to 20-128 letters and
// digits (what API Gateway takes), different for another stack.
func TestTheUnlimitedKeysValueIsMadeAtDeployFromTheStacksID(t *testing.T) {
	s := deployed(t)
	_, key := s.theOne(t, "AWS::ApiGateway::ApiKey")
	values := map[string]bool{}
	for _, stackID := range []string{
		"arn:aws:cloudformation:eu-west-1:123456789012:stack/TokenService-prod/0f0e4d70-b3c2-11ef-9f5b-0a1b2c3d4e5f",
		"arn:aws:cloudformation:eu-west-1:123456789012:stack/TokenService-prod/7a1c9e20-b3c2-11ef-8c3a-06f1e2d3c4b5",
	} {
		v, err := resolve(key.Properties["Value"], stackID)
		if err != nil {
			t.Fatalf("value %s: %v", jsonOf(key.Properties["Value"]), err)
		}
		if !regexp.MustCompile(`^[A-Za-z0-9]{20,128}$`).MatchString(v) {
			t.Errorf("value %q is not 20-128 letters and digits", v)
		}
		values[v] = true
	}
	if len(values) != 2 {
		t.Error("two stacks resolve to one value")
	}
}

// resolve evaluates the few intrinsic functions the key's value uses.
func resolve(v any, stackID string) (string, error) {
	list := func(v any) ([]string, error) {
		if s, ok := v.([]string); ok {
			return s, nil
		}
		m, ok := v.(map[string]any)
		if ok && m["Fn::Split"] != nil {
			args := m["Fn::Split"].([]any)
			src, err := resolve(args[1], stackID)
			return strings.Split(src, fmt.Sprint(args[0])), err
		}
		items, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("not a list: %v", v)
		}
		var out []string
		for _, it := range items {
			s, err := resolve(it, stackID)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case map[string]any:
		switch {
		case x["Ref"] == "AWS::StackId":
			return stackID, nil
		case x["Fn::Join"] != nil:
			args := x["Fn::Join"].([]any)
			parts, err := list(args[1])
			return strings.Join(parts, fmt.Sprint(args[0])), err
		case x["Fn::Select"] != nil:
			args := x["Fn::Select"].([]any)
			parts, err := list(args[1])
			if err != nil {
				return "", err
			}
			var i int
			fmt.Sscan(fmt.Sprint(args[0]), &i)
			return parts[i], nil
		}
	}
	return "", fmt.Errorf("cannot resolve %v", v)
}

// TestOnlyThePlanFunctionsReachTheControlPlane: the operator and the
// sweeper reconcile plans (read and write usage plans, API keys and the
// stage's association), manage reads quota use, and nothing else may
// touch API Gateway's control plane.
func TestOnlyThePlanFunctionsReachTheControlPlane(t *testing.T) {
	s := deployed(t)
	api := cdktest.LogicalID(s.stack.Stack, s.stack.API)
	write := []string{"apigateway:DELETE", "apigateway:GET", "apigateway:PATCH", "apigateway:POST"}
	want := map[string][]string{
		string(routes.Operator): write,
		sweeper:                 write,
		string(routes.Manage):   {"apigateway:GET"},
	}
	wantResources := []string{"/apikeys", "/apikeys/*", "/restapis/" + api + "/stages/" + DefaultConfig().Stage, "/usageplans", "/usageplans/*"}
	for name, fn := range s.stack.Functions {
		roleID := cdktest.LogicalID(s.stack.Stack, fn.Role())
		var actions, resources []string
		for _, policy := range s.ofType("AWS::IAM::Policy") {
			if !strings.Contains(fmt.Sprint(policy.Properties["Roles"]), roleID) {
				continue
			}
			for _, st := range statements(policy) {
				a := fmt.Sprint(st["Action"])
				if !strings.Contains(a, "apigateway:") {
					continue
				}
				actions = append(actions, strings.Fields(strings.Trim(a, "[]"))...)
				res, _ := st["Resource"].([]any)
				for _, r := range res {
					resources = append(resources, controlPlanePath(r))
				}
				if st["Effect"] != "Allow" {
					t.Errorf("%s: effect %v", name, st["Effect"])
				}
			}
		}
		slices.Sort(actions)
		slices.Sort(resources)
		if !slices.Equal(actions, want[name]) {
			t.Errorf("%s: API Gateway actions %v, want %v", name, actions, want[name])
		}
		if len(want[name]) > 0 && !slices.Equal(resources, wantResources) {
			t.Errorf("%s: API Gateway resources %v, want %v", name, resources, wantResources)
		}
		env := s.env(name)
		if _, has := want[name]; has {
			if got := jsonOf(env[apigwplans.EnvRestAPIID]); got != fmt.Sprintf(`{"Ref":%q}`, api) {
				t.Errorf("%s: %s = %s, want the API's ID", name, apigwplans.EnvRestAPIID, got)
			}
			if env[apigwplans.EnvStage] != DefaultConfig().Stage {
				t.Errorf("%s: %s = %v, want %s", name, apigwplans.EnvStage, env[apigwplans.EnvStage], DefaultConfig().Stage)
			}
		} else if env[apigwplans.EnvRestAPIID] != nil || env[apigwplans.EnvStage] != nil {
			t.Errorf("%s: has the plans engine's environment without its grants", name)
		}
	}
}

// controlPlanePath renders an API Gateway ARN of the template as its path,
// checking the partition and region are the stack's.
func controlPlanePath(arn any) string {
	join, _ := arn.(map[string]any)["Fn::Join"].([]any)
	if len(join) != 2 {
		return fmt.Sprint(arn)
	}
	var b strings.Builder
	for _, part := range join[1].([]any) {
		switch p := part.(type) {
		case string:
			b.WriteString(p)
		case map[string]any:
			fmt.Fprint(&b, p["Ref"])
		}
	}
	rest, ok := strings.CutPrefix(b.String(), "arn:AWS::Partition:apigateway:AWS::Region::")
	if !ok {
		return b.String()
	}
	return rest
}

// TestPlanLimitsAnswer429WithTheProductErrorBody: API Gateway's THROTTLED
// and QUOTA_EXCEEDED answers are the contract's 429 rate_limited and
// quota_exceeded.
func TestPlanLimitsAnswer429WithTheProductErrorBody(t *testing.T) {
	s := deployed(t)
	want := map[gatewayresp.Type]string{gatewayresp.Throttled: "rate_limited", gatewayresp.QuotaExceeded: "quota_exceeded"}
	found := 0
	for _, r := range s.ofType("AWS::ApiGateway::GatewayResponse") {
		code, ok := want[gatewayresp.Type(fmt.Sprint(r.Properties["ResponseType"]))]
		if !ok {
			continue
		}
		found++
		if r.Properties["StatusCode"] != "429" {
			t.Errorf("%v: status %v, want 429", r.Properties["ResponseType"], r.Properties["StatusCode"])
		}
		var body struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		templates, _ := r.Properties["ResponseTemplates"].(map[string]any)
		if err := json.Unmarshal([]byte(fmt.Sprint(templates["application/json"])), &body); err != nil || body.Error.Code != code || body.Error.Message == "" {
			t.Errorf("%v: body %v, want code %s and a message", r.Properties["ResponseType"], templates["application/json"], code)
		}
	}
	if found != len(want) {
		t.Errorf("%d of THROTTLED and QUOTA_EXCEEDED deployed, want both", found)
	}
}

// TestDeployersStagesReachThePlanFunctions: with planStages set, the
// engine is told the deployers' stages (every usage plan must limit them
// too) and may associate usage plans with exactly those stages.
func TestDeployersStagesReachThePlanFunctions(t *testing.T) {
	cfg := DefaultConfig()
	cfg.PlanStages = "deployer01:live"
	s, err := synthesise(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{string(routes.Operator), sweeper, string(routes.Manage)} {
		if got := s.env(name)[apigwplans.EnvExtraStages]; got != cfg.PlanStages {
			t.Errorf("%s: %s = %v, want %s", name, apigwplans.EnvExtraStages, got, cfg.PlanStages)
		}
		roleID := cdktest.LogicalID(s.stack.Stack, s.stack.Functions[name].Role())
		found := false
		for _, policy := range s.ofType("AWS::IAM::Policy") {
			if !strings.Contains(fmt.Sprint(policy.Properties["Roles"]), roleID) {
				continue
			}
			for _, st := range statements(policy) {
				res, _ := st["Resource"].([]any)
				for _, r := range res {
					found = found || controlPlanePath(r) == "/restapis/deployer01/stages/live"
				}
			}
		}
		if !found {
			t.Errorf("%s: may not reach the deployer's stage", name)
		}
	}
	if got := s.env(string(routes.Issue))[apigwplans.EnvExtraStages]; got != nil {
		t.Errorf("issue: %s = %v, want unset", apigwplans.EnvExtraStages, got)
	}
}

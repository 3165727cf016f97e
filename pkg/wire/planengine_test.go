package wire

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/acmedata/tokenservice/pkg/apigwplans"
	"github.com/acmedata/tokenservice/pkg/config"
	"github.com/acmedata/tokenservice/pkg/plans"
	"github.com/acmedata/tokenservice/pkg/routes"
	"github.com/acmedata/tokenservice/pkg/schema"
)

// twin stands in for the local stack's engine.
type twin struct{}

func (twin) PutPlan(context.Context, plans.Plan) error                       { return nil }
func (twin) DeletePlan(context.Context, string) error                        { return nil }
func (twin) PutKey(context.Context, plans.Key) error                         { return nil }
func (twin) DeleteKey(context.Context, string) error                         { return nil }
func (twin) QuotaUsage(context.Context, plans.Key, time.Time) (int64, error) { return 0, nil }

func TestAnInjectedPlanEngineServesEveryFunction(t *testing.T) {
	injected := twin{}
	d := Deps{}.WithPlanEngine(injected)
	got, err := d.PlanEngine(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got != injected {
		t.Errorf("PlanEngine = %T, want the injected engine", got)
	}
}

func TestWithoutAnInjectedEngineThePlanEngineIsAPIGatewaysFromEnv(t *testing.T) {
	t.Setenv("AWS_REGION", "eu-west-1")
	env := map[string]string{apigwplans.EnvRestAPIID: "a1b2c3d4e5", apigwplans.EnvStage: "prod"}
	d := Deps{Getenv: func(k string) string { return env[k] }}
	got, err := d.PlanEngine(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	e, ok := got.(*apigwplans.Engine)
	if !ok {
		t.Fatalf("PlanEngine = %T, want *apigwplans.Engine", got)
	}
	if name := e.PlanName("p1"); !strings.Contains(name, "a1b2c3d4e5") {
		t.Errorf("usage plan name %q does not name the REST API", name)
	}
}

func TestThePlanEngineRefusesAnIncompleteEnvironment(t *testing.T) {
	for _, env := range []map[string]string{
		{},
		{apigwplans.EnvRestAPIID: "a1b2c3d4e5"},
		{apigwplans.EnvStage: "prod"},
	} {
		d := Deps{Getenv: func(k string) string { return env[k] }}
		if _, err := d.PlanEngine(t.Context()); err == nil || !strings.Contains(err.Error(), apigwplans.EnvRestAPIID) {
			t.Errorf("env %v: err = %v, want one naming %s and %s", env, err, apigwplans.EnvRestAPIID, apigwplans.EnvStage)
		}
	}
}

// TestOnlyAFunctionDeployedWithThePlansEngineWarnsWithoutIt: issuing and
// cloning are deployed without the engine by design, so their cold start
// says nothing of it; the functions deployed with it (manage, operator)
// warn when it is missing, a misconfiguration.
func TestOnlyAFunctionDeployedWithThePlansEngineWarnsWithoutIt(t *testing.T) {
	env := map[string]string{schema.Core.EnvVar: "core", schema.Usage.EnvVar: "usage"}
	getenv := func(k string) string { return env[k] }
	cfg, err := config.FromEnv(getenv)
	if err != nil {
		t.Fatal(err)
	}
	client := dynamodb.New(dynamodb.Options{Region: "eu-west-1", Credentials: aws.AnonymousCredentials{}})
	for fn, wantWarning := range map[routes.Function]bool{
		routes.Issue: false, routes.Clone: false, routes.Manage: true, routes.Operator: true,
	} {
		var logs bytes.Buffer
		d := SharedDeps(cfg, getenv, slog.New(slog.NewTextHandler(&logs, nil)), client)
		if _, err := Proxies[fn](t.Context(), d); err != nil {
			t.Fatalf("%s: %v", fn, err)
		}
		if warned := strings.Contains(logs.String(), "no plans engine"); warned != wantWarning {
			t.Errorf("%s without the engine's environment: warned %v, want %v (logs: %s)", fn, warned, wantWarning, logs.String())
		}
	}
}

package wire

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/acmedata/tokenservice/pkg/apigwplans"
	"github.com/acmedata/tokenservice/pkg/plans"
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

package stack

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/acmedata/tokenservice/pkg/plans"
)

func TestConfigFromContextReadsCDKJSONAndCommandLineValues(t *testing.T) {
	tests := []struct {
		name    string
		context map[string]any
		check   func(Config) bool
	}{
		{"defaults without context", nil, func(c Config) bool { return reflect.DeepEqual(c, DefaultConfig()) && c.Retain }},
		// cdk.json gives JSON types, `-c key=value` gives strings.
		{"JSON number", map[string]any{CtxAuthorizerCacheTTLSeconds: 300.0, CtxAuthorizerIdentitySource: "method.request.header.Authorization"},
			func(c Config) bool { return c.AuthorizerCacheTTL == 5*time.Minute }},
		{"string number", map[string]any{CtxThrottleRateLimit: "25", CtxLogRetentionDays: "7"},
			func(c Config) bool { return c.ThrottleRateLimit == 25 && c.LogRetentionDays == 7 }},
		{"JSON bool", map[string]any{CtxDeletionProtection: false}, func(c Config) bool { return !c.DeletionProtection }},
		{"string bool", map[string]any{CtxDeletionProtection: "false"}, func(c Config) bool { return !c.DeletionProtection }},
		{"destroy", map[string]any{CtxRemovalPolicy: "destroy"}, func(c Config) bool { return !c.Retain }},
		{"stage and services", map[string]any{CtxStage: "dev", CtxServices: "tmy=TMY data"},
			func(c Config) bool { return c.Stage == "dev" && c.Services == "tmy=TMY data" }},
		{"deployers' plan stages", map[string]any{CtxPlanStages: "a1b2c3d4e5:live"},
			func(c Config) bool { return c.PlanStages == "a1b2c3d4e5:live" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ConfigFromContext(func(key string) any { return tt.context[key] })
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(c) {
				t.Errorf("ConfigFromContext(%v) = %+v", tt.context, c)
			}
		})
	}
}

func TestConfigRefusesValuesThatWouldDeployABrokenStack(t *testing.T) {
	tests := []struct {
		name    string
		context map[string]any
		want    string
	}{
		{"services not id=Name", map[string]any{CtxServices: "tmy"}, "SERVICES"},
		{"retention CloudWatch lacks", map[string]any{CtxLogRetentionDays: 10}, "retention"},
		{"zero throttle", map[string]any{CtxThrottleRateLimit: 0}, "throttle"},
		{"unknown removal policy", map[string]any{CtxRemovalPolicy: "keep"}, "removalPolicy"},
		{"not a number", map[string]any{CtxThrottleBurstLimit: "lots"}, "not a number"},
		{"not a bool", map[string]any{CtxDeletionProtection: "yes please"}, "true or false"},
		{"empty stage", map[string]any{CtxStage: ""}, "stage"},
		{"plan stage not api:stage", map[string]any{CtxPlanStages: "a1b2c3d4e5"}, "restApiId:stage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ConfigFromContext(func(key string) any { return tt.context[key] })
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one about %q", err, tt.want)
			}
		})
	}
}

// TestTheDefaultStageThrottleNeverCapsAPlan: the stage's throttle applies
// above every plan, so a default below the fastest plan the operators may
// define (plans.MaxRate, plans.MaxBurst) would hold a plan's token to the
// stage's rate instead of its own (the contract's 10,000 calls/s on one
// token).
func TestTheDefaultStageThrottleNeverCapsAPlan(t *testing.T) {
	c := DefaultConfig()
	if c.ThrottleRateLimit < plans.MaxRate || c.ThrottleBurstLimit < plans.MaxBurst {
		t.Fatalf("default stage throttle %v/s, burst %v: below the fastest plan (%v/s, burst %v)", c.ThrottleRateLimit, c.ThrottleBurstLimit, plans.MaxRate, plans.MaxBurst)
	}
}

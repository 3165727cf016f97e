package tokenauth_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/jsii-runtime-go"

	"github.com/acmedata/tokenservice/infra/internal/cdktest"
	"github.com/acmedata/tokenservice/infra/tokenauth"
	"github.com/acmedata/tokenservice/pkg/authz"
)

// TestADeployersAPIEnforcesPlansAsOurs: EnforcePlans and MethodOptions
// give a deployer's own API what the service's API has: usage keys from
// the authorizer only, key-required methods behind it, and the usage plan
// without limits on its stage holding the key the authorizer returns.
func TestADeployersAPIEnforcesPlansAsOurs(t *testing.T) {
	dir := t.TempDir()
	if err := cdktest.Placeholders(dir, tokenauth.FunctionName); err != nil {
		t.Fatal(err)
	}
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("DeployerApi"), nil)
	auth, err := tokenauth.New(stack, "TokenAuthorizer", tokenauth.Props{
		AssetDir:      dir,
		CoreTable:     awsdynamodb.Table_FromTableName(stack, jsii.String("Core"), jsii.String("tokenservice-core")),
		RouteServices: map[string]string{"GET /reports/{proxy+}": "tmy"},
	})
	if err != nil {
		t.Fatal(err)
	}
	api := awsapigateway.NewRestApi(stack, jsii.String("Reports"), nil)
	reports := api.Root().ResourceForPath(jsii.String("/reports/{proxy+}")).AddMethod(jsii.String("GET"),
		awsapigateway.NewMockIntegration(nil), auth.MethodOptions())
	open := api.Root().ResourceForPath(jsii.String("/status")).AddMethod(jsii.String("GET"), awsapigateway.NewMockIntegration(nil), nil)
	plans := auth.EnforcePlans(api)

	resources, err := cdktest.Resources(assertions.Template_FromStack(stack, nil))
	if err != nil {
		t.Fatal(err)
	}
	js := func(v any) string { raw, _ := json.Marshal(v); return string(raw) }
	if p := resources[cdktest.LogicalID(stack, api)].Properties; p["ApiKeySourceType"] != "AUTHORIZER" {
		t.Errorf("ApiKeySourceType %v, want AUTHORIZER", p["ApiKeySourceType"])
	}
	if p := resources[cdktest.LogicalID(stack, reports)].Properties; p["ApiKeyRequired"] != true || p["AuthorizationType"] != "CUSTOM" {
		t.Errorf("the authorized method: ApiKeyRequired %v, authorization %v; want true, CUSTOM", p["ApiKeyRequired"], p["AuthorizationType"])
	}
	if p := resources[cdktest.LogicalID(stack, open)].Properties; p["ApiKeyRequired"] == true {
		t.Error("a method without the authorizer requires a usage key")
	}
	plan := resources[cdktest.LogicalID(stack, plans.Unlimited)].Properties
	wantStages := fmt.Sprintf(`[{"ApiId":{"Ref":%q},"Stage":{"Ref":%q},"Throttle":{}}]`, cdktest.LogicalID(stack, api), cdktest.LogicalID(stack, api.DeploymentStage()))
	if got := js(plan["ApiStages"]); got != wantStages || plan["Throttle"] != nil || plan["Quota"] != nil {
		t.Errorf("unlimited plan: stages %s, throttle %v, quota %v; want %s and no limits", got, plan["Throttle"], plan["Quota"], wantStages)
	}
	key := resources[cdktest.LogicalID(stack, plans.UnlimitedKey)].Properties
	fn := resources[cdktest.LogicalID(stack, auth.Function)].Properties
	env, _ := fn["Environment"].(map[string]any)["Variables"].(map[string]any)
	if got, want := js(env[authz.EnvUnlimitedUsageKey]), js(key["Value"]); got != want || got == "null" {
		t.Errorf("authorizer's %s = %s, want the unlimited key's value %s", authz.EnvUnlimitedUsageKey, got, want)
	}
	links := cdktest.OfType(resources, "AWS::ApiGateway::UsagePlanKey")
	if len(links) != 1 {
		t.Fatalf("%d usage plan keys, want 1", len(links))
	}
	for _, l := range links {
		want := fmt.Sprintf(`{"KeyId":{"Ref":%q},"KeyType":"API_KEY","UsagePlanId":{"Ref":%q}}`, cdktest.LogicalID(stack, plans.UnlimitedKey), cdktest.LogicalID(stack, plans.Unlimited))
		if got := js(l.Properties); got != want {
			t.Errorf("usage plan key %s, want %s", got, want)
		}
	}
}

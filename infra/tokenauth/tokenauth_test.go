package tokenauth_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/jsii-runtime-go"

	"github.com/acmedata/tokenservice/infra/internal/cdktest"
	"github.com/acmedata/tokenservice/infra/tokenauth"
	"github.com/acmedata/tokenservice/pkg/authz"
)

// deployerAPI synthesises a deployer's own API with one GET
// /reports/{proxy+} route behind a TokenAuthorizer made from p.
func deployerAPI(t *testing.T, p tokenauth.Props) map[string]cdktest.Resource {
	t.Helper()
	p.AssetDir = t.TempDir()
	if err := cdktest.Placeholders(p.AssetDir, tokenauth.FunctionName); err != nil {
		t.Fatal(err)
	}
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("DeployerApi"), nil)
	// A deployer in another app imports the service's core table by name.
	p.CoreTable = awsdynamodb.Table_FromTableName(stack, jsii.String("Core"), jsii.String("tokenservice-core"))
	auth, err := tokenauth.New(stack, "TokenAuthorizer", p)
	if err != nil {
		t.Fatal(err)
	}
	api := awsapigateway.NewRestApi(stack, jsii.String("Reports"), nil)
	api.Root().ResourceForPath(jsii.String("/reports/{proxy+}")).AddMethod(jsii.String("GET"),
		awsapigateway.NewMockIntegration(nil), &awsapigateway.MethodOptions{Authorizer: auth.Authorizer})

	resources, err := cdktest.Resources(assertions.Template_FromStack(stack, nil))
	if err != nil {
		t.Fatal(err)
	}
	return resources
}

func only(t *testing.T, resources map[string]cdktest.Resource, typ string) cdktest.Resource {
	t.Helper()
	found := cdktest.OfType(resources, typ)
	if len(found) != 1 {
		t.Fatalf("%d resources of type %s, want 1", len(found), typ)
	}
	for _, r := range found {
		return r
	}
	panic("unreachable")
}

func TestRouteServicesReachTheAuthorizerFunction(t *testing.T) {
	routes := map[string]string{"GET /reports/{proxy+}": "tmy", "POST /series": "timeseries"}
	resources := deployerAPI(t, tokenauth.Props{RouteServices: routes})

	fn := only(t, resources, "AWS::Lambda::Function")
	env, _ := fn.Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
	var got map[string]string
	if err := json.Unmarshal([]byte(fmt.Sprint(env[authz.EnvRouteServices])), &got); err != nil {
		t.Fatalf("%s = %v: %v", authz.EnvRouteServices, env[authz.EnvRouteServices], err)
	}
	if fmt.Sprint(got) != fmt.Sprint(routes) {
		t.Errorf("%s = %v, want %v", authz.EnvRouteServices, got, routes)
	}
	if env["CORE_TABLE"] != "tokenservice-core" {
		t.Errorf("CORE_TABLE = %v, want the imported table's name", env["CORE_TABLE"])
	}
	if p := fn.Properties; p["Runtime"] != "provided.al2023" || fmt.Sprint(p["Architectures"]) != "[arm64]" {
		t.Errorf("runtime %v on %v, want provided.al2023 on [arm64]", p["Runtime"], p["Architectures"])
	}
}

func TestAuthorizerOnlyReadsTheCoreTable(t *testing.T) {
	resources := deployerAPI(t, tokenauth.Props{})
	for id, policy := range cdktest.OfType(resources, "AWS::IAM::Policy") {
		doc := fmt.Sprint(policy.Properties["PolicyDocument"])
		for _, write := range []string{"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "dynamodb:*"} {
			if strings.Contains(doc, write) {
				t.Errorf("%s allows %s", id, write)
			}
		}
		if !strings.Contains(doc, "dynamodb:GetItem") || !strings.Contains(doc, "table/tokenservice-core") {
			t.Errorf("%s does not let the authorizer read the core table: %s", id, doc)
		}
	}
}

func TestCacheIsOffUnlessTheDeployerTurnsItOn(t *testing.T) {
	tests := []struct {
		name           string
		props          tokenauth.Props
		ttl            float64
		identitySource any
	}{
		// No identity source: a token may come in the query, path or header.
		{"default", tokenauth.Props{}, 0, nil},
		{"cached on the header", tokenauth.Props{
			CacheTTL:        5 * time.Minute,
			IdentitySources: []string{"method.request.header.Authorization"},
		}, 300, "method.request.header.Authorization"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := only(t, deployerAPI(t, tt.props), "AWS::ApiGateway::Authorizer").Properties
			if p["Type"] != "REQUEST" || p["AuthorizerResultTtlInSeconds"] != tt.ttl || p["IdentitySource"] != tt.identitySource {
				t.Errorf("type %v, TTL %v, identity source %v; want REQUEST, %v, %v",
					p["Type"], p["AuthorizerResultTtlInSeconds"], p["IdentitySource"], tt.ttl, tt.identitySource)
			}
		})
	}
}

func TestPropsRefuseWhatAPIGatewayWouldReject(t *testing.T) {
	valid := func() tokenauth.Props {
		return tokenauth.Props{AssetDir: "bin", CoreTable: awsdynamodb.Table_FromTableName(
			awscdk.NewStack(awscdk.NewApp(nil), jsii.String("S"), nil), jsii.String("Core"), jsii.String("core"))}
	}
	tests := []struct {
		name   string
		change func(*tokenauth.Props)
		want   string // "" for valid
	}{
		{"defaults", func(*tokenauth.Props) {}, ""},
		{"cache without identity sources", func(p *tokenauth.Props) { p.CacheTTL = time.Minute }, "IdentitySources"},
		{"cache over an hour", func(p *tokenauth.Props) {
			p.CacheTTL, p.IdentitySources = 2*time.Hour, []string{"method.request.header.Authorization"}
		}, "CacheTTL"},
		{"fractional cache", func(p *tokenauth.Props) {
			p.CacheTTL, p.IdentitySources = 1500*time.Millisecond, []string{"method.request.header.Authorization"}
		}, "CacheTTL"},
		{"route without a method", func(p *tokenauth.Props) { p.RouteServices = map[string]string{"/reports": "tmy"} }, "METHOD"},
		{"route to no service", func(p *tokenauth.Props) { p.RouteServices = map[string]string{"GET /reports": ""} }, "service"},
		{"no table", func(p *tokenauth.Props) { p.CoreTable = nil }, "CoreTable"},
		{"route to a service outside the default catalogue", func(p *tokenauth.Props) {
			p.RouteServices = map[string]string{"GET /reports": "weather"}
		}, "catalogue"},
		{"route to a service of the deployer's catalogue", func(p *tokenauth.Props) {
			p.RouteServices, p.Environment = map[string]string{"GET /reports": "weather"}, map[string]string{"SERVICES": "weather=Weather"}
		}, ""},
		{"a bad catalogue", func(p *tokenauth.Props) { p.Environment = map[string]string{"SERVICES": "Weather"} }, "SERVICES"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := valid()
			tt.change(&p)
			err := p.Validate()
			if (err == nil) != (tt.want == "") || err != nil && !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate() = %v, want an error about %q", err, tt.want)
			}
		})
	}
}

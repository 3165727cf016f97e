package stack

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/jsii-runtime-go"
	"github.com/aws/jsii-runtime-go/runtime"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/acmedata/tokenservice/infra/internal/cdktest"
	"github.com/acmedata/tokenservice/infra/tokenauth"
	"github.com/acmedata/tokenservice/pkg/config"
	"github.com/acmedata/tokenservice/pkg/gatewayresp"
	"github.com/acmedata/tokenservice/pkg/ghscan"
	"github.com/acmedata/tokenservice/pkg/routes"
	"github.com/acmedata/tokenservice/pkg/schema"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// synthesis is one synthesised stack, checked by cdk-nag.
type synthesis struct {
	stack     *TokenService
	template  assertions.Template
	resources map[string]cdktest.Resource
}

// synthesise builds the stack from cfg with placeholder binaries.
func synthesise(cfg Config) (*synthesis, error) {
	dir, err := os.MkdirTemp("", "tokenservice-assets-")
	if err != nil {
		return nil, err
	}
	// Synthesis copies the assets into the cloud assembly.
	defer os.RemoveAll(dir)
	names := []string{tokenauth.FunctionName}
	for _, f := range functions {
		names = append(names, f.name)
	}
	if err := cdktest.Placeholders(dir, names...); err != nil {
		return nil, err
	}
	cfg.AssetDir = dir

	app := awscdk.NewApp(nil)
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(nil), nil)
	s, err := New(app, "TokenService-test", Props{Config: cfg})
	if err != nil {
		return nil, err
	}
	template := assertions.Template_FromStack(s.Stack, nil)
	resources, err := cdktest.Resources(template)
	if err != nil {
		return nil, err
	}
	return &synthesis{stack: s, template: template, resources: resources}, nil
}

// defaultStack is synthesised once per test binary (a synthesis takes a
// few seconds of Node.js) and shared by every test that only reads it.
var defaultStack = sync.OnceValues(func() (*synthesis, error) { return synthesise(DefaultConfig()) })

func deployed(t *testing.T) *synthesis {
	t.Helper()
	s, err := defaultStack()
	if err != nil {
		t.Fatalf("synthesise: %v", err)
	}
	return s
}

func (s *synthesis) ofType(typ string) map[string]cdktest.Resource {
	return cdktest.OfType(s.resources, typ)
}

func TestEveryFunctionRunsItsGoBootstrapOnGraviton(t *testing.T) {
	s := deployed(t)
	fns := s.ofType("AWS::Lambda::Function")
	if want := len(functions) + 1; len(fns) != want {
		t.Errorf("%d functions deployed, want %d (every directory under functions/)", len(fns), want)
	}
	for name, fn := range s.stack.Functions {
		p := s.resources[cdktest.LogicalID(s.stack.Stack, fn)].Properties
		if p["Runtime"] != "provided.al2023" || p["Handler"] != "bootstrap" ||
			fmt.Sprint(p["Architectures"]) != "[arm64]" {
			t.Errorf("%s: runtime %v, handler %v, architectures %v; want provided.al2023, bootstrap, [arm64]",
				name, p["Runtime"], p["Handler"], p["Architectures"])
		}
	}
}

func TestEveryRouteIsServedByADeployedFunction(t *testing.T) {
	s := deployed(t)
	for _, r := range routes.All {
		if _, ok := s.stack.Functions[string(r.Function)]; !ok {
			t.Errorf("%s %s: function %q is not deployed", r.Method, r.Path, r.Function)
		}
	}
}

func TestTablesAreBuiltFromTheSharedSchema(t *testing.T) {
	s := deployed(t)
	for _, table := range schema.All {
		t.Run(table.ID, func(t *testing.T) {
			p := s.resources[cdktest.LogicalID(s.stack.Stack, s.stack.Tables[table.ID])].Properties
			keys := fmt.Sprint(p["KeySchema"])
			want := fmt.Sprintf("[map[AttributeName:%s KeyType:HASH] map[AttributeName:%s KeyType:RANGE]]", table.PartitionKey, table.SortKey)
			if keys != want {
				t.Errorf("key schema %s, want %s", keys, want)
			}
			if p["BillingMode"] != "PAY_PER_REQUEST" {
				t.Errorf("billing mode %v, want on-demand", p["BillingMode"])
			}
			if fmt.Sprint(p["PointInTimeRecoverySpecification"]) != "map[PointInTimeRecoveryEnabled:true]" {
				t.Errorf("PITR %v, want enabled", p["PointInTimeRecoverySpecification"])
			}
			if p["DeletionProtectionEnabled"] != true {
				t.Errorf("deletion protection %v, want on by default", p["DeletionProtectionEnabled"])
			}
			var ttl any
			if table.TTLAttribute != "" {
				ttl = map[string]any{"AttributeName": table.TTLAttribute, "Enabled": true}
			}
			if fmt.Sprint(p["TimeToLiveSpecification"]) != fmt.Sprint(ttl) {
				t.Errorf("TTL %v, want %v", p["TimeToLiveSpecification"], ttl)
			}
			if got, want := indexNames(p["LocalSecondaryIndexes"]), schemaIndexNames(table.LocalIndexes); !slices.Equal(got, want) {
				t.Errorf("local indexes %v, want %v", got, want)
			}
			if got, want := indexNames(p["GlobalSecondaryIndexes"]), schemaIndexNames(table.GlobalIndexes); !slices.Equal(got, want) {
				t.Errorf("global indexes %v, want %v", got, want)
			}
		})
	}
}

func indexNames(v any) []string {
	var names []string
	list, _ := v.([]any)
	for _, ix := range list {
		names = append(names, fmt.Sprint(ix.(map[string]any)["IndexName"]))
	}
	slices.Sort(names)
	return names
}

func schemaIndexNames(ixs []schema.Index) []string {
	var names []string
	for _, ix := range ixs {
		names = append(names, ix.Name)
	}
	slices.Sort(names)
	return names
}

// tableAccess summarises one role's DynamoDB permissions per table
// logical ID: "read" or "readwrite".
func tableAccess(t *testing.T, s *synthesis, roleID string) map[string]string {
	t.Helper()
	access := map[string]string{}
	for _, policy := range s.ofType("AWS::IAM::Policy") {
		if !strings.Contains(fmt.Sprint(policy.Properties["Roles"]), roleID) {
			continue
		}
		for _, st := range statements(policy) {
			actions := fmt.Sprint(st["Action"])
			if !strings.Contains(actions, "dynamodb:") {
				continue
			}
			level := "read"
			if strings.Contains(actions, "dynamodb:PutItem") {
				level = "readwrite"
			}
			for _, table := range schema.All {
				if strings.Contains(fmt.Sprint(st["Resource"]), cdktest.LogicalID(s.stack.Stack, s.stack.Tables[table.ID])) {
					access[table.ID] = level
				}
			}
		}
	}
	return access
}

func statements(policy cdktest.Resource) []map[string]any {
	doc, _ := policy.Properties["PolicyDocument"].(map[string]any)
	list, _ := doc["Statement"].([]any)
	var out []map[string]any
	for _, st := range list {
		out = append(out, st.(map[string]any))
	}
	return out
}

func TestFunctionsReachOnlyTheTablesTheyNeed(t *testing.T) {
	s := deployed(t)
	core, usage := schema.Core.ID, schema.Usage.ID
	tests := []struct {
		function string
		want     map[string]string
	}{
		{string(routes.Issue), map[string]string{core: "readwrite"}},
		{string(routes.Clone), map[string]string{core: "readwrite"}},
		{string(routes.Manage), map[string]string{core: "readwrite"}},
		{string(routes.Operator), map[string]string{core: "readwrite"}},
		{string(routes.Health), map[string]string{core: "read"}},
		{string(routes.Usage), map[string]string{usage: "read"}},
		{string(routes.Data), map[string]string{}},
		{string(routes.Console), map[string]string{}},
		{tokenauth.FunctionName, map[string]string{core: "read"}},
		{keyAuthorizer, map[string]string{core: "read"}},
		{recorder, map[string]string{core: "readwrite", usage: "readwrite"}},
	}
	for _, tt := range tests {
		t.Run(tt.function, func(t *testing.T) {
			fn := s.stack.Functions[tt.function]
			got := tableAccess(t, s, cdktest.LogicalID(s.stack.Stack, fn.Role()))
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("table access %v, want %v", got, tt.want)
			}
			env := s.resources[cdktest.LogicalID(s.stack.Stack, fn)].Properties["Environment"]
			for _, table := range schema.All {
				_, granted := tt.want[table.ID]
				if has := strings.Contains(fmt.Sprint(env), table.EnvVar+":"); has != granted {
					t.Errorf("%s in environment: %v, want %v", table.EnvVar, has, granted)
				}
			}
		})
	}
}

func TestNoPolicyGrantsWildcardActionsOrResources(t *testing.T) {
	s := deployed(t)
	for id, policy := range s.ofType("AWS::IAM::Policy") {
		for _, st := range statements(policy) {
			for _, action := range strings.Fields(strings.Trim(fmt.Sprint(st["Action"]), "[]")) {
				if action == "*" || strings.HasSuffix(action, ":*") {
					t.Errorf("%s allows %s", id, action)
				}
			}
			if r := fmt.Sprint(st["Resource"]); r == "*" || strings.Contains(r, "[*") || strings.Contains(r, " *") {
				t.Errorf("%s allows %v on Resource *", id, st["Action"])
			}
		}
	}
	for id, role := range s.ofType("AWS::IAM::Role") {
		if arns := fmt.Sprint(role.Properties["ManagedPolicyArns"]); strings.Contains(arns, "FullAccess") {
			t.Errorf("%s has a full-access managed policy: %s", id, arns)
		}
	}
}

func TestFunctionsLogOnlyToTheirOwnLogGroup(t *testing.T) {
	s := deployed(t)
	for name, fn := range s.stack.Functions {
		role := s.resources[cdktest.LogicalID(s.stack.Stack, fn.Role())]
		if arns := role.Properties["ManagedPolicyArns"]; arns != nil {
			t.Errorf("%s: role has managed policies %v", name, arns)
		}
		group := cdktest.LogicalID(s.stack.Stack, fn.LogGroup())
		roleID := cdktest.LogicalID(s.stack.Stack, fn.Role())
		canLog := false
		for _, policy := range s.ofType("AWS::IAM::Policy") {
			if !strings.Contains(fmt.Sprint(policy.Properties["Roles"]), roleID) {
				continue
			}
			for _, st := range statements(policy) {
				if strings.Contains(fmt.Sprint(st["Action"]), "logs:") && fmt.Sprint(st["Resource"]) != fmt.Sprintf("map[Fn::GetAtt:[%s Arn]]", group) {
					t.Errorf("%s: may write logs to %v, want only its log group %s", name, st["Resource"], group)
				}
				canLog = canLog || strings.Contains(fmt.Sprint(st["Action"]), "logs:PutLogEvents")
			}
		}
		if !canLog {
			t.Errorf("%s: cannot write to its log group", name)
		}
	}
}

func TestRoutesUseTheirAuthorizers(t *testing.T) {
	s := deployed(t)
	tokenAuth := cdktest.LogicalID(s.stack.Stack, s.stack.TokenAuthorizer.Authorizer)
	keyAuth := cdktest.LogicalID(s.stack.Stack, s.stack.KeyAuthorizer)
	want := map[routes.Auth]struct{ authType, authorizer string }{
		routes.Public:     {"NONE", ""},
		routes.TokenAuth:  {"CUSTOM", tokenAuth},
		routes.APIKeyAuth: {"CUSTOM", keyAuth},
		routes.IAMAuth:    {"AWS_IAM", ""},
	}
	for _, r := range routes.All {
		p := s.resources[cdktest.LogicalID(s.stack.Stack, s.stack.Methods[r])].Properties
		w := want[r.Auth]
		gotAuthorizer := ""
		if ref, ok := p["AuthorizerId"].(map[string]any); ok {
			gotAuthorizer = fmt.Sprint(ref["Ref"])
		}
		if p["AuthorizationType"] != w.authType || gotAuthorizer != w.authorizer {
			t.Errorf("%s %s: authorization %v by %q, want %s by %q", r.Method, r.Path, p["AuthorizationType"], gotAuthorizer, w.authType, w.authorizer)
		}
	}
}

// The console is static files: public GET and HEAD methods, all integrated
// with the console function, which reads no table (see above) and costs
// nothing at rest; API Gateway compresses its files.
func TestTheConsoleIsServedWithoutAnAuthorizerByItsOwnFunction(t *testing.T) {
	s := deployed(t)
	fn := cdktest.LogicalID(s.stack.Stack, s.stack.Functions[string(routes.Console)])
	for _, r := range []routes.Route{routes.ConsolePage, routes.ConsoleAsset, routes.ConsolePageHead, routes.ConsoleAssetHead} {
		m, ok := s.stack.Methods[r]
		if !ok {
			t.Fatalf("%s is not deployed", r)
		}
		p := s.resources[cdktest.LogicalID(s.stack.Stack, m)].Properties
		if p["HttpMethod"] != r.Method || p["AuthorizationType"] != "NONE" {
			t.Errorf("%s: %v with authorization %v, want %s with NONE", r, p["HttpMethod"], p["AuthorizationType"], r.Method)
		}
		if uri := fmt.Sprint(p["Integration"]); !strings.Contains(uri, fn) || !strings.Contains(uri, "AWS_PROXY") {
			t.Errorf("%s: integration %s, want a proxy integration of %s", r, uri, fn)
		}
	}
}

// The deployed API serves its own OpenAPI document, as the local stack
// does: GET /openapi.json at the API's root, public, answered by the
// console function (static content, no table). The resource is read from
// the template, not from Methods, so the path itself is checked.
func TestTheOpenAPIDocumentIsServedWithoutAnAuthorizerByTheConsoleFunction(t *testing.T) {
	s := deployed(t)
	api := cdktest.LogicalID(s.stack.Stack, s.stack.API)
	fn := cdktest.LogicalID(s.stack.Stack, s.stack.Functions[string(routes.Console)])
	var resource string
	for id, r := range s.ofType("AWS::ApiGateway::Resource") {
		parent := fmt.Sprint(r.Properties["ParentId"])
		if r.Properties["PathPart"] == "openapi.json" && strings.Contains(parent, api) && strings.Contains(parent, "RootResourceId") {
			resource = id
		}
	}
	if resource == "" {
		t.Fatal("no resource /openapi.json at the API's root")
	}
	var methods []string
	for _, m := range s.ofType("AWS::ApiGateway::Method") {
		p := m.Properties
		if ref, _ := p["ResourceId"].(map[string]any); ref["Ref"] != resource {
			continue
		}
		methods = append(methods, fmt.Sprint(p["HttpMethod"]))
		if p["AuthorizationType"] != "NONE" || p["AuthorizerId"] != nil {
			t.Errorf("%v /openapi.json: authorization %v by %v, want NONE without an authorizer", p["HttpMethod"], p["AuthorizationType"], p["AuthorizerId"])
		}
		if uri := fmt.Sprint(p["Integration"]); !strings.Contains(uri, fn) || !strings.Contains(uri, "AWS_PROXY") {
			t.Errorf("%v /openapi.json: integration %s, want a proxy integration of %s", p["HttpMethod"], uri, fn)
		}
	}
	if !slices.Contains(methods, "GET") {
		t.Errorf("/openapi.json has methods %v, want GET", methods)
	}
}

func TestTheAPICompressesAnswersAsTheLocalGatewayDoes(t *testing.T) {
	s := deployed(t)
	p := s.resources[cdktest.LogicalID(s.stack.Stack, s.stack.API)].Properties
	if got := fmt.Sprint(p["MinimumCompressionSize"]); got != fmt.Sprint(routes.MinimumCompressionSize) {
		t.Errorf("MinimumCompressionSize %s, want %d (routes.MinimumCompressionSize)", got, routes.MinimumCompressionSize)
	}
}

func TestAuthorizersAreRequestTypeWithTheCacheOff(t *testing.T) {
	s := deployed(t)
	tests := []struct {
		name           string
		id             string
		identitySource any
	}{
		// Three token placements: no identity source can be required.
		{"token", cdktest.LogicalID(s.stack.Stack, s.stack.TokenAuthorizer.Authorizer), nil},
		{"api key", cdktest.LogicalID(s.stack.Stack, s.stack.KeyAuthorizer), "method.request.header.Authorization"},
	}
	for _, tt := range tests {
		p := s.resources[tt.id].Properties
		if p["Type"] != "REQUEST" || p["AuthorizerResultTtlInSeconds"] != float64(0) || p["IdentitySource"] != tt.identitySource {
			t.Errorf("%s authorizer: type %v, cache TTL %v, identity source %v; want REQUEST, 0, %v",
				tt.name, p["Type"], p["AuthorizerResultTtlInSeconds"], p["IdentitySource"], tt.identitySource)
		}
	}
}

func TestAccessLogNeverCarriesTheRequestPathAndFeedsTheRecorder(t *testing.T) {
	s := deployed(t)
	for id, stage := range s.ofType("AWS::ApiGateway::Stage") {
		setting, _ := stage.Properties["AccessLogSetting"].(map[string]any)
		format := fmt.Sprint(setting["Format"])
		if strings.Contains(format, "$context.path") {
			t.Errorf("%s: access log format names $context.path, which may carry a token", id)
		}
		var fields map[string]string
		if err := json.Unmarshal([]byte(format), &fields); err != nil {
			t.Errorf("%s: access log format is not a JSON object of strings: %v", id, err)
		}
		for _, want := range []string{"requestId", "requestTimeEpoch", "httpMethod", "resourcePath", "status", "responseLatency", "sourceIp", "tokenId", "accountId"} {
			if _, ok := fields[want]; !ok {
				t.Errorf("%s: access log lacks %s", id, want)
			}
		}
		if !strings.Contains(fmt.Sprint(setting["DestinationArn"]), cdktest.LogicalID(s.stack.Stack, s.stack.AccessLogs)) {
			t.Errorf("%s: access log goes to %v, not the access-log group", id, setting["DestinationArn"])
		}
	}
	// Every access-log line, and the token authorizer's 401 decision
	// lines (API Gateway logs no context for those), feed the recorder.
	recorderID := cdktest.LogicalID(s.stack.Stack, s.stack.Functions[recorder])
	want := map[string]string{
		cdktest.LogicalID(s.stack.Stack, s.stack.AccessLogs):                                   "",
		cdktest.LogicalID(s.stack.Stack, s.stack.Functions[tokenauth.FunctionName].LogGroup()): `{ $.decision = "unauthorized" }`,
	}
	got := map[string]string{}
	for id, f := range s.ofType("AWS::Logs::SubscriptionFilter") {
		if !strings.Contains(fmt.Sprint(f.Properties["DestinationArn"]), recorderID) {
			t.Errorf("%s feeds %v, not the recorder", id, f.Properties["DestinationArn"])
		}
		group, _ := f.Properties["LogGroupName"].(map[string]any)
		got[fmt.Sprint(group["Ref"])] = fmt.Sprint(f.Properties["FilterPattern"])
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("subscriptions (log group: pattern) %v, want %v", got, want)
	}
}

// TestGatewayResponsesAreTheSharedTable: the deployed gateway responses
// are exactly pkg/gatewayresp's, which the local gateway answers with.
func TestGatewayResponsesAreTheSharedTable(t *testing.T) {
	s := deployed(t)
	byType := map[gatewayresp.Type]cdktest.Resource{}
	for _, r := range s.ofType("AWS::ApiGateway::GatewayResponse") {
		byType[gatewayresp.Type(fmt.Sprint(r.Properties["ResponseType"]))] = r
	}
	if len(byType) != len(gatewayresp.All) {
		t.Errorf("%d gateway responses, want %d", len(byType), len(gatewayresp.All))
	}
	for _, want := range gatewayresp.All {
		got, ok := byType[want.Type]
		if !ok {
			t.Errorf("%s: not deployed", want.Type)
			continue
		}
		status, hasStatus := got.Properties["StatusCode"]
		switch {
		case want.Status == 0 && hasStatus:
			t.Errorf("%s: status %v, want API Gateway's own", want.Type, status)
		case want.Status != 0 && fmt.Sprint(status) != strconv.Itoa(want.Status):
			t.Errorf("%s: status %v, want %d", want.Type, status, want.Status)
		}
		templates, _ := got.Properties["ResponseTemplates"].(map[string]any)
		if body := fmt.Sprint(templates["application/json"]); body != want.Template() || len(templates) != 1 {
			t.Errorf("%s: templates %v, want only application/json %s", want.Type, templates, want.Template())
		}
	}
}

// TestGatewayResponseTypesAreAPIGateways: every type in the table is one
// the CDK knows by that name. ResponseType_Of takes any string, so a
// misspelt type would otherwise synthesise and fail only at deploy.
func TestGatewayResponseTypesAreAPIGateways(t *testing.T) {
	awsapigateway.ResponseType_DEFAULT_4XX() // loads the jsii module
	for _, r := range gatewayresp.All {
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("%s is not a CDK response type: %v", r.Type, p)
				}
			}()
			var rt awsapigateway.ResponseType
			runtime.StaticGet("aws-cdk-lib.aws_apigateway.ResponseType", string(r.Type), &rt)
			if got := *rt.ResponseType(); got != string(r.Type) {
				t.Errorf("%s is the CDK's %s", r.Type, got)
			}
		}()
	}
}

// authorizerValue is a reference to the authorizer's context in a template.
var authorizerValue = regexp.MustCompile(`\$context\.authorizer\.[A-Za-z]+`)

func TestGatewayErrorsAnswerTheProductErrorBody(t *testing.T) {
	s := deployed(t)
	snake := regexp.MustCompile(`^[a-z]+(_[a-z]+)*$`)
	byType := map[string]cdktest.Resource{}
	for _, r := range s.ofType("AWS::ApiGateway::GatewayResponse") {
		byType[fmt.Sprint(r.Properties["ResponseType"])] = r
		templates, _ := r.Properties["ResponseTemplates"].(map[string]any)
		var body struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		// API Gateway substitutes the authorizer's context into a
		// template as it is; our authorizers' codes are snake_case.
		template := authorizerValue.ReplaceAllString(fmt.Sprint(templates["application/json"]), "from_the_authorizer")
		if err := json.Unmarshal([]byte(template), &body); err != nil ||
			!snake.MatchString(body.Error.Code) || body.Error.Message == "" {
			t.Errorf("%v: body %v is not {\"error\":{\"code\":snake_case,\"message\":...}}", r.Properties["ResponseType"], templates["application/json"])
		}
	}
	// The product's choices, stated independently of the table.
	for typ, status := range map[string]string{
		"UNAUTHORIZED":                   "401",
		"ACCESS_DENIED":                  "403",
		"MISSING_AUTHENTICATION_TOKEN":   "404", // unknown routes on a REST API
		"REQUEST_TOO_LARGE":              "413",
		"THROTTLED":                      "429",
		"AUTHORIZER_FAILURE":             "503",
		"AUTHORIZER_CONFIGURATION_ERROR": "503",
		"DEFAULT_4XX":                    "<nil>",
		"DEFAULT_5XX":                    "<nil>",
	} {
		if got := fmt.Sprint(byType[typ].Properties["StatusCode"]); got != status {
			t.Errorf("%s answers %s, want %s", typ, got, status)
		}
	}
}

func TestStageIsThrottledAndEveryLogGroupExpires(t *testing.T) {
	s := deployed(t)
	cfg := DefaultConfig()
	for id, stage := range s.ofType("AWS::ApiGateway::Stage") {
		settings := fmt.Sprint(stage.Properties["MethodSettings"])
		for _, want := range []string{
			fmt.Sprintf("ThrottlingRateLimit:%v", cfg.ThrottleRateLimit),
			fmt.Sprintf("ThrottlingBurstLimit:%v", cfg.ThrottleBurstLimit),
			"LoggingLevel:ERROR", "DataTraceEnabled:false",
		} {
			if !strings.Contains(settings, want) {
				t.Errorf("%s: method settings %s lack %s", id, settings, want)
			}
		}
	}
	for id, group := range s.ofType("AWS::Logs::LogGroup") {
		if group.Properties["RetentionInDays"] != float64(cfg.LogRetentionDays) {
			t.Errorf("%s: retention %v, want %d days", id, group.Properties["RetentionInDays"], cfg.LogRetentionDays)
		}
	}
}

func TestAlarmsWatchAuthorizersServerErrorsAndTheRecorder(t *testing.T) {
	s := deployed(t)
	var metrics []string
	for _, alarm := range s.ofType("AWS::CloudWatch::Alarm") {
		metrics = append(metrics, fmt.Sprint(alarm.Properties["MetricName"], " ", alarm.Properties["Dimensions"]))
	}
	watched := func(what, metric, target string) {
		for _, m := range metrics {
			if strings.HasPrefix(m, metric+" ") && strings.Contains(m, target) {
				return
			}
		}
		t.Errorf("no alarm on %s (%s of %s) among %v", what, metric, target, metrics)
	}
	watched("token authorizer errors", "Errors", cdktest.LogicalID(s.stack.Stack, s.stack.Functions[tokenauth.FunctionName]))
	watched("API-key authorizer errors", "Errors", cdktest.LogicalID(s.stack.Stack, s.stack.Functions[keyAuthorizer]))
	watched("recorder failures", "Errors", cdktest.LogicalID(s.stack.Stack, s.stack.Functions[recorder]))
	watched("the 5xx rate", "5XXError", "Stage")
}

func TestStackPassesAwsSolutionsChecks(t *testing.T) {
	s := deployed(t)
	annotations := assertions.Annotations_FromStack(s.stack.Stack)
	for _, finding := range append(
		*annotations.FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))),
		*annotations.FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*")))...,
	) {
		t.Errorf("%s: %v", *finding.Id, finding.Entry.Data)
	}
}

func TestRemovalPolicyAndDeletionProtectionFollowTheConfiguration(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Retain, cfg.DeletionProtection = false, false
	s, err := synthesise(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for id, table := range s.ofType("AWS::DynamoDB::Table") {
		if table.DeletionPolicy != "Delete" || table.Properties["DeletionProtectionEnabled"] != false {
			t.Errorf("%s: deletion policy %q, protection %v; want Delete, false", id, table.DeletionPolicy, table.Properties["DeletionProtectionEnabled"])
		}
	}
	for id, table := range deployed(t).ofType("AWS::DynamoDB::Table") {
		if table.DeletionPolicy != "Retain" {
			t.Errorf("%s: deletion policy %q by default, want Retain", id, table.DeletionPolicy)
		}
	}
}

func TestTheTokenAuthorizerKeepsAnswersForTheRevocationDelay(t *testing.T) {
	s := deployed(t)
	p := s.resources[cdktest.LogicalID(s.stack.Stack, s.stack.TokenAuthorizer.Function)].Properties
	env, _ := p["Environment"].(map[string]any)
	vars, _ := env["Variables"].(map[string]any)
	if got := vars[config.EnvRevocationDelay]; got != tokens.DefaultRevocationDelay.String() {
		t.Errorf("authorizer %s = %v, want the default %v", config.EnvRevocationDelay, got, tokens.DefaultRevocationDelay)
	}
	cfg := DefaultConfig()
	cfg.RevocationDelay = 61 * time.Second
	if err := cfg.Validate(); err == nil {
		t.Error("a revocation delay over 60 s validated")
	}
}

func TestDeletedUsersAreSweptOnASchedule(t *testing.T) {
	s := deployed(t)
	sweeperID := cdktest.LogicalID(s.stack.Stack, s.stack.Functions[sweeper])
	rules := s.ofType("AWS::Events::Rule")
	found := false
	for _, r := range rules {
		if r.Properties["ScheduleExpression"] == "rate(1 minute)" && strings.Contains(fmt.Sprint(r.Properties["Targets"]), sweeperID) {
			found = true
		}
	}
	if !found {
		t.Fatalf("no rule runs the sweeper every minute: %v", rules)
	}
}

// TestOnlyTheOperatorFunctionIsGivenGitHubsKeys: the context's GitHub
// secret scanning keys reach the operator function, which serves
// POST /leaks/github, and no other; without them no function has them.
func TestOnlyTheOperatorFunctionIsGivenGitHubsKeys(t *testing.T) {
	const keys = `{"public_keys":[{"key_identifier":"k","key":"-----BEGIN PUBLIC KEY-----\nx\n-----END PUBLIC KEY-----","is_current":true}]}`
	cfg := DefaultConfig()
	cfg.GitHubSecretScanningKeys = keys
	s, err := synthesise(cfg)
	if err != nil {
		t.Fatalf("synthesise: %v", err)
	}
	envOf := func(s *synthesis, name string) map[string]any {
		p := s.resources[cdktest.LogicalID(s.stack.Stack, s.stack.Functions[name])].Properties
		env, _ := p["Environment"].(map[string]any)
		vars, _ := env["Variables"].(map[string]any)
		return vars
	}
	for _, f := range functions {
		got, has := envOf(s, f.name)[ghscan.EnvPublicKeys]
		if want := f.name == string(routes.Operator); has != want || want && got != keys {
			t.Errorf("%s: %s = %v (set: %v), want set: %v", f.name, ghscan.EnvPublicKeys, got, has, want)
		}
		if _, has := envOf(deployed(t), f.name)[ghscan.EnvPublicKeys]; has {
			t.Errorf("%s has %s without the context", f.name, ghscan.EnvPublicKeys)
		}
	}
}

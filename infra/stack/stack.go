// Package stack defines the TokenService stack: the tables of pkg/schema,
// one Go Lambda function per directory under functions/, the REST API of
// pkg/routes with its authorizers and JSON gateway errors, the access-log
// usage pipeline and the alarms an operator needs.
//
// The stack is built from the same table and route lists the local stack
// uses, so a route or index added there is deployed without touching this
// package. Each part is made by a small createX method, in dependency
// order, from New.
package stack

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogsdestinations"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/acmedata/tokenservice/infra/gofn"
	"github.com/acmedata/tokenservice/infra/tokenauth"
	"github.com/acmedata/tokenservice/pkg/accesslog"
	"github.com/acmedata/tokenservice/pkg/config"
	"github.com/acmedata/tokenservice/pkg/ghscan"
	"github.com/acmedata/tokenservice/pkg/routes"
	"github.com/acmedata/tokenservice/pkg/schema"
)

// Props configure the stack.
type Props struct {
	awscdk.StackProps
	Config Config
}

// TokenService is the deployed service. Its fields expose the resources
// for tests and for apps that attach their own constructs (for instance a
// TokenAuthorizer on another API, reading Tables[schema.Core.ID]).
type TokenService struct {
	awscdk.Stack
	cfg Config

	Tables          map[string]awsdynamodb.Table  // by schema.Table.ID
	Functions       map[string]awslambda.Function // by function name
	TokenAuthorizer *tokenauth.TokenAuthorizer
	KeyAuthorizer   awsapigateway.RequestAuthorizer
	AccessLogs      awslogs.LogGroup
	API             awsapigateway.RestApi
	Methods         map[routes.Route]awsapigateway.Method // every route's method on API
	Plans           *tokenauth.Plans                      // the key source's unlimited plan and key
}

// New builds the stack, or says what is wrong with its configuration.
func New(scope constructs.Construct, id string, props Props) (*TokenService, error) {
	if err := props.Config.Validate(); err != nil {
		return nil, err
	}
	s := &TokenService{
		Stack:     awscdk.NewStack(scope, jsii.String(id), &props.StackProps),
		cfg:       props.Config,
		Tables:    map[string]awsdynamodb.Table{},
		Functions: map[string]awslambda.Function{},
		Methods:   map[routes.Route]awsapigateway.Method{},
	}
	s.createTables()
	s.createFunctions()
	if err := s.createAuthorizers(); err != nil {
		return nil, err
	}
	s.createAccessLogs()
	if err := s.createAPI(); err != nil {
		return nil, err
	}
	s.createPlans()
	s.createGatewayResponses()
	s.createUsagePipeline()
	s.createSweepSchedule()
	s.createAlarms()
	s.createOutputs()
	s.suppressNagFindings()
	return s, nil
}

// createTables makes one on-demand table per schema table, with its
// indexes and TTL attribute.
func (s *TokenService) createTables() {
	str := func(name string) *awsdynamodb.Attribute {
		if name == "" {
			return nil
		}
		return &awsdynamodb.Attribute{Name: jsii.String(name), Type: awsdynamodb.AttributeType_STRING}
	}
	for _, t := range schema.All {
		var ttl *string
		if t.TTLAttribute != "" {
			ttl = jsii.String(t.TTLAttribute)
		}
		table := awsdynamodb.NewTable(s.Stack, jsii.String(t.ID), &awsdynamodb.TableProps{
			PartitionKey: str(t.PartitionKey),
			SortKey:      str(t.SortKey),
			BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
			PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
				PointInTimeRecoveryEnabled: jsii.Bool(true),
			},
			DeletionProtection:  jsii.Bool(s.cfg.DeletionProtection),
			RemovalPolicy:       s.cfg.removalPolicy(),
			TimeToLiveAttribute: ttl,
		})
		for _, ix := range t.LocalIndexes {
			table.AddLocalSecondaryIndex(&awsdynamodb.LocalSecondaryIndexProps{
				IndexName: jsii.String(ix.Name),
				SortKey:   str(ix.SortKey),
			})
		}
		for _, ix := range t.GlobalIndexes {
			table.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
				IndexName:    jsii.String(ix.Name),
				PartitionKey: str(ix.PartitionKey),
				SortKey:      str(ix.SortKey),
			})
		}
		s.Tables[t.ID] = table
	}
}

// createFunctions deploys every function of the functions list with
// exactly the table access it needs, and the tables' names in its
// environment. The token authorizer is made by createAuthorizers.
func (s *TokenService) createFunctions() {
	for _, f := range functions {
		env := s.environment()
		for _, g := range f.grants {
			env[g.table.EnvVar] = *s.Tables[g.table.ID].TableName()
		}
		if f.name == string(routes.Operator) && s.cfg.GitHubSecretScanningKeys != "" {
			env[ghscan.EnvPublicKeys] = s.cfg.GitHubSecretScanningKeys
		}
		fn := gofn.New(s.Stack, f.id(), gofn.Props{
			AssetDir:      s.cfg.AssetDir,
			Name:          f.name,
			Environment:   env,
			MemoryMiB:     f.memoryMiB,
			Timeout:       f.timeout,
			LogRetention:  s.cfg.logRetention(),
			RemovalPolicy: s.cfg.removalPolicy(),
		})
		for _, g := range f.grants {
			g.apply(s.Tables[g.table.ID], fn)
		}
		s.Functions[f.name] = fn
	}
}

// environment is what every function is told about the deployment.
func (s *TokenService) environment() map[string]string {
	return map[string]string{
		config.EnvServices:     s.cfg.Services,
		config.EnvAPIKeyPrefix: s.cfg.APIKeyPrefix,
		config.EnvLogLevel:     s.cfg.LogLevel,
	}
}

// createAuthorizers makes the token authorizer (through the same construct
// deployers use on their own APIs) and the API-key authorizer. The API-key
// authorizer's cache stays off: a replaced key must stop at once.
func (s *TokenService) createAuthorizers() error {
	ta, err := tokenauth.New(s.Stack, "TokenAuthorizer", tokenauth.Props{
		AssetDir:        s.cfg.AssetDir,
		CoreTable:       s.Tables[schema.Core.ID],
		Environment:     s.environment(),
		CacheTTL:        s.cfg.AuthorizerCacheTTL,
		RevocationDelay: &s.cfg.RevocationDelay,
		IdentitySources: s.cfg.AuthorizerIdentitySources,
		LogRetention:    s.cfg.logRetention(),
		RemovalPolicy:   s.cfg.removalPolicy(),
	})
	if err != nil {
		return err
	}
	s.TokenAuthorizer = ta
	s.Functions[tokenauth.FunctionName] = ta.Function

	s.KeyAuthorizer = awsapigateway.NewRequestAuthorizer(s.Stack, jsii.String("KeyAuthorizer"), &awsapigateway.RequestAuthorizerProps{
		Handler:         s.Functions[keyAuthorizer],
		IdentitySources: jsii.Strings(*awsapigateway.IdentitySource_Header(jsii.String("Authorization"))),
		ResultsCacheTtl: awscdk.Duration_Seconds(jsii.Number(0)),
	})
	return nil
}

// createAccessLogs makes the log group the stage writes its JSON access
// log to; the usage pipeline reads it.
func (s *TokenService) createAccessLogs() {
	s.AccessLogs = awslogs.NewLogGroup(s.Stack, jsii.String("AccessLogs"), &awslogs.LogGroupProps{
		Retention:     s.cfg.logRetention(),
		RemovalPolicy: s.cfg.removalPolicy(),
	})
}

// createAPI builds the REST API from routes.All.
func (s *TokenService) createAPI() error {
	s.API = awsapigateway.NewRestApi(s.Stack, jsii.String("Api"), &awsapigateway.RestApiProps{
		Description: jsii.String("API tokens for data services"),
		EndpointConfiguration: &awsapigateway.EndpointConfiguration{
			Types: &[]awsapigateway.EndpointType{awsapigateway.EndpointType_REGIONAL},
		},
		// Access logs need the account-wide API Gateway CloudWatch role.
		CloudWatchRole: jsii.Bool(true),
		// API Gateway gzips larger answers for clients that accept it (the
		// console's files); the local gateway does the same.
		MinCompressionSize: awscdk.Size_Bytes(jsii.Number(routes.MinimumCompressionSize)),
		DeployOptions: &awsapigateway.StageOptions{
			StageName:            jsii.String(s.cfg.Stage),
			ThrottlingRateLimit:  jsii.Number(s.cfg.ThrottleRateLimit),
			ThrottlingBurstLimit: jsii.Number(s.cfg.ThrottleBurstLimit),
			AccessLogDestination: awsapigateway.NewLogGroupLogDestination(s.AccessLogs),
			// Never $context.path: it would carry a path-form token.
			AccessLogFormat: awsapigateway.AccessLogFormat_Custom(jsii.String(accesslog.Format)),
			MetricsEnabled:  jsii.Bool(true),
			// Execution logs at INFO, and data traces, would record path and
			// query parameters, tokens included: errors only.
			LoggingLevel:     awsapigateway.MethodLoggingLevel_ERROR,
			DataTraceEnabled: jsii.Bool(false),
		},
	})

	integrations := map[routes.Function]awsapigateway.LambdaIntegration{}
	for _, r := range routes.All {
		options, err := s.methodOptions(r.Auth)
		if err != nil {
			return fmt.Errorf("route %s %s: %w", r.Method, r.Path, err)
		}
		fn, ok := s.Functions[string(r.Function)]
		if !ok {
			return fmt.Errorf("route %s %s: no function %q", r.Method, r.Path, r.Function)
		}
		integration, ok := integrations[r.Function]
		if !ok {
			integration = awsapigateway.NewLambdaIntegration(fn, &awsapigateway.LambdaIntegrationOptions{
				// Console test invocations would double the permissions.
				AllowTestInvoke: jsii.Bool(false),
			})
			integrations[r.Function] = integration
		}
		s.Methods[r] = s.API.Root().ResourceForPath(jsii.String(r.Path)).AddMethod(jsii.String(r.Method), integration, options)
	}
	return nil
}

// methodOptions maps a route's protection to API Gateway authorization.
func (s *TokenService) methodOptions(auth routes.Auth) (*awsapigateway.MethodOptions, error) {
	switch auth {
	case routes.Public:
		return &awsapigateway.MethodOptions{AuthorizationType: awsapigateway.AuthorizationType_NONE}, nil
	case routes.TokenAuth:
		// The data methods require a usage key, which the authorizer
		// returns: API Gateway's usage plans limit them (createPlans).
		return s.TokenAuthorizer.MethodOptions(), nil
	case routes.APIKeyAuth:
		return &awsapigateway.MethodOptions{Authorizer: s.KeyAuthorizer}, nil
	case routes.IAMAuth:
		return &awsapigateway.MethodOptions{AuthorizationType: awsapigateway.AuthorizationType_IAM}, nil
	}
	return nil, fmt.Errorf("unknown protection %q", auth)
}

// createUsagePipeline feeds every access-log line, and the token
// authorizer's 401 decision lines, to the usage recorder (docs/usage.md).
func (s *TokenService) createUsagePipeline() {
	awslogs.NewSubscriptionFilter(s.Stack, jsii.String("UsageFeed"), &awslogs.SubscriptionFilterProps{
		LogGroup:      s.AccessLogs,
		Destination:   awslogsdestinations.NewLambdaDestination(s.Functions[recorder], nil),
		FilterPattern: awslogs.FilterPattern_AllEvents(),
	})
	s.TokenAuthorizer.FeedRefusals(s.Functions[recorder])
	s.createUsageFailurePath()
}

// createSweepSchedule runs the sweeper every minute: deleting a user stops
// its tokens at once, and the sweeper removes their items afterwards,
// never inside the admin's request.
func (s *TokenService) createSweepSchedule() {
	awsevents.NewRule(s.Stack, jsii.String("SweepSchedule"), &awsevents.RuleProps{
		Schedule: awsevents.Schedule_Rate(awscdk.Duration_Minutes(jsii.Number(1))),
		Targets:  &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(s.Functions[sweeper], nil)},
	})
}

// createOutputs prints what a deployer needs after a deploy.
func (s *TokenService) createOutputs() {
	awscdk.NewCfnOutput(s.Stack, jsii.String("ApiUrl"), &awscdk.CfnOutputProps{Value: s.API.Url()})
	for _, t := range schema.All {
		awscdk.NewCfnOutput(s.Stack, jsii.String(t.ID+"TableName"), &awscdk.CfnOutputProps{Value: s.Tables[t.ID].TableName()})
	}
}

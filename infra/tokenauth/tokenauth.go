// Package tokenauth is the reusable TokenAuthorizer construct: the
// service's data-token REQUEST authorizer (functions/authorizer), ready to
// attach to any API Gateway REST API method, ours or a deployer's own.
//
// The authorizer decides which service a request is for from the
// `service` path parameter when the route has one (our /data/{service}/...
// routes) and otherwise from RouteServices, a map from "METHOD
// /resource/path" (API Gateway's httpMethod and resource template, exactly
// as the REQUEST event carries them) to a service ID. The map reaches the
// function as JSON in the ROUTE_SERVICES environment variable:
//
//	{"GET /reports/{proxy+}":"tmy"}
//
// A token is accepted in the query string (?token=), a {token} path
// parameter or an "Authorization: Bearer" header. API Gateway's result
// cache needs every identity source present on every request, which no
// single placement can promise; the cache is therefore off unless the
// deployer turns it on and names the identity sources their callers always
// send. Its TTL is then how long a revoked token may keep working.
//
// On Allow the authorizer answers a policy scoped to the requested
// service's routes of the calling API and stage, so a cached decision never
// opens another service's routes.
package tokenauth

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogsdestinations"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/acmedata/tokenservice/infra/gofn"
	"github.com/acmedata/tokenservice/pkg/accesslog"
	"github.com/acmedata/tokenservice/pkg/authz"
	"github.com/acmedata/tokenservice/pkg/config"
	"github.com/acmedata/tokenservice/pkg/schema"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// FunctionName is the authorizer's directory under functions/ and under
// the asset directory.
const FunctionName = "authorizer"

// MaxCacheTTL is API Gateway's upper bound for an authorizer result cache.
const MaxCacheTTL = time.Hour

// Props configure a TokenAuthorizer.
type Props struct {
	// AssetDir holds authorizer/bootstrap (the Makefile's bin/).
	AssetDir string
	// CoreTable is the service's core table; the authorizer only reads it.
	// From another app, import it with awsdynamodb.Table_FromTableName.
	CoreTable awsdynamodb.ITable
	// RouteServices maps "METHOD /resource/path" to the service it serves,
	// for routes without a {service} path parameter.
	RouteServices map[string]string
	// CacheTTL enables API Gateway's result cache; zero (the default)
	// keeps it off so that revocations apply on the next request.
	CacheTTL time.Duration
	// IdentitySources (e.g. "method.request.header.Authorization") are
	// required with a cache and then form its key; requests without them
	// are refused by API Gateway with 401 before the authorizer runs.
	IdentitySources []string
	// RevocationDelay is how long the function may answer from its own
	// memory (REVOCATION_DELAY): 0 to 60 s, and nil for the product's
	// default of 1 s. Longer saves reads of a hot token's items; shorter
	// makes a revocation bite sooner.
	RevocationDelay *time.Duration
	// Environment is passed to the function besides CORE_TABLE,
	// ROUTE_SERVICES and REVOCATION_DELAY (SERVICES, LOG_LEVEL, ...).
	Environment map[string]string
	// LogRetention and RemovalPolicy apply to the function's log group.
	LogRetention  awslogs.RetentionDays
	RemovalPolicy awscdk.RemovalPolicy
}

// TokenAuthorizer is the authorizer function and its API Gateway
// authorizer. Like every CDK authorizer it can serve the methods of one
// REST API.
type TokenAuthorizer struct {
	Function   awslambda.Function
	Authorizer awsapigateway.RequestAuthorizer
	scope      constructs.Construct
}

// Validate reports every problem with p.
func (p Props) Validate() error {
	var errs []error
	if p.AssetDir == "" {
		errs = append(errs, errors.New("tokenauth: AssetDir is required"))
	}
	if p.CoreTable == nil {
		errs = append(errs, errors.New("tokenauth: CoreTable is required"))
	}
	if p.CacheTTL < 0 || p.CacheTTL > MaxCacheTTL || p.CacheTTL%time.Second != 0 {
		errs = append(errs, fmt.Errorf("tokenauth: CacheTTL %v is not whole seconds between 0 and %v", p.CacheTTL, MaxCacheTTL))
	}
	if d := p.revocationDelay(); d < 0 || d > tokens.MaxRevocationDelay {
		errs = append(errs, fmt.Errorf("tokenauth: RevocationDelay %v is not between 0 and %v", d, tokens.MaxRevocationDelay))
	}
	if p.CacheTTL > 0 && len(p.IdentitySources) == 0 {
		errs = append(errs, errors.New("tokenauth: a result cache needs IdentitySources (the cache key)"))
	}
	// The function checks the map with the same code at cold start: a
	// mapping it would refuse must not deploy.
	if err := authz.ValidateRouteServices(p.RouteServices); err != nil {
		errs = append(errs, fmt.Errorf("tokenauth: %w", err))
	}
	catalogue, err := config.ParseServices(cmp.Or(p.Environment[config.EnvServices], config.DefaultServices))
	if err != nil {
		errs = append(errs, fmt.Errorf("tokenauth: %w", err))
	} else if err := authz.RoutesInCatalogue(p.RouteServices, config.Config{Services: catalogue}.ServiceIDs()); err != nil {
		errs = append(errs, fmt.Errorf("tokenauth: %w", err))
	}
	return errors.Join(errs...)
}

func (p Props) revocationDelay() time.Duration {
	if p.RevocationDelay == nil {
		return tokens.DefaultRevocationDelay
	}
	return *p.RevocationDelay
}

// routeServices is RouteServices as the function reads it: JSON, or ""
// for none.
func (p Props) routeServices() string {
	if len(p.RouteServices) == 0 {
		return ""
	}
	raw, _ := json.Marshal(p.RouteServices) // a map of strings always marshals
	return string(raw)
}

// New creates the authorizer function, grants it read access to the core
// table and wraps it in a REQUEST authorizer.
func New(scope constructs.Construct, id string, p Props) (*TokenAuthorizer, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	env := maps.Clone(p.Environment)
	if env == nil {
		env = map[string]string{}
	}
	env[schema.Core.EnvVar] = *p.CoreTable.TableName()
	if raw := p.routeServices(); raw != "" {
		env[authz.EnvRouteServices] = raw
	}
	env[config.EnvRevocationDelay] = p.revocationDelay().String()

	c := constructs.NewConstruct(scope, jsii.String(id))
	fn := gofn.New(c, "Function", gofn.Props{
		AssetDir:      p.AssetDir,
		Name:          FunctionName,
		Environment:   env,
		LogRetention:  p.LogRetention,
		RemovalPolicy: p.RemovalPolicy,
	})
	p.CoreTable.GrantReadData(fn)

	authorizer := awsapigateway.NewRequestAuthorizer(c, jsii.String("Authorizer"), &awsapigateway.RequestAuthorizerProps{
		Handler:         fn,
		IdentitySources: jsii.Strings(p.IdentitySources...),
		ResultsCacheTtl: awscdk.Duration_Seconds(jsii.Number(p.CacheTTL.Seconds())),
	})
	if len(p.IdentitySources) == 0 {
		// CDK writes an empty IdentitySource string; CloudFormation wants
		// the property absent when nothing identifies a request.
		authorizer.Node().DefaultChild().(awscdk.CfnResource).AddPropertyDeletionOverride(jsii.String("IdentitySource"))
	}
	return &TokenAuthorizer{Function: fn, Authorizer: authorizer, scope: c}, nil
}

// FeedRefusals subscribes the usage recorder to the authorizer's decision
// lines for 401 refusals. API Gateway's access log carries no authorizer
// context for a 401, so these lines are how a refused call of a known
// token reaches the usage history (docs/usage.md). The API's access log
// (in accesslog.Format) must feed the recorder too.
func (a *TokenAuthorizer) FeedRefusals(recorder awslambda.IFunction) {
	awslogs.NewSubscriptionFilter(a.scope, jsii.String("RefusalFeed"), &awslogs.SubscriptionFilterProps{
		LogGroup:    a.Function.LogGroup(),
		Destination: awslogsdestinations.NewLambdaDestination(recorder, nil),
		FilterPattern: awslogs.FilterPattern_StringValue(jsii.String("$.decision"), jsii.String("="),
			jsii.String(string(accesslog.DecisionUnauthorized))),
	})
}

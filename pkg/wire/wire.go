// Package wire is the one composition root of the service. It knows how to
// build every Lambda function's handler from a configuration (functions.go),
// reads the environment once per cold start, builds the clients and stores
// a function asks for, and hands the handler to the Lambda runtime. Each
// main names the function it is and nothing else; the local stack builds
// the very same functions through the same Build steps, over DynamoDB
// Local, so the two can never be wired differently.
package wire

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/acmedata/tokenservice/pkg/apigwplans"
	"github.com/acmedata/tokenservice/pkg/config"
	"github.com/acmedata/tokenservice/pkg/dynamostore"
	"github.com/acmedata/tokenservice/pkg/plans"
	"github.com/acmedata/tokenservice/pkg/schema"
	"github.com/acmedata/tokenservice/pkg/tokens"
	"github.com/acmedata/tokenservice/pkg/usagestore"
)

// Deps gives a function's build step its configuration and logger, and
// builds the shared dependencies on request.
type Deps struct {
	Config config.Config
	Log    *slog.Logger
	// Getenv reads a setting that only one function's build step knows
	// (os.Getenv on AWS).
	Getenv func(string) string

	// clients keeps one DynamoDB client per set of options, so a function
	// with two stores (the recorder) loads the AWS configuration and
	// opens a connection pool once at cold start, not once per store.
	clients map[config.ClientOptions]*dynamodb.Client
	// shared, if set, is the base of every client: the local stack runs
	// all functions over one DynamoDB Local connection, each with its
	// own bounds (ClientOptions) as on AWS.
	shared *dynamodb.Client
	// planEngine, if set, is the plans engine of every function: the
	// local stack's gateway twin.
	planEngine plans.Engine
}

// SharedDeps are Deps whose stores all use client's connection settings,
// each with its own options: the local stack's, over DynamoDB Local.
func SharedDeps(cfg config.Config, getenv func(string) string, log *slog.Logger, client *dynamodb.Client) Deps {
	return Deps{Config: cfg, Getenv: getenv, Log: log, shared: client, clients: map[config.ClientOptions]*dynamodb.Client{}}
}

// WithLog returns d logging through log.
func (d Deps) WithLog(log *slog.Logger) Deps {
	d.Log = log
	return d
}

// WithPlanEngine returns d giving e as every function's plans engine
// instead of API Gateway's (the local stack's gateway twin).
func (d Deps) WithPlanEngine(e plans.Engine) Deps {
	d.planEngine = e
	return d
}

// PlanEngine returns the engine that enforces plans at the gateway: the
// one given by WithPlanEngine, else API Gateway's usage plans of the
// REST API and stage the environment names (apigwplans.EnvRestAPIID,
// apigwplans.EnvStage, and apigwplans.EnvExtraStages for deployers' own
// APIs). Building it calls no AWS API.
func (d Deps) PlanEngine(ctx context.Context) (plans.Engine, error) {
	if d.planEngine != nil {
		return d.planEngine, nil
	}
	getenv := d.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	api, stage := getenv(apigwplans.EnvRestAPIID), getenv(apigwplans.EnvStage)
	if api == "" || stage == "" {
		return nil, fmt.Errorf("plans engine: %s and %s must both be set (or an engine given)", apigwplans.EnvRestAPIID, apigwplans.EnvStage)
	}
	extra, err := apigwplans.ParseStages(getenv(apigwplans.EnvExtraStages))
	if err != nil {
		return nil, err
	}
	client, err := config.APIGateway(ctx)
	if err != nil {
		return nil, err
	}
	return apigwplans.New(client, api, stage, extra...)
}

// Start builds the function's handler with build and serves it. A failed
// build is logged and exits non-zero, so Lambda reports an init error and
// retries the cold start instead of serving a half-wired function.
func Start[H any](build Build[H]) {
	ctx := context.Background()
	cfg, err := config.FromEnv(os.Getenv)
	if err != nil {
		// The configured logger needs the configuration: this one line is
		// JSON all the same, as CloudWatch Logs Insights reads every other.
		slog.New(slog.NewJSONHandler(os.Stderr, nil)).Error("invalid configuration", "error", err)
		os.Exit(1)
	}
	d := Deps{Config: cfg, Log: cfg.Logger(), Getenv: os.Getenv, clients: map[config.ClientOptions]*dynamodb.Client{}}
	handler, err := build(ctx, d)
	if err != nil {
		d.Log.Error("init failed", "error", err)
		os.Exit(1)
	}
	lambda.Start(handler)
}

// CoreStore returns the DynamoDB store over the core table, with client
// timeouts and retries bounded by o.
func (d Deps) CoreStore(ctx context.Context, o config.ClientOptions) (*dynamostore.Store, error) {
	if err := d.Config.RequireTables(schema.Core); err != nil {
		return nil, err
	}
	client, err := d.dynamoDB(ctx, o)
	if err != nil {
		return nil, err
	}
	store, err := dynamostore.New(client, d.Config.CoreTable)
	if err != nil {
		return nil, fmt.Errorf("core store: %w", err)
	}
	return store, nil
}

// UsageStore returns the store over the usage table, with client timeouts
// and retries bounded by o.
func (d Deps) UsageStore(ctx context.Context, o config.ClientOptions) (*usagestore.Store, error) {
	if err := d.Config.RequireTables(schema.Usage); err != nil {
		return nil, err
	}
	client, err := d.dynamoDB(ctx, o)
	if err != nil {
		return nil, err
	}
	store, err := usagestore.New(client, d.Config.UsageTable)
	if err != nil {
		return nil, fmt.Errorf("usage store: %w", err)
	}
	return store, nil
}

// dynamoDB returns the function's client for options o, building it on
// first use. Build steps run once, before any request, so no lock is needed.
// The local stack's shared client is the base of each: the same
// connection settings, with o's bounds.
func (d Deps) dynamoDB(ctx context.Context, o config.ClientOptions) (*dynamodb.Client, error) {
	if c, ok := d.clients[o]; ok {
		return c, nil
	}
	var c *dynamodb.Client
	if d.shared != nil {
		if o == (config.ClientOptions{}) {
			return d.shared, nil
		}
		c = dynamodb.New(d.shared.Options(), o.Apply)
	} else {
		var err error
		if c, err = config.DynamoDB(ctx, d.Config, o); err != nil {
			return nil, err
		}
	}
	if d.clients != nil {
		d.clients[o] = c
	}
	return c, nil
}

// Manager returns the domain Manager over the core store, bounded for the
// admin and operator requests it serves (RequestPath).
func (d Deps) Manager(ctx context.Context) (*tokens.Manager, error) {
	return d.manager(ctx, drivesPlans)
}

func (d Deps) manager(ctx context.Context, use engineUse) (*tokens.Manager, error) {
	store, err := d.CoreStore(ctx, RequestPath)
	if err != nil {
		return nil, err
	}
	engine, err := d.configuredPlanEngine(ctx, use)
	if err != nil {
		return nil, err
	}
	return tokens.NewManager(store, tokens.Config{Services: d.Config.Services, APIKeyPrefix: d.Config.APIKeyPrefix, Engine: engine, Logger: d.Log})
}

// configuredPlanEngine is PlanEngine when an engine is given or its
// environment is set, else nil: a function deployed without the engine's
// settings still serves, with plans stored but not reconciled into the
// gateway (the sweeper of a deployment that has them catches up) and
// quota use read as 0, and says so at cold start unless it is deployed
// without the engine by design (engineOptional).
func (d Deps) configuredPlanEngine(ctx context.Context, use engineUse) (plans.Engine, error) {
	if d.planEngine == nil && (d.Getenv == nil || d.Getenv(apigwplans.EnvRestAPIID) == "" && d.Getenv(apigwplans.EnvStage) == "") {
		if d.Log != nil && use == drivesPlans {
			d.Log.Warn("no plans engine configured: plans are kept but not reconciled into the gateway by this function",
				slog.String("need", apigwplans.EnvRestAPIID+", "+apigwplans.EnvStage))
		}
		return nil, nil
	}
	return d.PlanEngine(ctx)
}

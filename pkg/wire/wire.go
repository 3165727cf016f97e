// Package wire is the composition root shared by the functions' mains: it
// reads the environment once per cold start, builds the clients and stores
// a function asks for, and hands the function's handler to the Lambda
// runtime. Each main says only which handler it serves.
package wire

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/acmedata/tokenservice/pkg/config"
	"github.com/acmedata/tokenservice/pkg/dynamostore"
	"github.com/acmedata/tokenservice/pkg/schema"
	"github.com/acmedata/tokenservice/pkg/tokens"
	"github.com/acmedata/tokenservice/pkg/usagestore"
)

// Deps gives a function's build step its configuration and logger, and
// builds the shared dependencies on request.
type Deps struct {
	Config config.Config
	Log    *slog.Logger

	// clients keeps one DynamoDB client per set of options, so a function
	// with two stores (the recorder) loads the AWS configuration and
	// opens a connection pool once at cold start, not once per store.
	clients map[config.ClientOptions]*dynamodb.Client
}

// Start builds the function's handler with build and serves it. A failed
// build is logged and exits non-zero, so Lambda reports an init error and
// retries the cold start instead of serving a half-wired function.
func Start(build func(ctx context.Context, d Deps) (any, error)) {
	ctx := context.Background()
	cfg, err := config.FromEnv(os.Getenv)
	if err != nil {
		slog.Error("invalid configuration", "error", err)
		os.Exit(1)
	}
	d := Deps{Config: cfg, Log: cfg.Logger(), clients: map[config.ClientOptions]*dynamodb.Client{}}
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

// UsageStore returns the store over the usage table, with the default
// client timeouts and retries.
func (d Deps) UsageStore(ctx context.Context) (*usagestore.Store, error) {
	if err := d.Config.RequireTables(schema.Usage); err != nil {
		return nil, err
	}
	client, err := d.dynamoDB(ctx, config.ClientOptions{})
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
func (d Deps) dynamoDB(ctx context.Context, o config.ClientOptions) (*dynamodb.Client, error) {
	if c, ok := d.clients[o]; ok {
		return c, nil
	}
	c, err := config.DynamoDB(ctx, d.Config, o)
	if err != nil {
		return nil, err
	}
	if d.clients != nil {
		d.clients[o] = c
	}
	return c, nil
}

// Manager returns the domain Manager over the core store.
func (d Deps) Manager(ctx context.Context) (*tokens.Manager, error) {
	store, err := d.CoreStore(ctx, config.ClientOptions{})
	if err != nil {
		return nil, err
	}
	return NewManager(store, d.Config)
}

// NewManager builds the Manager from configuration over any store; the
// local stack uses it with the same store it gives the authorizers.
func NewManager(store tokens.Store, cfg config.Config) (*tokens.Manager, error) {
	return tokens.NewManager(store, tokens.Config{Services: cfg.Services, APIKeyPrefix: cfg.APIKeyPrefix})
}

// ProxyHandler is a handler of API Gateway proxy events.
type ProxyHandler interface {
	Serve(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error)
}

// StartWithManager starts a function whose handler needs only the Manager.
func StartWithManager(newHandler func(*tokens.Manager, *slog.Logger) (ProxyHandler, error)) {
	Start(func(ctx context.Context, d Deps) (any, error) {
		mgr, err := d.Manager(ctx)
		if err != nil {
			return nil, err
		}
		h, err := newHandler(mgr, d.Log)
		if err != nil {
			return nil, err
		}
		return h.Serve, nil
	})
}

package wire

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/acmedata/tokenservice/pkg/authz"
	"github.com/acmedata/tokenservice/pkg/config"
	"github.com/acmedata/tokenservice/pkg/console"
	"github.com/acmedata/tokenservice/pkg/databackend"
	"github.com/acmedata/tokenservice/pkg/ghscan"
	"github.com/acmedata/tokenservice/pkg/handlers/health"
	"github.com/acmedata/tokenservice/pkg/handlers/manage"
	"github.com/acmedata/tokenservice/pkg/handlers/newtoken"
	"github.com/acmedata/tokenservice/pkg/handlers/operator"
	usagehandler "github.com/acmedata/tokenservice/pkg/handlers/usage"
	"github.com/acmedata/tokenservice/pkg/httpapi"
	"github.com/acmedata/tokenservice/pkg/keyauth"
	"github.com/acmedata/tokenservice/pkg/routes"
	"github.com/acmedata/tokenservice/pkg/tokens"
	"github.com/acmedata/tokenservice/pkg/usage/recorder"
)

// Build makes one function's handler from its dependencies, once per cold
// start. H is the handler's type, one the Lambda runtime can invoke.
type Build[H any] func(ctx context.Context, d Deps) (H, error)

// The handler types of the service's functions.
type (
	// ProxyFunc serves API Gateway proxy events.
	ProxyFunc = func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error)
	// AuthorizerFunc answers API Gateway REQUEST authorizer events.
	AuthorizerFunc = func(context.Context, events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error)
	// RecorderFunc takes CloudWatch Logs subscription deliveries, and
	// the failure queue's messages while they are replayed.
	RecorderFunc = func(context.Context, recorder.Event) (events.SQSEventResponse, error)
)

// RequestPath bounds the store calls of a request a caller waits on (an
// authorizer's decision, an admin's or operator's call): two attempts of
// at most 900 ms with a short pause between them, so a store that does not
// answer fails the request with a 503 within 2 s rather than after the
// SDK's default retries (docs/deploy.md). DynamoDB answers in milliseconds;
// 900 ms leaves room for a cold connection and a busy DynamoDB Local.
var RequestPath = config.ClientOptions{Timeout: 900 * time.Millisecond, MaxAttempts: 2, MaxBackoff: 50 * time.Millisecond}

// DecisionBudget is how long either authorizer waits for the store in all
// before it refuses (fails closed, which API Gateway answers with 503): a
// caller is answered within 1 s whatever the store does.
const DecisionBudget = 950 * time.Millisecond

// withBudget bounds every decision of authorize by DecisionBudget.
func withBudget(authorize AuthorizerFunc) AuthorizerFunc {
	return func(ctx context.Context, req events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
		ctx, cancel := context.WithTimeout(ctx, DecisionBudget)
		defer cancel()
		return authorize(ctx, req)
	}
}

// Proxies builds every function behind a proxy integration, by the route
// function it serves (its main is functions/<name>).
var Proxies = map[routes.Function]Build[ProxyFunc]{
	routes.Manage: withManager(drivesPlans, func(m *tokens.Manager, log *slog.Logger) (*httpapi.Router, error) { return manage.New(m, log) }),
	// Issuing and cloning are deployed without the plans engine (no
	// control-plane rights): a clone's own plan gets its key from the
	// sweeper's reconciler, within the contract's 60 s.
	routes.Issue: withManager(engineOptional, func(m *tokens.Manager, log *slog.Logger) (*httpapi.Router, error) { return newtoken.NewIssue(m, log) }),
	routes.Clone: withManager(engineOptional, func(m *tokens.Manager, log *slog.Logger) (*httpapi.Router, error) { return newtoken.NewClone(m, log) }),
	routes.Operator: func(ctx context.Context, d Deps) (ProxyFunc, error) {
		github, err := ghscan.ParseKeys(d.Getenv(ghscan.EnvPublicKeys))
		if err != nil {
			return nil, err
		}
		return withManager(drivesPlans, func(m *tokens.Manager, log *slog.Logger) (*httpapi.Router, error) {
			return operator.New(m, log, operator.WithGitHubKeys(github))
		})(ctx, d)
	},
	routes.Health: func(ctx context.Context, d Deps) (ProxyFunc, error) {
		store, err := d.CoreStore(ctx, RequestPath)
		if err != nil {
			return nil, err
		}
		return serve(health.New(store, d.Log))
	},
	routes.Usage: func(ctx context.Context, d Deps) (ProxyFunc, error) {
		store, err := d.UsageStore(ctx, RequestPath)
		if err != nil {
			return nil, err
		}
		return serve(usagehandler.New(store, d.Log))
	},
	routes.Data: func(_ context.Context, d Deps) (ProxyFunc, error) {
		return serve(databackend.New(d.Log))
	},
	// The console's files are embedded in its binary: it needs no store.
	routes.Console: func(_ context.Context, d Deps) (ProxyFunc, error) {
		return serve(console.New(d.Log))
	},
}

// Authorizers builds both REQUEST authorizers, by the protection they give
// (functions/authorizer and functions/keyauthorizer).
var Authorizers = map[routes.Auth]Build[AuthorizerFunc]{
	routes.TokenAuth: func(ctx context.Context, d Deps) (AuthorizerFunc, error) {
		routeServices, err := authz.ParseRouteServices(d.Getenv(authz.EnvRouteServices))
		if err != nil {
			return nil, err
		}
		store, err := d.CoreStore(ctx, RequestPath)
		if err != nil {
			return nil, err
		}
		a, err := authz.New(store, authz.Options{
			Services:          d.Config.ServiceIDs(),
			RouteServices:     routeServices,
			Logger:            d.Log,
			RevocationDelay:   d.Config.RevocationDelay,
			UnlimitedUsageKey: d.Getenv(authz.EnvUnlimitedUsageKey),
		})
		if err != nil {
			return nil, err
		}
		return withBudget(a.Authorize), nil
	},
	routes.APIKeyAuth: func(ctx context.Context, d Deps) (AuthorizerFunc, error) {
		store, err := d.CoreStore(ctx, RequestPath)
		if err != nil {
			return nil, err
		}
		a, err := keyauth.New(store, keyauth.Options{APIKeyPrefix: d.Config.APIKeyPrefix, Logger: d.Log})
		if err != nil {
			return nil, err
		}
		return withBudget(a.Authorize), nil
	},
}

// Recorder builds the usage recorder (functions/recorder), which CloudWatch
// Logs invokes with the access log and the authorizer's refusals.
var Recorder Build[RecorderFunc] = func(ctx context.Context, d Deps) (RecorderFunc, error) {
	// The recorder's writes must get through: the SDK's default retries.
	store, err := d.UsageStore(ctx, config.ClientOptions{})
	if err != nil {
		return nil, err
	}
	core, err := d.CoreStore(ctx, config.ClientOptions{})
	if err != nil {
		return nil, err
	}
	r, err := recorder.New(store, core, d.Log)
	if err != nil {
		return nil, err
	}
	return r.Invoke, nil
}

// SweeperFunc takes the schedule's events, whose content does not matter.
type SweeperFunc = func(context.Context) error

// Sweeper builds the background sweep of deleted users' token items
// (functions/sweeper). A run stops a minute before the function's timeout,
// so the next scheduled run carries on where it left off.
var Sweeper Build[SweeperFunc] = func(ctx context.Context, d Deps) (SweeperFunc, error) {
	store, err := d.CoreStore(ctx, config.ClientOptions{})
	if err != nil {
		return nil, err
	}
	// The reconciler of plans runs here every minute too: it finishes
	// what an operator's write left pending (docs/limits.md).
	mgr, err := d.Manager(ctx)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) error {
		if deadline, ok := ctx.Deadline(); ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, deadline.Add(-time.Minute))
			defer cancel()
		}
		err := errors.Join(mgr.ReconcilePlans(ctx), tokens.RunSweeps(ctx, store, time.Now()))
		if errors.Is(err, context.DeadlineExceeded) {
			d.Log.Info("sweep paused at its deadline; the next run carries on")
			return nil
		}
		return err
	}, nil
}

// server is what every proxy handler package builds.
type server interface {
	Serve(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error)
}

func serve[S server](s S, err error) (ProxyFunc, error) {
	if err != nil {
		return nil, err
	}
	return s.Serve, nil
}

// engineUse says whether a function is deployed with the plans engine.
type engineUse bool

const (
	// drivesPlans: deployed with the engine; a cold start without one is
	// a misconfiguration worth a warning.
	drivesPlans engineUse = true
	// engineOptional: deployed without it by design; one given (the local
	// stack gives every function its twin) is used.
	engineOptional engineUse = false
)

// withManager builds a handler that needs only the token domain.
func withManager[S server](use engineUse, newHandler func(*tokens.Manager, *slog.Logger) (S, error)) Build[ProxyFunc] {
	return func(ctx context.Context, d Deps) (ProxyFunc, error) {
		m, err := d.manager(ctx, use)
		if err != nil {
			return nil, err
		}
		return serve(newHandler(m, d.Log))
	}
}

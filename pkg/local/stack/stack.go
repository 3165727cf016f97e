package stack

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/acmedata/tokenservice/pkg/accesslog"
	"github.com/acmedata/tokenservice/pkg/authz"
	"github.com/acmedata/tokenservice/pkg/config"
	"github.com/acmedata/tokenservice/pkg/dynamostore"
	"github.com/acmedata/tokenservice/pkg/ghscan"
	"github.com/acmedata/tokenservice/pkg/local/cwlogs"
	"github.com/acmedata/tokenservice/pkg/local/gateway"
	"github.com/acmedata/tokenservice/pkg/local/usageplans"
	"github.com/acmedata/tokenservice/pkg/plans"
	"github.com/acmedata/tokenservice/pkg/routes"
	"github.com/acmedata/tokenservice/pkg/schema"
	"github.com/acmedata/tokenservice/pkg/tokens"
	"github.com/acmedata/tokenservice/pkg/usage/recorder"
	"github.com/acmedata/tokenservice/pkg/wire"
)

// Config is what the stack needs from its host.
type Config struct {
	// Client talks to DynamoDB Local.
	Client *dynamodb.Client
	// Tables maps schema table IDs to physical names (as
	// dynamolocal.EnsureTables returns them).
	Tables map[string]string
	// OperatorKey opens the operator routes; required.
	OperatorKey string
	// LogOutput receives every function's JSON log lines, as CloudWatch
	// Logs would (discarded if nil).
	LogOutput io.Writer
	// UsageFlushInterval is how long a usage line may wait before it is
	// delivered to the recorder (the shipper's default if zero).
	UsageFlushInterval time.Duration
	// SpoolDir keeps the access-log and decision lines not yet delivered
	// to the recorder, so usage outlives a crash, a restart or a DynamoDB
	// Local outage (cwlogs.Shipper); required.
	SpoolDir string
	// RevocationDelay is the token authorizer's, as REVOCATION_DELAY sets
	// it on AWS ("" for the same default, 1 s).
	RevocationDelay string
	// UsagePlansFile keeps the gateway twin's usage plans (plans, keys and
	// quota counts) across restarts (usageplans.Options.Path); "" keeps
	// them in memory only.
	UsagePlansFile string
	// SweepInterval is how often the background sweep removes the token
	// items of deleted users, as the scheduled sweeper function does on
	// AWS (DefaultSweepInterval if zero).
	SweepInterval time.Duration
	// GitHubPublicKeys are GitHub's secret scanning public keys, as
	// ghscan.EnvPublicKeys sets them on AWS ("": POST /leaks/github
	// refuses every report).
	GitHubPublicKeys string
}

// Stack is the running service: an http.Handler in front of every route
// (the OpenAPI document at GET /openapi.json among them).
// Close it to deliver the usage it has recorded.
type Stack struct {
	http.Handler
	// Manager is the token domain the handlers share, for bootstrapping
	// (the demo account) without going through HTTP.
	Manager *tokens.Manager

	accessLog, decisions *cwlogs.Shipper
	core                 *dynamostore.Store
	// usagePlans is the gateway twin's usage plans: the plans engine of
	// every function, enforced by the gateway.
	usagePlans *usageplans.Engine
	stopSweeps context.CancelFunc
	sweeps     sync.WaitGroup
}

// DefaultSweepInterval is how often the local stack sweeps the token items
// of deleted users.
const DefaultSweepInterval = time.Second

// The deployment's plan without limits and its one usage key, which count
// every call no plan limits, as the CDK stack makes them on AWS. The key is
// no secret: the gateway takes keys from the authorizer alone.
const (
	UnlimitedPlanID   = "unlimited"
	UnlimitedUsageKey = "localUnlimitedUsageKey"
)

// Build assembles the stack.
func Build(ctx context.Context, cfg Config) (*Stack, error) {
	if cfg.Client == nil {
		return nil, errors.New("localstack: nil DynamoDB client")
	}
	if cfg.OperatorKey == "" {
		return nil, errors.New("localstack: no operator key")
	}
	if cfg.SpoolDir == "" {
		return nil, errors.New("localstack: no spool directory for undelivered usage")
	}
	out := cfg.LogOutput
	if out == nil {
		out = io.Discard
	}
	log := slog.New(slog.NewJSONHandler(out, nil))
	appCfg, err := appConfig(cfg)
	if err != nil {
		return nil, err
	}
	usagePlans, err := openUsagePlans(ctx, cfg.UsagePlansFile, log)
	if err != nil {
		return nil, err
	}
	built := false
	defer func() {
		if !built {
			_ = usagePlans.Close()
		}
	}()

	env := appEnv(cfg)
	deps := wire.SharedDeps(appCfg, func(key string) string { return env[key] }, log, cfg.Client).WithPlanEngine(usagePlans)
	mgr, err := deps.Manager(ctx)
	if err != nil {
		return nil, fmt.Errorf("localstack: manager: %w", err)
	}
	rec, err := wire.Recorder(ctx, deps)
	if err != nil {
		return nil, fmt.Errorf("localstack: recorder: %w", err)
	}
	core, err := deps.CoreStore(ctx, config.ClientOptions{})
	if err != nil {
		return nil, fmt.Errorf("localstack: core store: %w", err)
	}
	s := &Stack{Manager: mgr, core: core, usagePlans: usagePlans}
	// CloudWatch Logs invokes the recorder Lambda with a delivery.
	deliver := func(ctx context.Context, ev events.CloudwatchLogsEvent) error {
		_, err := rec(ctx, recorder.Event{AWSLogs: ev.AWSLogs})
		return err
	}
	ship := func(group, dir string, filter func([]byte) bool) (*cwlogs.Shipper, error) {
		return cwlogs.NewShipper(deliver, cwlogs.ShipperOptions{
			Dir: filepath.Join(cfg.SpoolDir, dir), LogGroup: group, FlushInterval: cfg.UsageFlushInterval, Filter: filter, Log: log,
		})
	}
	if s.accessLog, err = ship("API-Gateway-Access-Logs/local", "access-log", nil); err != nil {
		return nil, fmt.Errorf("localstack: access-log shipper: %w", err)
	}
	// As the authorizer log group's subscription filter on AWS
	// ({ $.decision = "unauthorized" }), only refusals reach the recorder.
	refusals := func(line []byte) bool { return accesslog.DecisionOf(line) == accesslog.DecisionUnauthorized }
	if s.decisions, err = ship("/aws/lambda/authorizer", "authorizer-log", refusals); err != nil {
		return nil, errors.Join(fmt.Errorf("localstack: decision shipper: %w", err), s.accessLog.Close(ctx))
	}
	fns, auths, err := functions(ctx, deps, io.MultiWriter(out, s.decisions))
	if err != nil {
		return nil, errors.Join(err, s.Close(ctx))
	}
	gw, err := gateway.New(gateway.Options{
		Routes:      routes.All,
		Functions:   fns,
		Authorizers: auths,
		OperatorKey: cfg.OperatorKey,
		UsagePlans:  usagePlans,
		AccessLog: func(e accesslog.Entry) {
			if err := s.accessLog.Ship(e.Line()); err != nil {
				log.Warn("access-log line dropped", slog.String("requestId", e.RequestID), slog.Any("error", err))
			}
		},
		Logger: log,
	})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("localstack: gateway: %w", err), s.Close(ctx))
	}
	// Every request goes to the gateway as it came, as on AWS, where API
	// Gateway serves only the routes of pkg/routes (the OpenAPI document
	// is one of them): no ServeMux, which would answer a path with an
	// empty, "." or ".." segment with a redirect of its own (an HTML body,
	// the cleaned path, token included, in Location, and no record of the
	// call), and "*" or CONNECT in Go's plain text.
	s.Handler = gw
	s.startSweeps(cmp.Or(cfg.SweepInterval, DefaultSweepInterval), log)
	built = true
	return s, nil
}

// openUsagePlans opens the gateway twin's usage plans kept at path and
// makes the unlimited plan and key, as the CDK stack does on AWS.
func openUsagePlans(ctx context.Context, path string, log *slog.Logger) (*usageplans.Engine, error) {
	e, err := usageplans.Open(usageplans.Options{Path: path, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("localstack: usage plans: %w", err)
	}
	err = e.PutPlan(ctx, plans.Plan{ID: UnlimitedPlanID, Name: "Unlimited"})
	if err == nil {
		err = e.PutKey(ctx, plans.Key{Value: UnlimitedUsageKey, PlanID: UnlimitedPlanID})
	}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("localstack: unlimited usage plan: %w", err), e.Close())
	}
	return e, nil
}

// startSweeps runs the background sweep every interval until Close, as the
// scheduled sweeper function does on AWS.
func (s *Stack) startSweeps(interval time.Duration, log *slog.Logger) {
	ctx, stop := context.WithCancel(context.Background())
	s.stopSweeps = stop
	s.sweeps.Go(func() {
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
					log.Warn("sweep of deleted users' tokens, of expired tokens or of plans failed; the next one carries on", slog.Any("error", err))
				}
			}
		}
	})
}

// Sweep removes the token items of every deleted user, moves the tokens
// expired by now out of the listings of live ones, and brings the gateway
// twin's usage plans to every pending change of plans, as the next
// scheduled sweeper run would.
func (s *Stack) Sweep(ctx context.Context) error {
	return errors.Join(s.Manager.ReconcilePlans(ctx), tokens.RunSweeps(ctx, s.core, time.Now()))
}

// appEnv is the environment the functions read on AWS, where the stack
// sets only the table names.
func appEnv(cfg Config) map[string]string {
	env := map[string]string{}
	for _, t := range schema.All {
		env[t.EnvVar] = cfg.Tables[t.ID]
	}
	env[config.EnvRevocationDelay] = cfg.RevocationDelay
	// As the CDK stack sets it on the token authorizer.
	env[authz.EnvUnlimitedUsageKey] = UnlimitedUsageKey
	env[ghscan.EnvPublicKeys] = cfg.GitHubPublicKeys
	return env
}

// appConfig is the configuration the functions read from appEnv.
func appConfig(cfg Config) (config.Config, error) {
	env := appEnv(cfg)
	c, err := config.FromEnv(func(key string) string { return env[key] })
	if err == nil {
		err = c.RequireTables(schema.All...)
	}
	if err != nil {
		return config.Config{}, fmt.Errorf("localstack: %w", err)
	}
	return c, nil
}

// functions builds every proxy function and both authorizers with the
// Build steps their Lambda mains use (pkg/wire). The token authorizer's
// decision lines go to decisionLog: its log and, as through the CloudWatch
// Logs subscription on AWS, the recorder for 401 refusals.
func functions(ctx context.Context, deps wire.Deps, decisionLog io.Writer) (map[routes.Function]gateway.ProxyFunc, map[routes.Auth]gateway.AuthorizerFunc, error) {
	fns := map[routes.Function]gateway.ProxyFunc{}
	var errs []error
	for fn, build := range wire.Proxies {
		h, err := build(ctx, deps)
		if err != nil {
			errs = append(errs, fmt.Errorf("localstack: %s: %w", fn, err))
			continue
		}
		fns[fn] = h
	}
	auths := map[routes.Auth]gateway.AuthorizerFunc{}
	for auth, build := range wire.Authorizers {
		d := deps
		if auth == routes.TokenAuth {
			d = deps.WithLog(slog.New(slog.NewJSONHandler(decisionLog, nil)))
		}
		a, err := build(ctx, d)
		if err != nil {
			errs = append(errs, fmt.Errorf("localstack: %s authorizer: %w", auth, err))
			continue
		}
		auths[auth] = a
	}
	return fns, auths, errors.Join(errs...)
}

// Close stops the stack's usage shipping after delivering every queued
// line, or gives up when ctx ends, and writes the usage plans' quota
// counts. Stop serving requests first.
func (s *Stack) Close(ctx context.Context) error {
	if s.stopSweeps != nil {
		s.stopSweeps()
		s.sweeps.Wait()
	}
	return errors.Join(s.accessLog.Close(ctx), s.decisions.Close(ctx), s.usagePlans.Close())
}

// Flush delivers the usage of every call answered so far, without waiting
// for the shipping interval; the stack keeps running. If ctx ends first it
// reports what was left undelivered.
func (s *Stack) Flush(ctx context.Context) error {
	return errors.Join(s.accessLog.Flush(ctx), s.decisions.Flush(ctx))
}

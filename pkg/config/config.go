// Package config reads a function's settings from its environment and
// builds the AWS clients it needs. Every function's main and the local
// gateway go through it, so a setting means the same thing everywhere.
package config

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/acmedata/tokenservice/pkg/schema"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// Environment variables, besides the table names in schema.Table.EnvVar.
const (
	EnvServices       = "SERVICES"          // "tmy=TMY data,timeseries=Time Series data"
	EnvAPIKeyPrefix   = "API_KEY_PREFIX"    // default tokens.DefaultAPIKeyPrefix
	EnvLogLevel       = "LOG_LEVEL"         // debug, info (default), warn, error
	EnvDynamoEndpoint = "DYNAMODB_ENDPOINT" // set only on the local stack and in tests
	// EnvRevocationDelay is how long the token authorizer may answer from
	// memory (a Go duration such as 1s or 250ms, or whole seconds), 0 to
	// tokens.MaxRevocationDelay; tokens.DefaultRevocationDelay if unset.
	EnvRevocationDelay = "REVOCATION_DELAY"
)

// DefaultServices is the catalog used when SERVICES is unset.
const DefaultServices = "tmy=TMY data,timeseries=Time Series data"

// Config is what every function may need.
type Config struct {
	CoreTable      string
	UsageTable     string
	Services       []tokens.Service
	APIKeyPrefix   string
	LogLevel       slog.Level
	DynamoEndpoint string
	// RevocationDelay bounds how long a change that stops or restores a
	// token may take to reach every request (the authorizer's cache).
	RevocationDelay time.Duration
}

// FromEnv reads the configuration through getenv (os.Getenv in mains).
func FromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		CoreTable:      getenv(schema.Core.EnvVar),
		UsageTable:     getenv(schema.Usage.EnvVar),
		APIKeyPrefix:   getenv(EnvAPIKeyPrefix),
		DynamoEndpoint: getenv(EnvDynamoEndpoint),
	}
	if c.APIKeyPrefix == "" {
		c.APIKeyPrefix = tokens.DefaultAPIKeyPrefix
	}
	raw := getenv(EnvServices)
	if raw == "" {
		raw = DefaultServices
	}
	var err error
	if c.Services, err = ParseServices(raw); err != nil {
		return Config{}, err
	}
	if c.RevocationDelay, err = ParseRevocationDelay(getenv(EnvRevocationDelay)); err != nil {
		return Config{}, err
	}
	if lvl := getenv(EnvLogLevel); lvl != "" {
		if err := c.LogLevel.UnmarshalText([]byte(lvl)); err != nil {
			return Config{}, fmt.Errorf("%s: %w", EnvLogLevel, err)
		}
	}
	return c, nil
}

// ParseRevocationDelay reads a revocation delay: a Go duration ("1s",
// "250ms") or whole seconds ("5"); "" is tokens.DefaultRevocationDelay.
// Outside 0 to tokens.MaxRevocationDelay is an error.
func ParseRevocationDelay(raw string) (time.Duration, error) {
	if raw == "" {
		return tokens.DefaultRevocationDelay, nil
	}
	d, err := time.ParseDuration(raw)
	if err != nil {
		secs, serr := strconv.Atoi(raw)
		if serr != nil {
			return 0, fmt.Errorf("%s: %q is neither a duration such as 1s nor whole seconds", EnvRevocationDelay, raw)
		}
		d = time.Duration(secs) * time.Second
	}
	if d < 0 || d > tokens.MaxRevocationDelay {
		return 0, fmt.Errorf("%s: %v is outside 0s..%v", EnvRevocationDelay, d, tokens.MaxRevocationDelay)
	}
	return d, nil
}

// serviceID is what a service ID may be: a short lowercase slug. It is a
// path segment of the data routes and a value of every usage record and
// log line, so it must need no escaping, and it is too short to look like
// a token (32 hexadecimal characters) to the redaction that guards those.
var serviceID = regexp.MustCompile(`^[a-z][a-z0-9-]{0,29}$`)

// ParseServices parses a catalog such as "tmy=TMY data,timeseries=Time Series data".
func ParseServices(raw string) ([]tokens.Service, error) {
	var out []tokens.Service
	for _, part := range strings.Split(raw, ",") {
		id, name, ok := strings.Cut(strings.TrimSpace(part), "=")
		id, name = strings.TrimSpace(id), strings.TrimSpace(name)
		switch {
		case !ok || id == "" || name == "":
			return nil, fmt.Errorf("%s: %q is not id=Display Name", EnvServices, part)
		case !serviceID.MatchString(id):
			return nil, fmt.Errorf("%s: service ID %q is not 1 to 30 of a-z, 0-9 and '-', starting with a letter", EnvServices, id)
		case slices.ContainsFunc(out, func(s tokens.Service) bool { return s.ID == id }):
			return nil, fmt.Errorf("%s: service ID %q is listed twice", EnvServices, id)
		}
		out = append(out, tokens.Service{ID: id, Name: name})
	}
	return out, nil
}

// ServiceIDs lists the catalogue's service IDs.
func (c Config) ServiceIDs() []string {
	ids := make([]string, len(c.Services))
	for i, s := range c.Services {
		ids[i] = s.ID
	}
	return ids
}

// RequireTables fails unless the named tables are configured.
func (c Config) RequireTables(tables ...schema.Table) error {
	var errs []error
	for _, t := range tables {
		name := c.CoreTable
		if t.ID == schema.Usage.ID {
			name = c.UsageTable
		}
		if name == "" {
			errs = append(errs, fmt.Errorf("%s is not set", t.EnvVar))
		}
	}
	return errors.Join(errs...)
}

// Logger returns the JSON logger functions log through: one line per
// event, machine-readable by CloudWatch Logs Insights.
func (c Config) Logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: c.LogLevel}))
}

// ClientOptions bound how long a DynamoDB call may take. Zero values keep
// the SDK defaults (3 attempts, backoff up to 20 s, no timeout): right for
// background work that must get through (the usage recorder), wrong for a
// request a caller waits on.
type ClientOptions struct {
	// Timeout caps each HTTP attempt.
	Timeout time.Duration
	// MaxAttempts caps the SDK's retries (1 = no retry).
	MaxAttempts int
	// MaxBackoff caps the pause before a retry.
	MaxBackoff time.Duration
}

// Apply sets o on a DynamoDB client's options: the per-attempt timeout on
// its HTTP client (a copy, keeping its transport settings) and a standard
// retryer with o's attempts and backoff.
func (o ClientOptions) Apply(do *dynamodb.Options) {
	if o.Timeout > 0 {
		switch c := do.HTTPClient.(type) {
		case *awshttp.BuildableClient:
			do.HTTPClient = c.WithTimeout(o.Timeout)
		case nil:
			do.HTTPClient = awshttp.NewBuildableClient().WithTimeout(o.Timeout)
		}
		// Any other client is a test's stand-in for the network, kept.
	}
	if o.MaxAttempts > 0 || o.MaxBackoff > 0 {
		do.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			if o.MaxAttempts > 0 {
				so.MaxAttempts = o.MaxAttempts
			}
			if o.MaxBackoff > 0 {
				so.MaxBackoff = o.MaxBackoff
			}
		})
	}
}

// DynamoDB builds a DynamoDB client. With DynamoEndpoint set (local stack,
// tests) it talks to DynamoDB Local with static dummy credentials;
// otherwise it uses the Lambda's role through the default chain.
func DynamoDB(ctx context.Context, c Config, o ClientOptions) (*dynamodb.Client, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if c.DynamoEndpoint != "" {
		opts = append(opts,
			awsconfig.WithRegion(envOr("AWS_REGION", "us-east-1")),
			// DynamoDB Local accepts any key made of letters and digits.
			awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")),
		)
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load aws config: %w", err)
	}
	return dynamodb.NewFromConfig(awsCfg, func(do *dynamodb.Options) {
		if c.DynamoEndpoint != "" {
			do.BaseEndpoint = aws.String(c.DynamoEndpoint)
		}
		o.Apply(do)
	}), nil
}

// Bounds of the retries of API Gateway's control plane, which throttles
// hard (CreateApiKey: 5 requests/s per account, most calls 10/s): up to
// APIGatewayMaxAttempts attempts, backing off up to APIGatewayMaxBackoff
// between them (with jitter), so a throttled call waits a few seconds at
// most and a reconciler's run stays well inside its function's timeout.
const (
	APIGatewayMaxAttempts = 6
	APIGatewayMaxBackoff  = 2 * time.Second
)

// APIGateway builds a client of API Gateway's control plane (the plans
// engine's) with the Lambda's role through the default chain. Throttled
// calls (TooManyRequestsException, 429) are retried by the SDK's standard
// retryer within the bounds above, without its client-side retry quota,
// which a burst of throttles would otherwise exhaust and turn into
// errors.
func APIGateway(ctx context.Context) (*apigateway.Client, error) {
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRetryer(APIGatewayRetryer))
	if err != nil {
		return nil, fmt.Errorf("load aws config: %w", err)
	}
	return apigateway.NewFromConfig(awsCfg), nil
}

// APIGatewayRetryer is the retryer of APIGateway's clients.
func APIGatewayRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = APIGatewayMaxAttempts
		o.MaxBackoff = APIGatewayMaxBackoff
		o.RateLimiter = ratelimit.None
	})
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

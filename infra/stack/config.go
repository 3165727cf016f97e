package stack

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"

	"github.com/acmedata/tokenservice/pkg/apigwplans"
	"github.com/acmedata/tokenservice/pkg/config"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// Config is everything a deployment may choose. Account, region and
// physical resource names are deliberately absent: the CDK environment and
// CloudFormation provide them.
type Config struct {
	// Stage is the API stage name and part of the stack name.
	Stage string
	// Services is the deployment's catalog, "id=Display Name,id2=Other".
	Services string
	// AuthorizerCacheTTL enables the token authorizer's result cache, and
	// is then the revocation delay. Zero keeps it off.
	AuthorizerCacheTTL time.Duration
	// RevocationDelay is how long the token authorizer may answer from
	// its own memory (0 to 60 s): the delay within which a revocation
	// reaches every request, against one read per hot item per delay.
	RevocationDelay time.Duration
	// AuthorizerIdentitySources form the cache key when the cache is on.
	AuthorizerIdentitySources []string
	// ThrottleRateLimit (requests/s) and ThrottleBurstLimit apply to each
	// method of the stage, above every plan.
	ThrottleRateLimit  float64
	ThrottleBurstLimit float64
	// LogRetentionDays applies to every log group, access logs included.
	LogRetentionDays int
	// Retain keeps tables and log groups when the stack is deleted.
	Retain bool
	// DeletionProtection refuses table deletion, even by CloudFormation.
	DeletionProtection bool
	// APIKeyPrefix starts every API key of the deployment.
	APIKeyPrefix string
	// LogLevel of the functions: debug, info, warn or error.
	LogLevel string
	// GitHubSecretScanningKeys is GitHub's secret scanning public-keys
	// document (https://api.github.com/meta/public_keys/secret_scanning),
	// given to the operator function, which serves POST /leaks/github;
	// "" refuses every GitHub report. Public keys: no secret.
	GitHubSecretScanningKeys string
	// AssetDir holds one directory per function with its bootstrap.
	AssetDir string
	// PlanStages are deployers' own API stages behind the token
	// authorizer (tokenauth.EnforcePlans), "restApiId:stage,...": every
	// plan's usage plan limits them too, so a plan's key works there.
	PlanStages string
}

// Context keys, as set in cdk.json or with `cdk synth -c key=value`.
const (
	CtxStage                     = "stage"
	CtxGitHubSecretScanningKeys  = "githubSecretScanningKeys"
	CtxServices                  = "services"
	CtxAuthorizerCacheTTLSeconds = "authorizerCacheTtlSeconds"
	CtxAuthorizerIdentitySource  = "authorizerIdentitySource" // comma-separated
	CtxRevocationDelaySeconds    = "revocationDelaySeconds"
	CtxThrottleRateLimit         = "throttleRateLimit"
	CtxThrottleBurstLimit        = "throttleBurstLimit"
	CtxLogRetentionDays          = "logRetentionDays"
	CtxRemovalPolicy             = "removalPolicy" // "retain" or "destroy"
	CtxDeletionProtection        = "deletionProtection"
	CtxAPIKeyPrefix              = "apiKeyPrefix"
	CtxLogLevel                  = "logLevel"
	CtxAssetDir                  = "assetDir"
	CtxPlanStages                = "planStages" // "restApiId:stage,..."
)

// DefaultConfig is a production-minded deployment: data kept, tables
// protected, cache off.
func DefaultConfig() Config {
	return Config{
		Stage:           "prod",
		Services:        config.DefaultServices,
		RevocationDelay: tokens.DefaultRevocationDelay,
		// API Gateway's own regional default: per-caller limits are the
		// plans' job, and a lower stage throttle would cap every plan.
		ThrottleRateLimit:  10_000,
		ThrottleBurstLimit: 5_000,
		LogRetentionDays:   30,
		Retain:             true,
		DeletionProtection: true,
		APIKeyPrefix:       tokens.DefaultAPIKeyPrefix,
		LogLevel:           "info",
		AssetDir:           "bin",
	}
}

// retentions are the retention periods CloudWatch Logs offers.
var retentions = map[int]awslogs.RetentionDays{
	1: awslogs.RetentionDays_ONE_DAY, 3: awslogs.RetentionDays_THREE_DAYS,
	5: awslogs.RetentionDays_FIVE_DAYS, 7: awslogs.RetentionDays_ONE_WEEK,
	14: awslogs.RetentionDays_TWO_WEEKS, 30: awslogs.RetentionDays_ONE_MONTH,
	60: awslogs.RetentionDays_TWO_MONTHS, 90: awslogs.RetentionDays_THREE_MONTHS,
	120: awslogs.RetentionDays_FOUR_MONTHS, 150: awslogs.RetentionDays_FIVE_MONTHS,
	180: awslogs.RetentionDays_SIX_MONTHS, 365: awslogs.RetentionDays_ONE_YEAR,
	400: awslogs.RetentionDays_THIRTEEN_MONTHS, 545: awslogs.RetentionDays_EIGHTEEN_MONTHS,
	731: awslogs.RetentionDays_TWO_YEARS, 1827: awslogs.RetentionDays_FIVE_YEARS,
	3653: awslogs.RetentionDays_TEN_YEARS,
}

// Validate reports every problem with c.
func (c Config) Validate() error {
	var errs []error
	if c.Stage == "" {
		errs = append(errs, errors.New("stage is required"))
	}
	if _, err := config.ParseServices(c.Services); err != nil {
		errs = append(errs, err)
	}
	if c.ThrottleRateLimit <= 0 || c.ThrottleBurstLimit <= 0 {
		errs = append(errs, errors.New("throttle rate and burst limits must be positive"))
	}
	if _, ok := retentions[c.LogRetentionDays]; !ok {
		errs = append(errs, fmt.Errorf("log retention of %d days is not one CloudWatch Logs offers", c.LogRetentionDays))
	}
	if c.AssetDir == "" {
		errs = append(errs, errors.New("asset directory is required"))
	}
	if _, err := apigwplans.ParseStages(c.PlanStages); err != nil {
		errs = append(errs, err)
	}
	if c.RevocationDelay < 0 || c.RevocationDelay > tokens.MaxRevocationDelay {
		errs = append(errs, fmt.Errorf("revocation delay %v is not between 0 and %v", c.RevocationDelay, tokens.MaxRevocationDelay))
	}
	return errors.Join(errs...)
}

func (c Config) logRetention() awslogs.RetentionDays { return retentions[c.LogRetentionDays] }

func (c Config) removalPolicy() awscdk.RemovalPolicy {
	if c.Retain {
		return awscdk.RemovalPolicy_RETAIN
	}
	return awscdk.RemovalPolicy_DESTROY
}

// ConfigFromContext overlays the CDK context values that lookup finds on
// DefaultConfig. lookup is the app node's TryGetContext: values come as
// JSON types from cdk.json and as strings from the command line, so both
// are accepted.
func ConfigFromContext(lookup func(key string) any) (Config, error) {
	c := DefaultConfig()
	var errs []error
	str := func(key string, dst *string) {
		if v := lookup(key); v != nil {
			*dst = fmt.Sprint(v)
		}
	}
	num := func(key string, dst *float64) {
		v := lookup(key)
		if v == nil {
			return
		}
		f, err := strconv.ParseFloat(fmt.Sprint(v), 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("context %s: %q is not a number", key, v))
			return
		}
		*dst = f
	}
	flag := func(key string, dst *bool) {
		v := lookup(key)
		if v == nil {
			return
		}
		b, err := strconv.ParseBool(fmt.Sprint(v))
		if err != nil {
			errs = append(errs, fmt.Errorf("context %s: %q is not true or false", key, v))
			return
		}
		*dst = b
	}

	str(CtxStage, &c.Stage)
	str(CtxServices, &c.Services)
	str(CtxAPIKeyPrefix, &c.APIKeyPrefix)
	str(CtxLogLevel, &c.LogLevel)
	str(CtxGitHubSecretScanningKeys, &c.GitHubSecretScanningKeys)
	str(CtxAssetDir, &c.AssetDir)
	str(CtxPlanStages, &c.PlanStages)
	num(CtxThrottleRateLimit, &c.ThrottleRateLimit)
	num(CtxThrottleBurstLimit, &c.ThrottleBurstLimit)
	flag(CtxDeletionProtection, &c.DeletionProtection)

	ttl, retention, delay := c.AuthorizerCacheTTL.Seconds(), float64(c.LogRetentionDays), c.RevocationDelay.Seconds()
	num(CtxAuthorizerCacheTTLSeconds, &ttl)
	num(CtxLogRetentionDays, &retention)
	num(CtxRevocationDelaySeconds, &delay)
	c.AuthorizerCacheTTL = time.Duration(ttl) * time.Second
	c.RevocationDelay = time.Duration(delay * float64(time.Second))
	c.LogRetentionDays = int(retention)

	var source string
	if str(CtxAuthorizerIdentitySource, &source); source != "" {
		c.AuthorizerIdentitySources = strings.Split(source, ",")
	}
	removal := "retain"
	switch str(CtxRemovalPolicy, &removal); removal {
	case "retain":
		c.Retain = true
	case "destroy":
		c.Retain = false
	default:
		errs = append(errs, fmt.Errorf("context %s: %q is neither retain nor destroy", CtxRemovalPolicy, removal))
	}

	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	return c, c.Validate()
}

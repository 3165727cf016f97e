package tokenauth

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/jsii-runtime-go"

	"github.com/acmedata/tokenservice/pkg/authz"
)

// Plans is what makes API Gateway enforce the service's plans on a REST
// API's stage (docs/limits.md): the API takes its usage key from the
// authorizer (key source AUTHORIZER), and the deployment's usage plan
// without limits holds the key the authorizer returns for calls no plan
// limits. Methods behind the authorizer must require a key
// (MethodOptions); the service's reconciler puts each plan's usage plan
// and keys on the stage.
type Plans struct {
	// Unlimited is the usage plan without throttle or quota.
	Unlimited awsapigateway.UsagePlan
	// UnlimitedKey is its API key, whose value the authorizer returns.
	UnlimitedKey awsapigateway.ApiKey
}

// MethodOptions are the options of a method behind the authorizer on an
// API that enforces plans: the authorizer, and a usage key required, so
// that API Gateway counts and limits the call by the key the authorizer
// returns (never by a key the caller sends: the key source is the
// authorizer).
func (a *TokenAuthorizer) MethodOptions() *awsapigateway.MethodOptions {
	return &awsapigateway.MethodOptions{Authorizer: a.Authorizer, ApiKeyRequired: jsii.Bool(true)}
}

// EnforcePlans sets api's key source to AUTHORIZER and makes the usage
// plan without limits on api's deployment stage, its API key and their
// link, and gives the authorizer the key's value (UNLIMITED_USAGE_KEY).
// Call it once per API the authorizer serves, and attach the methods with
// MethodOptions. On a deployer's own API, also name its stage in the
// service stack's planStages context ("restApiId:stage"): the service's
// plans engine then puts every plan's usage plan on it, without which a
// token with a plan would be refused 403 there.
//
// The key's value is derived at deploy time from the stack's unique ID
// (the UUID in AWS::StackId) and the construct's path, so nobody makes or
// types it and it stays the same for the stack's life. It is not a
// secret and need not be: with the key source AUTHORIZER a caller cannot
// present any API key, so a key value grants nothing; it only names a
// budget. A Secrets Manager value would cost a secret and a resolve for
// no protection.
func (a *TokenAuthorizer) EnforcePlans(api awsapigateway.RestApi) *Plans {
	cfn := api.Node().DefaultChild().(awsapigateway.CfnRestApi)
	cfn.SetApiKeySourceType(jsii.String("AUTHORIZER"))

	c := a.scope
	value := UnlimitedKeyValue(awscdk.Stack_Of(c), *c.Node().Addr())
	key := awsapigateway.NewApiKey(c, jsii.String("UnlimitedKey"), &awsapigateway.ApiKeyProps{
		Description: jsii.String("The token service's usage key for calls no plan limits; returned by the token authorizer, never by a caller"),
		Enabled:     jsii.Bool(true),
		Value:       value,
	})
	plan := awsapigateway.NewUsagePlan(c, jsii.String("UnlimitedPlan"), &awsapigateway.UsagePlanProps{
		Description: jsii.String("The token service's plan without limits (the stage's own throttle still applies)"),
		ApiStages:   &[]*awsapigateway.UsagePlanPerApiStage{{Api: api, Stage: api.DeploymentStage()}},
	})
	plan.AddApiKey(key, nil)
	a.Function.AddEnvironment(jsii.String(authz.EnvUnlimitedUsageKey), value, nil)
	return &Plans{Unlimited: plan, UnlimitedKey: key}
}

// UnlimitedKeyValue is the unlimited usage key's value in stack: "tku",
// the hexadecimal of the stack's UUID (resolved by CloudFormation) and a
// suffix naming the construct (addr, its node address), so that two
// authorizers of one stack and two stacks of a region never share a
// value. Letters and digits only, 77 characters: API Gateway takes 20 to
// 128.
func UnlimitedKeyValue(stack awscdk.Stack, addr string) *string {
	uuid := awscdk.Fn_Select(jsii.Number(2), awscdk.Fn_Split(jsii.String("/"), stack.StackId(), nil))
	hex := awscdk.Fn_Join(jsii.String(""), awscdk.Fn_Split(jsii.String("-"), uuid, nil))
	return awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("tku"), hex, jsii.String(addr)})
}

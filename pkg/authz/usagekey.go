package authz

// EnvUnlimitedUsageKey names the environment variable that gives the token
// authorizer the usage key of the deployment's plan without limits
// (Options.UnlimitedUsageKey). The CDK stack sets it on AWS, where the data
// methods require a key; the local stack sets it for its gateway twin.
const EnvUnlimitedUsageKey = "UNLIMITED_USAGE_KEY"

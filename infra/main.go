// Command infra is the CDK app (cdk.json runs `go run ./infra`). It reads
// the deployment's configuration from CDK context, defines the service
// stack and (when configured) the CI deploy-role stack, and checks both against cdk-nag's
// AwsSolutions rules on every synthesis.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/acmedata/tokenservice/infra/cirole"
	"github.com/acmedata/tokenservice/infra/stack"
)

// Context keys of the CI deploy-role stack, which exists only when
// githubRepository is set.
const (
	ctxGitHubRepository   = "githubRepository"      // owner/name
	ctxGitHubBranch       = "githubBranch"          // default main
	ctxGitHubProviderARN  = "githubOidcProviderArn" // reuse the account's provider
	ctxBootstrapQualifier = "@aws-cdk/core:bootstrapQualifier"
)

func main() {
	err := run()
	jsii.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "infra:", err)
		os.Exit(1)
	}
}

func run() error {
	app := awscdk.NewApp(nil)
	lookup := func(key string) any { return app.Node().TryGetContext(jsii.String(key)) }

	cfg, err := stack.ConfigFromContext(lookup)
	if err != nil {
		return err
	}
	// No account or region: the stacks are environment-agnostic and take
	// both from the credentials that deploy them.
	if _, err := stack.New(app, "TokenService-"+cfg.Stage, stack.Props{Config: cfg}); err != nil {
		return err
	}
	if repo := lookupString(lookup, ctxGitHubRepository); repo != "" {
		_, err := cirole.New(app, "TokenServiceCiRole", cirole.Props{
			Repository:  repo,
			Branch:      lookupString(lookup, ctxGitHubBranch),
			ProviderARN: lookupString(lookup, ctxGitHubProviderARN),
			Qualifier:   lookupString(lookup, ctxBootstrapQualifier),
		})
		if err != nil {
			return err
		}
	}
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	app.Synth(nil)
	return nil
}

func lookupString(lookup func(string) any, key string) string {
	if v := lookup(key); v != nil {
		return fmt.Sprint(v)
	}
	return ""
}

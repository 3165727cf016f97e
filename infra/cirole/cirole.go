// Package cirole is the small stack that lets GitHub Actions deploy the
// service without stored AWS keys: GitHub's OIDC identity provider and one
// role that only workflow runs on the deploying branch of one repository
// can assume, for at most an hour.
//
// The role itself can do one thing: assume the roles `cdk bootstrap`
// created (deploy, asset publishing, lookup). CloudFormation does the
// deploying with the bootstrap's execution role, so CI never holds
// permissions on the service's resources.
//
// An administrator deploys this stack once per account and region (CI
// cannot create the role it needs to run), after `cdk bootstrap`.
package cirole

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

const githubIssuer = "token.actions.githubusercontent.com"

// Props configure the deploy role.
type Props struct {
	awscdk.StackProps
	// Repository is the GitHub "owner/name" whose workflow deploys.
	Repository string
	// Branch is the only ref that may deploy; default "main".
	Branch string
	// ProviderARN names an existing GitHub OIDC provider (an account has at
	// most one per issuer); empty creates it.
	ProviderARN string
	// Qualifier is the CDK bootstrap qualifier; default "hnb659fds".
	Qualifier string
}

var (
	repository  = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$`)
	providerARN = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:oidc-provider/` + regexp.QuoteMeta(githubIssuer) + `$`)
)

// New defines the stack, or says what is wrong with p.
func New(scope constructs.Construct, id string, p Props) (awscdk.Stack, error) {
	if !repository.MatchString(p.Repository) {
		return nil, fmt.Errorf("cirole: repository %q is not owner/name", p.Repository)
	}
	if p.Branch == "" {
		p.Branch = "main"
	}
	if p.Qualifier == "" {
		p.Qualifier = "hnb659fds"
	}
	if p.ProviderARN != "" && !providerARN.MatchString(p.ProviderARN) {
		return nil, errors.New("cirole: ProviderARN is not a GitHub OIDC provider ARN")
	}

	stack := awscdk.NewStack(scope, jsii.String(id), &p.StackProps)
	provider := p.ProviderARN
	if provider == "" {
		provider = *awsiam.NewCfnOIDCProvider(stack, jsii.String("GitHubProvider"), &awsiam.CfnOIDCProviderProps{
			Url:          jsii.String("https://" + githubIssuer),
			ClientIdList: jsii.Strings("sts.amazonaws.com"),
		}).AttrArn()
	}

	role := awsiam.NewRole(stack, jsii.String("DeployRole"), &awsiam.RoleProps{
		Description: jsii.String("GitHub Actions deploys " + p.Repository + " from " + p.Branch),
		AssumedBy: awsiam.NewFederatedPrincipal(jsii.String(provider), &map[string]any{
			"StringEquals": map[string]string{
				githubIssuer + ":aud": "sts.amazonaws.com",
				githubIssuer + ":sub": "repo:" + p.Repository + ":ref:refs/heads/" + p.Branch,
			},
		}, jsii.String("sts:AssumeRoleWithWebIdentity")),
		MaxSessionDuration: awscdk.Duration_Hours(jsii.Number(1)),
	})

	account, region, partition := *awscdk.Aws_ACCOUNT_ID(), *awscdk.Aws_REGION(), *awscdk.Aws_PARTITION()
	var bootstrapRoles []*string
	for _, name := range []string{"deploy", "file-publishing", "lookup"} {
		bootstrapRoles = append(bootstrapRoles, jsii.String(fmt.Sprintf("arn:%s:iam::%s:role/cdk-%s-%s-role-%s-%s",
			partition, account, p.Qualifier, name, account, region)))
	}
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("sts:AssumeRole"),
		Resources: &bootstrapRoles,
	}))

	awscdk.NewCfnOutput(stack, jsii.String("DeployRoleArn"), &awscdk.CfnOutputProps{
		Value:       role.RoleArn(),
		Description: jsii.String("Set as the AWS_DEPLOY_ROLE_ARN variable of the GitHub repository"),
	})
	return stack, nil
}

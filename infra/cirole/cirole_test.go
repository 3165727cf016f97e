package cirole_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/acmedata/tokenservice/infra/cirole"
	"github.com/acmedata/tokenservice/infra/internal/cdktest"
)

func synth(t *testing.T, p cirole.Props) (awscdk.Stack, map[string]cdktest.Resource) {
	t.Helper()
	app := awscdk.NewApp(nil)
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(nil), nil)
	stack, err := cirole.New(app, "CiRole", p)
	if err != nil {
		t.Fatal(err)
	}
	resources, err := cdktest.Resources(assertions.Template_FromStack(stack, nil))
	if err != nil {
		t.Fatal(err)
	}
	return stack, resources
}

func TestOnlyTheDeployingBranchOfTheRepositoryAssumesTheRole(t *testing.T) {
	_, resources := synth(t, cirole.Props{Repository: "acmedata/tokenservice"})
	for id, role := range cdktest.OfType(resources, "AWS::IAM::Role") {
		trust := fmt.Sprint(role.Properties["AssumeRolePolicyDocument"])
		for _, want := range []string{
			"sts:AssumeRoleWithWebIdentity",
			"token.actions.githubusercontent.com:aud:sts.amazonaws.com",
			"token.actions.githubusercontent.com:sub:repo:acmedata/tokenservice:ref:refs/heads/main",
			"StringEquals",
		} {
			if !strings.Contains(trust, want) {
				t.Errorf("%s trust policy lacks %q: %s", id, want, trust)
			}
		}
		if strings.Contains(trust, "StringLike") || strings.Contains(trust, "*") {
			t.Errorf("%s trust policy has a wildcard: %s", id, trust)
		}
		if role.Properties["MaxSessionDuration"] != float64(3600) {
			t.Errorf("%s sessions last %v s, want 3600", id, role.Properties["MaxSessionDuration"])
		}
	}
	if n := len(cdktest.OfType(resources, "AWS::IAM::OIDCProvider")); n != 1 {
		t.Errorf("%d OIDC providers, want 1", n)
	}
}

func TestDeployRoleCanOnlyAssumeTheCDKBootstrapRoles(t *testing.T) {
	stack, resources := synth(t, cirole.Props{Repository: "acmedata/tokenservice"})
	for id, policy := range cdktest.OfType(resources, "AWS::IAM::Policy") {
		doc := fmt.Sprint(policy.Properties["PolicyDocument"])
		for _, role := range []string{"deploy", "file-publishing", "lookup"} {
			if !strings.Contains(doc, "cdk-hnb659fds-"+role+"-role-") {
				t.Errorf("%s cannot assume the %s role: %s", id, role, doc)
			}
		}
		if strings.Count(doc, "Action:") != 1 || !strings.Contains(doc, "Action:sts:AssumeRole ") || strings.Contains(doc, "*") {
			t.Errorf("%s allows more than sts:AssumeRole on named roles: %s", id, doc)
		}
	}
	annotations := assertions.Annotations_FromStack(stack)
	for _, finding := range *annotations.FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))) {
		t.Errorf("%s: %v", *finding.Id, finding.Entry.Data)
	}
}

func TestAnExistingProviderIsReused(t *testing.T) {
	arn := "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
	_, resources := synth(t, cirole.Props{Repository: "acmedata/tokenservice", ProviderARN: arn, Branch: "release"})
	if n := len(cdktest.OfType(resources, "AWS::IAM::OIDCProvider")); n != 0 {
		t.Errorf("%d OIDC providers created, want the existing one reused", n)
	}
	for id, role := range cdktest.OfType(resources, "AWS::IAM::Role") {
		trust := fmt.Sprint(role.Properties["AssumeRolePolicyDocument"])
		if !strings.Contains(trust, arn) || !strings.Contains(trust, "ref:refs/heads/release") {
			t.Errorf("%s does not trust %s on release: %s", id, arn, trust)
		}
	}
}

func TestPropsAreChecked(t *testing.T) {
	for _, p := range []cirole.Props{
		{Repository: "tokenservice"},
		{Repository: "acmedata/tokenservice", ProviderARN: "arn:aws:iam::123456789012:oidc-provider/example.com"},
	} {
		if _, err := cirole.New(awscdk.NewApp(nil), "CiRole", p); err == nil {
			t.Errorf("New(%+v) succeeded, want an error", p)
		}
	}
}

package stack

import (
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/acmedata/tokenservice/pkg/routes"
)

// suppressNagFindings records, with its reason, every cdk-nag AwsSolutions
// finding the design accepts. Each is scoped as narrowly as cdk-nag
// allows, so a new finding of the same rule elsewhere still fails.
func (s *TokenService) suppressNagFindings() {
	suppress := func(construct any, id, reason string, appliesTo ...any) {
		sup := &cdknag.NagPackSuppression{Id: jsii.String(id), Reason: jsii.String(reason)}
		if len(appliesTo) > 0 {
			sup.AppliesTo = &appliesTo
		}
		cdknag.NagSuppressions_AddResourceSuppressions(construct, &[]*cdknag.NagPackSuppression{sup}, jsii.Bool(true))
	}

	for _, fn := range s.Functions {
		suppress(fn.Role(), "AwsSolutions-IAM5",
			"GrantReadData/GrantReadWriteData cover the table's own secondary indexes (table-arn/index/*), which the queries use; no other table is reachable.",
			&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::<[A-Za-z0-9]+\.Arn>\/index\/\*$/g`)})
	}

	for _, f := range functions {
		if f.plans == 0 {
			continue
		}
		suppress(s.Functions[f.name].Role(), "AwsSolutions-IAM5",
			"The plans engine makes and deletes usage plans and API keys at run time, so their IDs cannot be named in advance; API Gateway's IAM cannot scope them by name or tag for every call, and the stage they attach to is named exactly.",
			&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::arn:<AWS::Partition>:apigateway:<AWS::Region>::\/(usageplans|apikeys)\/\*$/g`)})
	}

	suppress(s.API, "AwsSolutions-APIG2",
		"The functions validate every request strictly and answer the product's JSON error body; a gateway validator would answer a different shape.")
	suppress(s.API, "AwsSolutions-APIG3",
		"WAF costs money at rest; the stage is throttled and every data and admin route is behind an authorizer. A deployer may associate a web ACL.")
	suppress(s.API, "AwsSolutions-COG4",
		"Callers authenticate with data tokens and API keys (Lambda REQUEST authorizers) and operators with SigV4 (AWS_IAM), not Cognito users.")
	suppress(s.API, "AwsSolutions-IAM4",
		"API Gateway's account-wide CloudWatch role uses the AWS managed policy made for it, which access logging requires.",
		"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs")

	for _, r := range routes.All {
		if r.Auth != routes.Public {
			continue
		}
		suppress(s.Methods[r], "AwsSolutions-APIG4",
			"A public route by design (pkg/routes): it reveals nothing about accounts or tokens.")
	}
}

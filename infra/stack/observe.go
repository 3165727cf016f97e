package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/jsii-runtime-go"

	"github.com/acmedata/tokenservice/infra/tokenauth"
)

// createAlarms watches what an operator must act on. They carry no actions:
// a deployer adds an SNS topic or a pager of their choosing.
func (s *TokenService) createAlarms() {
	fiveMinutes := awscdk.Duration_Minutes(jsii.Number(5))
	sum := &awscloudwatch.MetricOptions{Period: fiveMinutes, Statistic: jsii.String("Sum")}
	anyError := func(id, description string, metric awscloudwatch.IMetric) {
		awscloudwatch.NewAlarm(s.Stack, jsii.String(id), &awscloudwatch.AlarmProps{
			AlarmDescription:   jsii.String(description),
			Metric:             metric,
			Threshold:          jsii.Number(1),
			EvaluationPeriods:  jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
	}

	// An authorizer error is not a refusal (those are answers): it means
	// callers get 503 and nobody is authorised.
	anyError("TokenAuthorizerErrors", "The token authorizer failed: data callers get 503.",
		s.Functions[tokenauth.FunctionName].MetricErrors(sum))
	anyError("KeyAuthorizerErrors", "The API-key authorizer failed: admins get 503.",
		s.Functions[keyAuthorizer].MetricErrors(sum))
	// CloudWatch Logs retries a failed delivery, then drops it: every
	// recorder error risks lost usage records.
	anyError("RecorderErrors", "The usage recorder failed: usage records may be missing.",
		s.Functions[recorder].MetricErrors(sum))

	// 5XXError is 0 or 1 per request, so its average is the 5xx rate.
	awscloudwatch.NewAlarm(s.Stack, jsii.String("ServerErrorRate"), &awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String("More than 5% of requests answered 5xx over 15 minutes."),
		Metric: s.API.DeploymentStage().MetricServerError(&awscloudwatch.MetricOptions{
			Period: fiveMinutes, Statistic: jsii.String("Average"),
		}),
		Threshold:          jsii.Number(0.05),
		EvaluationPeriods:  jsii.Number(3),
		DatapointsToAlarm:  jsii.Number(2),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
}

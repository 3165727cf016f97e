package stack

import (
	"encoding/json"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/jsii-runtime-go"

	"github.com/acmedata/tokenservice/infra/tokenauth"
	"github.com/acmedata/tokenservice/pkg/authctx"
)

// accessLogFormat is the stage's JSON access-log line, which the usage
// recorder turns into usage records. Every value is quoted because API
// Gateway writes "-" for a missing one. It names $context.resourcePath
// (the route template) and never $context.path, which would carry a token
// presented as a path segment; nothing here can hold a secret.
var accessLogFormat = func() string {
	authorizer := func(key string) string { return "$context.authorizer." + key }
	b, err := json.Marshal(map[string]string{
		"requestId":        "$context.requestId",
		"requestTime":      "$context.requestTime",
		"requestTimeEpoch": "$context.requestTimeEpoch",
		"httpMethod":       "$context.httpMethod",
		"resourcePath":     "$context.resourcePath",
		"status":           "$context.status",
		"responseLatency":  "$context.responseLatency",
		"sourceIp":         "$context.identity.sourceIp",
		"errorType":        "$context.error.responseType",
		authctx.AccountID:  authorizer(authctx.AccountID),
		authctx.APIKeyID:   authorizer(authctx.APIKeyID),
		authctx.TokenID:    authorizer(authctx.TokenID),
		authctx.TokenType:  authorizer(authctx.TokenType),
		authctx.UserID:     authorizer(authctx.UserID),
		authctx.Service:    authorizer(authctx.Service),
		authctx.Outcome:    authorizer(authctx.Outcome),
	})
	if err != nil {
		panic(err) // a map of strings always marshals
	}
	return string(b)
}()

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

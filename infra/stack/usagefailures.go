package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdadestinations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	usagerecorder "github.com/acmedata/tokenservice/pkg/usage/recorder"
)

// Outputs a replay needs (make redrive reads them).
const (
	OutputUsageFailureQueue = "UsageFailureQueueUrl"
	OutputUsageRedrive      = "UsageRedriveMappingId"
)

// createUsageFailurePath keeps every delivery the recorder could not
// write (docs/usage.md, "Failure paths"). CloudWatch Logs invokes the
// recorder asynchronously: Lambda retries a failed delivery twice, then
// sends it, whole, to an encrypted SQS queue kept 14 days, whose depth
// raises an alarm. A disabled SQS event source mapping from that queue
// back to the recorder is the replay: make redrive enables it with the
// operator's own credentials until the queue is empty, then disables it.
// Lines the recorder sets aside (they cannot become records) are counted
// from its log and raise an alarm too.
func (s *TokenService) createUsageFailurePath() {
	fn := s.Functions[recorder]
	queue := awssqs.NewQueue(s.Stack, jsii.String("UsageFailures"), &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
		// Six times the recorder's timeout, as Lambda advises for a queue
		// a function reads: a replayed delivery is not handed out twice.
		VisibilityTimeout: awscdk.Duration_Minutes(jsii.Number(12)),
		RemovalPolicy:     s.cfg.removalPolicy(),
	})
	fn.ConfigureAsyncInvoke(&awslambda.EventInvokeConfigOptions{
		OnFailure:     awslambdadestinations.NewSqsDestination(queue),
		RetryAttempts: jsii.Number(2),
		MaxEventAge:   awscdk.Duration_Hours(jsii.Number(6)),
	})
	redrive := awslambdaeventsources.NewSqsEventSource(queue, &awslambdaeventsources.SqsEventSourceProps{
		BatchSize:               jsii.Number(1),
		Enabled:                 jsii.Bool(false),
		ReportBatchItemFailures: jsii.Bool(true),
	})
	fn.AddEventSource(redrive)

	fiveMinutes := awscdk.Duration_Minutes(jsii.Number(5))
	awscloudwatch.NewAlarm(s.Stack, jsii.String("UsageFailuresWaiting"), &awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String("Usage deliveries the recorder could not write wait in the failure queue: fix the cause, then make redrive."),
		Metric: queue.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
			Period: fiveMinutes, Statistic: jsii.String("Maximum"),
		}),
		Threshold:          jsii.Number(1),
		EvaluationPeriods:  jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	setAside := awslogs.NewMetricFilter(s.Stack, jsii.String("UsageSetAside"), &awslogs.MetricFilterProps{
		LogGroup:        fn.LogGroup(),
		FilterPattern:   awslogs.FilterPattern_StringValue(jsii.String("$.msg"), jsii.String("="), jsii.String(usagerecorder.SetAsideMessage)),
		MetricNamespace: jsii.String("TokenService"),
		MetricName:      jsii.String("UsageLinesSetAside"),
		MetricValue:     jsii.String("1"),
	})
	awscloudwatch.NewAlarm(s.Stack, jsii.String("UsageLinesSetAside"), &awscloudwatch.AlarmProps{
		AlarmDescription:   jsii.String("The recorder set aside usage lines it cannot record (see its log, msg \"" + usagerecorder.SetAsideMessage + "\")."),
		Metric:             setAside.Metric(&awscloudwatch.MetricOptions{Period: fiveMinutes, Statistic: jsii.String("Sum")}),
		Threshold:          jsii.Number(1),
		EvaluationPeriods:  jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})

	awscdk.NewCfnOutput(s.Stack, jsii.String(OutputUsageFailureQueue), &awscdk.CfnOutputProps{Value: queue.QueueUrl()})
	awscdk.NewCfnOutput(s.Stack, jsii.String(OutputUsageRedrive), &awscdk.CfnOutputProps{Value: redrive.EventSourceMappingId()})
	cdknag.NagSuppressions_AddResourceSuppressions(queue, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-SQS3"),
		Reason: jsii.String("This queue is the dead-letter destination of the usage recorder; nothing lies beyond it but the alarm and make redrive."),
	}}, jsii.Bool(true))
}

// Package gofn builds a Lambda function from a Go binary the way this
// project ships every function: the Makefile compiles functions/<name> for
// linux/arm64 with -tags lambda.norpc into <assetDir>/<name>/bootstrap, and
// the function runs that bootstrap on the provided.al2023 runtime on
// Graviton.
//
// Each function gets its own log group (retention set, removal policy
// following the stack's) and its own role that may write only to that log
// group. Avoiding the managed AWSLambdaBasicExecutionRole keeps the role
// free of account-wide logs:* permissions, and avoiding the logRetention
// property avoids the extra Node.js custom-resource function CDK would add.
package gofn

import (
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Props configure one function.
type Props struct {
	// AssetDir holds one directory per function, each with its bootstrap
	// (the Makefile's bin/). Tests point it at placeholder files.
	AssetDir string
	// Name is the function's directory under functions/ and under AssetDir.
	Name string
	// Environment is passed to the function as is; values may be CDK
	// tokens such as a table's name.
	Environment map[string]string
	// MemoryMiB defaults to 256: Lambda allots CPU in proportion to memory,
	// and 256 MiB keeps cold starts of a Go binary short.
	MemoryMiB float64
	// Timeout defaults to 10 seconds, well under API Gateway's 29.
	Timeout awscdk.Duration
	// LogRetention is how long the function's log lines are kept.
	LogRetention awslogs.RetentionDays
	// RemovalPolicy applies to the log group.
	RemovalPolicy awscdk.RemovalPolicy
}

// New creates the function, its log group (fn.LogGroup()) and its role
// under scope.
func New(scope constructs.Construct, id string, p Props) awslambda.Function {
	logs := awslogs.NewLogGroup(scope, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
		Retention:     p.LogRetention,
		RemovalPolicy: p.RemovalPolicy,
	})
	role := awsiam.NewRole(scope, jsii.String(id+"Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("Runs the " + p.Name + " function"),
	})
	logs.GrantWrite(role)

	memory, timeout := p.MemoryMiB, p.Timeout
	if memory == 0 {
		memory = 256
	}
	if timeout == nil {
		timeout = awscdk.Duration_Seconds(jsii.Number(10))
	}
	env := make(map[string]*string, len(p.Environment))
	for k, v := range p.Environment {
		env[k] = jsii.String(v)
	}
	fn := awslambda.NewFunction(scope, jsii.String(id), &awslambda.FunctionProps{
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("bootstrap"),
		Code:         awslambda.Code_FromAsset(jsii.String(filepath.Join(p.AssetDir, p.Name)), nil),
		Environment:  &env,
		MemorySize:   jsii.Number(memory),
		Timeout:      timeout,
		Role:         role,
		LogGroup:     logs,
	})
	return fn
}

// Package localstack assembles the whole service for this machine: the
// stores over DynamoDB (Local), the token domain, every Lambda handler and
// both authorizers of pkg/routes, the usage pipeline, and the API Gateway
// emulation of pkg/localgw in front of them. `make run` (scripts/localstack)
// and the API tests build the stack through Build, so what the tests drive
// is exactly what a developer runs.
//
// # Parity with AWS
//
// Each function is built from the same constructor its functions/<name>
// main uses, over the same store types, and is invoked by the gateway with
// the events API Gateway would send. Usage travels the same road as on AWS:
// the gateway writes one access-log line per request (accesslog.Format's
// fields) and the token authorizer writes its decision lines; two
// cwlogs.Shippers, standing in for the CloudWatch Logs subscriptions,
// deliver them in batches to the recorder function's handler: every
// access-log line, and the decision lines the AWS subscription's filter
// passes ({ $.decision = "unauthorized" }). Flush delivers what is queued
// at once; Close flushes both, so a stopped stack loses no usage it has
// answered.
//
// All functions share one DynamoDB client, where on AWS each Lambda has its
// own; they share nothing else.
package stack

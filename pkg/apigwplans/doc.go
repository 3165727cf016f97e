// Package apigwplans is the plans.Engine of a deployment on AWS: API
// Gateway's usage plans, driven through its control plane.
//
// # Mapping
//
// Each of our plans is one usage plan, found again by its name,
// "tokenservice-<restApiId>-<planId>" (the REST API's ID keeps two
// deployments in one region apart), associated with the API's stage, with
// the plan's rate and burst as its throttle and its quota (if any) as a
// quota with offset 0, so that periods start at UTC midnight, Monday or
// the first of the month, as plans.Period says. The usage plans are on
// the extra stages too (EnvExtraStages): deployers' own APIs behind the
// token authorizer, where the same keys must be in a plan of their stage. Each usage key is one API
// key whose value is the key's value and whose name,
// "tokenservice-<restApiId>-<hash>", is derived from the value by SHA-256
// (the name shows in consoles and listings; the value must not), so a
// retry after a crash finds the key it made instead of making another.
// The key is a usage plan key of its plan's usage plan.
//
// # Idempotence
//
// The store and the control plane cannot change in one transaction, so a
// reconciler calls the engine until it agrees with the store; every
// method may be repeated and run concurrently with itself. PutPlan and
// PutKey create only what they do not find; DeletePlan and DeleteKey of
// something absent do nothing. API Gateway has no idempotency token for
// CreateUsagePlan, so two reconcilers racing on a plan's first creation
// can make two usage plans of the same name: every method then uses the
// one with the smallest ID, and the next PutPlan moves the other's keys
// into it and deletes it.
//
// # Throttling and costs
//
// The control plane is slow and throttled (CreateApiKey: 5 requests/s per
// account; most others 10/s): the SDK's standard retryer backs off on
// TooManyRequestsException (config.APIGateway bounds it). The engine
// remembers the IDs it looked up (usage plans by plan ID, API keys by
// name) for the life of the process, and forgets one the control plane
// says is gone, so a warm function makes one call for most operations.
package apigwplans

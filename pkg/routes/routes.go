// Package routes is the one list of the service's HTTP routes: which Lambda
// function serves each and which authorizer guards it. The CDK stack builds
// the REST API from it and the local gateway routes by it, so a route added
// here exists in both.
package routes

// Function names a Lambda function that serves routes; it is also the
// directory of its main package under functions/.
type Function string

// The proxy-integration functions.
const (
	Issue    Function = "issue"    // token issuance
	Clone    Function = "clone"    // token cloning
	Manage   Function = "manage"   // the rest of the admin API
	Operator Function = "operator" // operator routes
	Data     Function = "data"     // the demo data backend
	Health   Function = "health"   // health check
	Usage    Function = "usage"    // the usage history query
)

// Auth says how a route is protected.
type Auth string

// Route protections.
const (
	Public     Auth = "none"     // no authorizer
	TokenAuth  Auth = "token"    // the data-token REQUEST authorizer (functions/authorizer)
	APIKeyAuth Auth = "apikey"   // the API-key REQUEST authorizer (functions/keyauthorizer)
	IAMAuth    Auth = "operator" // AWS_IAM on AWS; the operator key on the local stack
)

// Route is one method on one resource path, in API Gateway's template
// syntax ({name} for a parameter, {name+} for a greedy one).
type Route struct {
	Method   string
	Path     string
	Function Function
	Auth     Auth
}

// All is every route of the service.
var All = []Route{
	{"GET", "/healthz", Health, Public},

	{"GET", "/data/{service}/{proxy+}", Data, TokenAuth},
	{"GET", "/feed/{token}/{service}/{proxy+}", Data, TokenAuth},

	{"POST", "/operator/accounts", Operator, IAMAuth},
	{"GET", "/operator/accounts/{accountId}", Operator, IAMAuth},
	{"PATCH", "/operator/accounts/{accountId}", Operator, IAMAuth},
	{"POST", "/operator/accounts/{accountId}/api-key", Operator, IAMAuth},
	{"PUT", "/operator/tokens/{tokenId}/settings", Operator, IAMAuth},

	{"GET", "/admin/account", Manage, APIKeyAuth},
	{"POST", "/admin/api-key/rotate", Manage, APIKeyAuth},
	{"POST", "/admin/users", Manage, APIKeyAuth},
	{"GET", "/admin/users", Manage, APIKeyAuth},
	{"GET", "/admin/users/{userId}", Manage, APIKeyAuth},
	{"PATCH", "/admin/users/{userId}", Manage, APIKeyAuth},
	{"DELETE", "/admin/users/{userId}", Manage, APIKeyAuth},
	{"GET", "/admin/services", Manage, APIKeyAuth},
	{"GET", "/admin/services/{service}", Manage, APIKeyAuth},
	{"GET", "/admin/services/{service}/users", Manage, APIKeyAuth},
	{"PUT", "/admin/services/{service}/users/{userId}", Manage, APIKeyAuth},
	{"POST", "/admin/services/{service}/tokens", Issue, APIKeyAuth},
	{"GET", "/admin/services/{service}/tokens", Manage, APIKeyAuth},
	{"GET", "/admin/services/{service}/tokens/default", Manage, APIKeyAuth},
	{"GET", "/admin/tokens/{tokenId}", Manage, APIKeyAuth},
	{"PATCH", "/admin/tokens/{tokenId}", Manage, APIKeyAuth},
	{"DELETE", "/admin/tokens/{tokenId}", Manage, APIKeyAuth},
	{"POST", "/admin/tokens/{tokenId}/clone", Clone, APIKeyAuth},
	{"GET", "/admin/usage", Usage, APIKeyAuth},
}

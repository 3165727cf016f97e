// Package routes is the one list of the service's HTTP routes: which Lambda
// function serves each and which authorizer guards it. Everything that
// knows a route derives it from here: the CDK stack builds the REST API
// from All, the local gateway routes by it, and each function's handlers
// register against these values (httpapi.NewRouter refuses a function
// whose handlers and routes do not match one for one), so no handler
// restates a path.
package routes

import "net/http"

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
	Console  Function = "console"  // the admin web console's static files
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

// The routes, by the operation each names.
var (
	HealthCheck = Route{http.MethodGet, "/healthz", Health, Public}

	DataQuery = Route{http.MethodGet, "/data/{service}/{proxy+}", Data, TokenAuth}
	DataFeed  = Route{http.MethodGet, "/feed/{token}/{service}/{proxy+}", Data, TokenAuth}

	CreateAccount    = Route{http.MethodPost, "/operator/accounts", Operator, IAMAuth}
	ListAccounts     = Route{http.MethodGet, "/operator/accounts", Operator, IAMAuth}
	GetAccount       = Route{http.MethodGet, "/operator/accounts/{accountId}", Operator, IAMAuth}
	UpdateAccount    = Route{http.MethodPatch, "/operator/accounts/{accountId}", Operator, IAMAuth}
	ReplaceAPIKey    = Route{http.MethodPost, "/operator/accounts/{accountId}/api-key", Operator, IAMAuth}
	PutTokenSettings = Route{http.MethodPut, "/operator/tokens/{tokenId}/settings", Operator, IAMAuth}
	// ProtectToken is an operator's PATCH of a token: only "protected"
	// (admins have their own PATCH for everything else).
	ProtectToken     = Route{http.MethodPatch, "/operator/tokens/{tokenId}", Operator, IAMAuth}
	ListAccountAudit = Route{http.MethodGet, "/operator/accounts/{accountId}/audit", Operator, IAMAuth}
	// ReportLeaks disables the live tokens among strings found in public.
	ReportLeaks = Route{http.MethodPost, "/operator/leaks", Operator, IAMAuth}
	// ReportGitHubLeaks is GitHub's secret scanning partner endpoint: no
	// authorizer, every request verified by its ECDSA signature
	// (pkg/ghscan) before anything is read.
	ReportGitHubLeaks = Route{http.MethodPost, "/leaks/github", Operator, Public}

	// Plans (pkg/plans) are the operators' alone: admins read theirs on
	// the service and token representations but never set them.
	CreatePlan     = Route{http.MethodPost, "/operator/plans", Operator, IAMAuth}
	ListPlans      = Route{http.MethodGet, "/operator/plans", Operator, IAMAuth}
	GetPlan        = Route{http.MethodGet, "/operator/plans/{planId}", Operator, IAMAuth}
	UpdatePlan     = Route{http.MethodPatch, "/operator/plans/{planId}", Operator, IAMAuth}
	DeletePlan     = Route{http.MethodDelete, "/operator/plans/{planId}", Operator, IAMAuth}
	PutServicePlan = Route{http.MethodPut, "/operator/accounts/{accountId}/services/{service}/plan", Operator, IAMAuth}
	PutTokenPlan   = Route{http.MethodPut, "/operator/tokens/{tokenId}/plan", Operator, IAMAuth}

	GetOwnAccount    = Route{http.MethodGet, "/admin/account", Manage, APIKeyAuth}
	RotateAPIKey     = Route{http.MethodPost, "/admin/api-key/rotate", Manage, APIKeyAuth}
	CreateUser       = Route{http.MethodPost, "/admin/users", Manage, APIKeyAuth}
	ListUsers        = Route{http.MethodGet, "/admin/users", Manage, APIKeyAuth}
	GetUser          = Route{http.MethodGet, "/admin/users/{userId}", Manage, APIKeyAuth}
	UpdateUser       = Route{http.MethodPatch, "/admin/users/{userId}", Manage, APIKeyAuth}
	DeleteUser       = Route{http.MethodDelete, "/admin/users/{userId}", Manage, APIKeyAuth}
	ListServices     = Route{http.MethodGet, "/admin/services", Manage, APIKeyAuth}
	GetService       = Route{http.MethodGet, "/admin/services/{service}", Manage, APIKeyAuth}
	ListServiceUsers = Route{http.MethodGet, "/admin/services/{service}/users", Manage, APIKeyAuth}
	SetAccess        = Route{http.MethodPut, "/admin/services/{service}/users/{userId}", Manage, APIKeyAuth}
	IssueToken       = Route{http.MethodPost, "/admin/services/{service}/tokens", Issue, APIKeyAuth}
	ListTokens       = Route{http.MethodGet, "/admin/services/{service}/tokens", Manage, APIKeyAuth}
	GetDefaultToken  = Route{http.MethodGet, "/admin/services/{service}/tokens/default", Manage, APIKeyAuth}
	GetToken         = Route{http.MethodGet, "/admin/tokens/{tokenId}", Manage, APIKeyAuth}
	UpdateToken      = Route{http.MethodPatch, "/admin/tokens/{tokenId}", Manage, APIKeyAuth}
	DeleteToken      = Route{http.MethodDelete, "/admin/tokens/{tokenId}", Manage, APIKeyAuth}
	CloneToken       = Route{http.MethodPost, "/admin/tokens/{tokenId}/clone", Clone, APIKeyAuth}
	ListUsage        = Route{http.MethodGet, "/admin/usage", Usage, APIKeyAuth}
	UsageSummary     = Route{http.MethodGet, "/admin/usage/summary", Usage, APIKeyAuth}
	ListAudit        = Route{http.MethodGet, "/admin/audit", Manage, APIKeyAuth}

	// The console is static files (pkg/console): public, like any web
	// page; it reaches the admin routes with the key a person types in.
	// HEAD too: a browser or a link checker may ask for the headers
	// alone, and API Gateway answers only the methods a resource has.
	ConsolePage      = Route{http.MethodGet, "/console", Console, Public}
	ConsoleAsset     = Route{http.MethodGet, "/console/{proxy+}", Console, Public}
	ConsolePageHead  = Route{http.MethodHead, "/console", Console, Public}
	ConsoleAssetHead = Route{http.MethodHead, "/console/{proxy+}", Console, Public}
	// OpenAPIDocument is the API's description (pkg/openapi) as JSON, for
	// client generators: public like the console's files, and served by
	// the same function from its binary.
	OpenAPIDocument = Route{http.MethodGet, "/openapi.json", Console, Public}
)

// MinimumCompressionSize is the REST API's minimumCompressionSize: API
// Gateway gzips an answer of at least this many bytes for a client that
// accepts gzip (the console's files, long lists). infra/stack sets it and
// the local gateway does the same.
const MinimumCompressionSize = 1024

// All is every route of the service.
var All = []Route{
	HealthCheck,

	DataQuery,
	DataFeed,

	CreateAccount,
	ListAccounts,
	GetAccount,
	UpdateAccount,
	ReplaceAPIKey,
	PutTokenSettings,
	ProtectToken,
	ListAccountAudit,
	ReportLeaks,
	ReportGitHubLeaks,
	CreatePlan,
	ListPlans,
	GetPlan,
	UpdatePlan,
	DeletePlan,
	PutServicePlan,
	PutTokenPlan,

	GetOwnAccount,
	RotateAPIKey,
	CreateUser,
	ListUsers,
	GetUser,
	UpdateUser,
	DeleteUser,
	ListServices,
	GetService,
	ListServiceUsers,
	SetAccess,
	IssueToken,
	ListTokens,
	GetDefaultToken,
	GetToken,
	UpdateToken,
	DeleteToken,
	CloneToken,
	ListUsage,
	UsageSummary,
	ListAudit,

	ConsolePage,
	ConsoleAsset,
	ConsolePageHead,
	ConsoleAssetHead,
	OpenAPIDocument,
}

// Of returns the routes fn serves, in the order of All.
func Of(fn Function) []Route {
	var out []Route
	for _, r := range All {
		if r.Function == fn {
			out = append(out, r)
		}
	}
	return out
}

// String is the route as API Gateway names a method: "GET /admin/users".
func (r Route) String() string { return r.Method + " " + r.Path }

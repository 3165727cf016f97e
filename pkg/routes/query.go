package routes

// Query lists the query parameters each admin and operator route reads.
// Those routes refuse any other parameter with a 400 (httpapi.Router), as
// they refuse an unknown body field: a misspelt filter (?stauts=active)
// must not answer an unfiltered list as if it were the filtered one. A
// route of an API-key or operator protection that is not listed takes no
// query parameters. Data and public routes are not judged: a deployer's
// backend reads what it likes.
var Query = map[Route][]string{
	ListAccounts:     {"status", "service", "name", "limit", "cursor"},
	ListAccountAudit: {"action", "targetId", "from", "to", "limit", "cursor"},
	ListPlans:        {"limit", "cursor"},
	ListUsers:        {"limit", "cursor"},
	ListServiceUsers: {"limit", "cursor"},
	ListTokens:       {"type", "userId", "status", "name", "limit", "cursor"},
	ListUsage:        {"service", "tokenId", "userId", "status", "from", "to", "format", "limit", "cursor"},
	UsageSummary:     {"groupBy", "interval", "service", "tokenId", "userId", "from", "to"},
	ListAudit:        {"action", "targetId", "from", "to", "limit", "cursor"},
}

// StrictQuery reports whether r refuses query parameters it does not list
// in Query: every route behind the API-key authorizer or operator auth.
func (r Route) StrictQuery() bool { return r.Auth == APIKeyAuth || r.Auth == IAMAuth }

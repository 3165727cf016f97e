// Package tokens is the domain of the service: accounts, their users and
// their tokens, the rules those live by (docs/api.md, "Token rules"), and
// the verdict on a presented token. It imports neither the Lambda events
// nor the DynamoDB SDK; stores and handlers adapt to it, not the reverse.
//
// # The model
//
//   - An Account is a customer organisation: a name, a status (active or
//     closed), the services it subscribes to (from the deployment's
//     catalogue, Config.Services) and exactly one current APIKey. Each key
//     replacement starts a new key generation; a token remembers the
//     generation of the key that authorised its creation, which is how rule 7
//     (a replaced key stops every token made under it) is decided.
//   - A User belongs to one account, has an email unique within it, and per
//     service an access switch that starts off.
//   - A Token is for one service of one account, bound to one user (a user
//     token) or to none (userless). Its secret is made by pkg/secret, shown
//     once by the call that creates it (IssueToken, CloneToken) and kept only
//     as a hash; everything else about it is a TokenView.
//   - Settings are the operator's flat restrictions on a token; admins read
//     them, clones copy them, backends receive them.
//
// # Deciding on a token
//
// Verify takes a Credential — the token found by its secret's hash, with the
// gates it depends on (its account's status, services and key generation;
// its user's access) — and answers a typed Outcome: Valid, or the one
// reason it is refused. Callers branch on the Outcome (the authorizer maps
// it to 401 or 403), never on strings. How a store assembles a Credential
// is the store's business; docs/data-model.md explains the DynamoDB one.
//
// # Use cases and stores
//
// Manager is the use cases an admin or operator drives: accounts, keys,
// users, access, tokens. It validates input (validate.go), applies the
// rules, and persists through Store, the narrow interface this package
// declares and pkg/dynamostore (and the in-memory pkg/testkit/memstore)
// implement; both pass the one suite in pkg/testkit/storesuite.
//
// # Errors
//
// Failures are *apperr.Error values of a Kind (invalid input, not found,
// conflict, throttled, unavailable) with a public code and message apart
// from the internal cause; pkg/httpapi maps each Kind to one status. Listing
// calls take and answer pkg/paging values.
package tokens

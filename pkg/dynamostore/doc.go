// Package dynamostore implements the domain's stores (tokens.Store,
// tokens.CredentialStore) and the usage recorder's MarkUsed on the single
// core table of pkg/schema. docs/data-model.md is the full design; in short:
//
//   - One partition per account (ACC#<id>) holds the account, its users,
//     their email claims and its tokens, so every admin listing is one
//     strongly consistent Query of one partition (the two local secondary
//     indexes, byService and byUser, are strongly consistent too). IDs are
//     ULIDs, so key order is creation order. There is no Scan anywhere.
//   - The authorizer decides with one GetItem: a credential item keyed by
//     the token's secret hash carries the token record and copies of every
//     gate (account status, services and key generation, the user's access).
//   - Writes that change a gate commit the owner item first, conditionally
//     on its Version, then fan out to the credentials of the affected tokens
//     with writes conditional on the credential holding an older version of
//     that owner. Fan-outs therefore commute: an older one can never undo a
//     newer one, and re-running one reconciles. CreateToken closes the
//     remaining race by checking, in its transaction, that the account and
//     user it copied gates from still have the versions it read.
//   - Every conditional failure maps to apperr.ErrStale (or NotFound or
//     Conflict where that is the truth); throttling to apperr.Throttled and
//     network failures to apperr.Unavailable, by the SDK's typed errors
//     (pkg/dynamoerr, shared with pkg/usagestore).
//
// Times are stored as RFC 3339 UTC strings with a fixed nine-digit fraction,
// so that they also compare correctly as strings inside condition
// expressions (MarkUsed).
package dynamostore

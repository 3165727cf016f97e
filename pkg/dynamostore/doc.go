// Package dynamostore implements the domain's stores (tokens.Store,
// tokens.CredentialStore) and the usage recorder's MarkUsed on the single
// core table of pkg/schema. docs/data-model.md is the full design; in short:
//
//   - One partition per account (ACC#<id>) holds the account, its users,
//     their email claims and its tokens, so every admin listing is one
//     strongly consistent Query of one partition (the two local secondary
//     indexes, byService and byUser, are strongly consistent too). IDs are
//     ULIDs, so key order is creation order. There is no Scan anywhere.
//   - Gates are shared, never copied: the authorizer reads the token's own
//     item by its secret's hash (CRED#<hash>), then the account item (one
//     GetItem) or, for a user token, the account and user items (one
//     BatchGetItem). A token is
//     replaced (rule 7) when its key generation is older than the
//     account's, which is derived at read time. So closing an account,
//     changing its services, replacing its key, switching a user's access
//     or deleting a user is one transaction whatever the account holds.
//   - Creates are conditional on the gates themselves: a token is written
//     only while its account is active, subscribes its service and has
//     the token's key generation current, and its user exists with access.
//     A concurrent change either commits first (the create fails, with the
//     precise reason) or after (and the token reads as changed).
//   - Optimistic concurrency stays in here: Update* methods read the item
//     with its version, apply the caller's change and write on condition
//     the version is unchanged, retrying a lost race (optimistic). The
//     General tab's counts are ADDs in the same transactions.
//   - Deleting a user leaves a sweep item; Sweep removes the user's token
//     items later, in small transactions, resumable after any crash.
//   - Every conditional failure maps to apperr.ErrStale (or NotFound or
//     Conflict where that is the truth); throttling to apperr.Throttled and
//     network failures to apperr.Unavailable, by the SDK's typed errors
//     (pkg/dynamoerr, shared with pkg/usagestore).
//
// Times are stored as RFC 3339 UTC strings with a fixed nine-digit fraction,
// so that they also compare correctly as strings inside condition
// expressions (MarkUsed).
package dynamostore

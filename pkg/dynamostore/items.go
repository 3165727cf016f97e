package dynamostore

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acmedata/tokenservice/pkg/restrict"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// Key attribute names and key shapes of the core table (docs/data-model.md).
const (
	attrPK     = "pk"
	attrSK     = "sk"
	attrSvcSK  = "svcSk"
	attrUserSK = "userSk"
	attrNameSK = "nameSk"
	// The token listing indexes' sort keys (tokenKeys) and the expiry
	// index's keys, on token items only.
	attrStateSK  = "stateSk"
	attrTypeSK   = "typeSk"
	attrExpiryPK = "expiryPk"
	attrExpirySK = "expirySk"
	// The accounts indexes' keys, on account items only.
	attrListPK     = "listPk"
	attrListSK     = "listSk"
	attrListNameSK = "listNameSk"

	skAccount   = "ACCOUNT"
	skCred      = "CRED"
	skTokenID   = "TOKID"
	skKey       = "KEY"
	prefixUser  = "USER#"
	prefixEmail = "EMAIL#"
	prefixToken = "TOKEN#"
	prefixStats = "STATS#"

	// pkAccounts is the one partition of the accounts indexes.
	pkAccounts = "ACCOUNTS"

	// pkSweeps is the partition of the sweep items: one per deleted user
	// whose token items remain to be removed.
	pkSweeps = "SWEEPS"
)

func accountPK(accountID string) string     { return "ACC#" + accountID }
func userSK(userID string) string           { return prefixUser + userID }
func emailSK(lowerEmail string) string      { return prefixEmail + lowerEmail }
func tokenSK(tokenID string) string         { return prefixToken + tokenID }
func credPK(secretHash string) string       { return "CRED#" + secretHash }
func tokenIDPK(tokenID string) string       { return "TOKID#" + tokenID }
func keyPK(keyHash string) string           { return "KEY#" + keyHash }
func svcPrefix(service string) string       { return prefixToken + service + "#" }
func userTokensPrefix(userID string) string { return prefixToken + userID + "#" }

// A token's state in the listing indexes. It is derived from the record
// alone (enabled, expiresAt), so a write needs no clock, except
// stateExpired, which only the expiry sweep writes once expiresAt has
// passed; a later write of the token moves it back to stateExpiring until
// the next sweep. Rule 7's replaced tokens are not a state: they are the
// key generations below the account's current one, a key range.
const (
	stateOn       = "on"  // enabled, with no expiry
	stateExpiring = "ttl" // enabled, with an expiry the sweep has not yet passed
	stateExpired  = "exp" // enabled, swept after its expiry
	stateOff      = "off" // disabled by an admin or a leak report
)

// recordState is the state a write gives a token.
func recordState(t tokens.Token) string {
	switch {
	case !t.Enabled:
		return stateOff
	case t.ExpiresAt != nil:
		return stateExpiring
	default:
		return stateOn
	}
}

// expiryShards spreads the expiry index over partitions, so that tokens
// made with an expiry are not limited to one partition's write rate.
const expiryShards = 8

// tokenKeys are a token's index keys. Every listing key ends in its
// order key, the key generation (zero-padded) then the ID: newest first
// is descending order of it, and a listing that merges several key ranges
// merges on it (listing.go).
type tokenKeys struct {
	SvcSK    string `dynamodbav:"svcSk"`
	StateSK  string `dynamodbav:"stateSk"`
	TypeSK   string `dynamodbav:"typeSk"`
	UserSK   string `dynamodbav:"userSk,omitempty"` // user tokens only: byUser is sparse
	NameSK   string `dynamodbav:"nameSk"`
	ExpiryPK string `dynamodbav:"expiryPk,omitempty"` // stateExpiring only: the index is sparse
	ExpirySK string `dynamodbav:"expirySk,omitempty"`
}

// orderKey orders a token within a listing: by key generation, then by
// creation (IDs are ULIDs).
func orderKey(t tokens.Token) string { return fmt.Sprintf("%010d#%s", t.KeyGeneration, t.ID) }

// The scopes of the listing indexes: a service's tokens, of one type, or
// of one user.
func stateScope(service string) string { return svcPrefix(service) }
func typeScope(service string, typ tokens.TokenType) string {
	return svcPrefix(service) + string(typ) + "#"
}
func userScope(userID, service string) string { return userTokensPrefix(userID) + service + "#" }

// newTokenKeys derives a token's index keys for state.
func newTokenKeys(t tokens.Token, state string) tokenKeys {
	k := tokenKeys{
		SvcSK:   svcPrefix(t.Service) + orderKey(t),
		StateSK: stateScope(t.Service) + state + "#" + orderKey(t),
		TypeSK:  typeScope(t.Service, t.Type()) + state + "#" + orderKey(t),
		NameSK:  tokenNameSK(t),
	}
	if t.UserID != "" {
		k.UserSK = userScope(t.UserID, t.Service) + state + "#" + orderKey(t)
	}
	if state == stateExpiring {
		k.ExpiryPK = fmt.Sprintf("EXPIRY#%d", int(t.ID[len(t.ID)-1])%expiryShards)
		k.ExpirySK = formatTime(*t.ExpiresAt) + "#" + t.ID
	}
	return k
}

// nameEnd ends a name in a sort key. It sorts below every character a
// name may hold (names have no control characters), so a name sorts before
// the longer names it begins ("maps" before "maps beta"), as a separator
// such as '#' would not (a space sorts below it).
const nameEnd = "\x01"

// tokenNameSK sorts a service's tokens by NameKey, then ID; a name search
// is the key range of svcPrefix(service)+NameKey(prefix).
func tokenNameSK(t tokens.Token) string {
	return svcPrefix(t.Service) + tokens.NameKey(t.Name) + nameEnd + t.ID
}
func statsSK(service string) string { return prefixStats + service }
func sweepSK(accountID, userID string) string {
	return prefixUser + accountID + "#" + userID
}

// itemKey is the primary key of one item.
func itemKey(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(pk), attrSK: str(sk)}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: fmt.Sprint(n)}
}

// timeFormat is RFC 3339 in UTC with a fixed nine-digit fraction, so that
// stored times compare correctly as strings (MarkUsed's condition relies on
// it); RFC3339Nano drops trailing zeros and would not.
const timeFormat = "2006-01-02T15:04:05.000000000Z07:00"

func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }

func formatOptTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return formatTime(*t)
}

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored time %q: %w", s, err)
	}
	return t.UTC(), nil
}

func parseOptTime(s string) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	t, err := parseTime(s)
	return &t, err
}

type accountItem struct {
	PK               string   `dynamodbav:"pk"`
	SK               string   `dynamodbav:"sk"`
	ID               string   `dynamodbav:"id"`
	Name             string   `dynamodbav:"name"`
	Status           string   `dynamodbav:"status"`
	Services         []string `dynamodbav:"services"`
	APIKeyID         string   `dynamodbav:"apiKeyId"`
	APIKeyHint       string   `dynamodbav:"apiKeyHint"`
	APIKeyCreatedAt  string   `dynamodbav:"apiKeyCreatedAt"`
	APIKeyGeneration int64    `dynamodbav:"apiKeyGeneration"`
	// APIKeyHash finds the current KEY# item, to retire it on replacement.
	APIKeyHash string `dynamodbav:"apiKeyHash"`
	CreatedAt  string `dynamodbav:"createdAt"`
	UpdatedAt  string `dynamodbav:"updatedAt"`
	// Version counts the item's writes, for optimistic concurrency.
	Version int64 `dynamodbav:"version"`
	// ListPK, ListSK and ListNameSK place the account in the operators'
	// listings (the accounts and accountsByName indexes).
	ListPK     string `dynamodbav:"listPk"`
	ListSK     string `dynamodbav:"listSk"`
	ListNameSK string `dynamodbav:"listNameSk"`
	// Plans and UsageKeys are the account's plans by service and their
	// usage keys (the authorizer reads usageKeys with the gate).
	Plans     map[string]string `dynamodbav:"plans,omitempty"`
	UsageKeys map[string]string `dynamodbav:"usageKeys,omitempty"`
}

func newAccountItem(a tokens.Account, keyHash string, version int64) accountItem {
	return accountItem{
		PK: accountPK(a.ID), SK: skAccount, ID: a.ID, Name: a.Name, Status: string(a.Status),
		ListPK: pkAccounts, ListSK: accountPK(a.ID), ListNameSK: tokens.NameKey(a.Name) + nameEnd + a.ID,
		Services: nonNil(a.Services), APIKeyID: a.APIKey.ID, APIKeyHint: a.APIKey.Hint,
		APIKeyCreatedAt: formatTime(a.APIKey.CreatedAt), APIKeyGeneration: a.APIKey.Generation, APIKeyHash: keyHash,
		CreatedAt: formatTime(a.CreatedAt), UpdatedAt: formatTime(a.UpdatedAt), Version: version,
		Plans: nilIfEmpty(a.Plans), UsageKeys: nilIfEmpty(a.UsageKeys),
	}
}

func (it accountItem) gate() tokens.AccountGate {
	return tokens.AccountGate{Status: tokens.AccountStatus(it.Status), Services: nonNil(it.Services), KeyGeneration: it.APIKeyGeneration, UsageKeys: nilIfEmpty(it.UsageKeys)}
}

// nilIfEmpty leaves an empty map out of an item (DynamoDB keeps no empty
// map worth reading).
func nilIfEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return maps.Clone(m)
}

func (it accountItem) account() (tokens.Account, error) {
	keyCreated, err1 := parseTime(it.APIKeyCreatedAt)
	created, err2 := parseTime(it.CreatedAt)
	updated, err3 := parseTime(it.UpdatedAt)
	a := tokens.Account{
		ID: it.ID, Name: it.Name, Status: tokens.AccountStatus(it.Status), Services: nonNil(it.Services),
		APIKey:    tokens.APIKey{ID: it.APIKeyID, Hint: it.APIKeyHint, CreatedAt: keyCreated, Generation: it.APIKeyGeneration},
		CreatedAt: created, UpdatedAt: updated, Plans: nilIfEmpty(it.Plans), UsageKeys: nilIfEmpty(it.UsageKeys),
	}
	return a, errors.Join(err1, err2, err3)
}

type keyItem struct {
	PK            string `dynamodbav:"pk"`
	SK            string `dynamodbav:"sk"`
	AccountID     string `dynamodbav:"accountId"`
	KeyID         string `dynamodbav:"keyId"`
	KeyGeneration int64  `dynamodbav:"keyGeneration"`
	AccountStatus string `dynamodbav:"accountStatus"`
}

func newKeyItem(a tokens.Account, keyHash string) keyItem {
	return keyItem{PK: keyPK(keyHash), SK: skKey, AccountID: a.ID, KeyID: a.APIKey.ID, KeyGeneration: a.APIKey.Generation, AccountStatus: string(a.Status)}
}

type userItem struct {
	PK        string          `dynamodbav:"pk"`
	SK        string          `dynamodbav:"sk"`
	AccountID string          `dynamodbav:"accountId"`
	ID        string          `dynamodbav:"id"`
	Email     string          `dynamodbav:"email"`
	Name      string          `dynamodbav:"name"`
	CreatedAt string          `dynamodbav:"createdAt"`
	Access    map[string]bool `dynamodbav:"access"`
	Version   int64           `dynamodbav:"version"`
}

func newUserItem(u tokens.User, version int64) userItem {
	access := maps.Clone(u.Access)
	if access == nil {
		access = map[string]bool{}
	}
	return userItem{
		PK: accountPK(u.AccountID), SK: userSK(u.ID), AccountID: u.AccountID, ID: u.ID, Email: u.Email, Name: u.Name,
		CreatedAt: formatTime(u.CreatedAt), Access: access, Version: version,
	}
}

func (it userItem) user() (tokens.User, error) {
	created, err := parseTime(it.CreatedAt)
	access := it.Access
	if access == nil {
		access = map[string]bool{}
	}
	return tokens.User{AccountID: it.AccountID, ID: it.ID, Email: it.Email, Name: it.Name, CreatedAt: created, Access: access}, err
}

type emailItem struct {
	PK     string `dynamodbav:"pk"`
	SK     string `dynamodbav:"sk"`
	UserID string `dynamodbav:"userId"`
}

// tokenFields is the token record, shared by the token item and its
// credential item.
type tokenFields struct {
	AccountID      string         `dynamodbav:"accountId"`
	ID             string         `dynamodbav:"id"`
	Name           string         `dynamodbav:"name"`
	Service        string         `dynamodbav:"service"`
	UserID         string         `dynamodbav:"userId,omitempty"`
	SecretHash     string         `dynamodbav:"secretHash"`
	Hint           string         `dynamodbav:"hint"`
	Enabled        bool           `dynamodbav:"enabled"`
	DisabledReason string         `dynamodbav:"disabledReason,omitempty"`
	CreatedAt      string         `dynamodbav:"createdAt"`
	ExpiresAt      string         `dynamodbav:"expiresAt,omitempty"`
	LastUsedAt     string         `dynamodbav:"lastUsedAt,omitempty"`
	Settings       map[string]any `dynamodbav:"settings"`
	KeyGeneration  int64          `dynamodbav:"keyGeneration"`
	// Origins and IPRanges are the token's restrictions, canonical.
	Origins    []string `dynamodbav:"origins,omitempty"`
	IPRanges   []string `dynamodbav:"ipRanges,omitempty"`
	Protected  bool     `dynamodbav:"protected,omitempty"`
	ClonedFrom string   `dynamodbav:"clonedFrom,omitempty"`
	// PlanID is the token's own plan, UsageKey its key once reconciled
	// (on the credential item too: the authorizer reads it there).
	PlanID   string `dynamodbav:"planId,omitempty"`
	UsageKey string `dynamodbav:"usageKey,omitempty"`
	// Version counts the token's writes, for optimistic concurrency.
	Version int64 `dynamodbav:"version"`
}

func newTokenFields(t tokens.Token, version int64) tokenFields {
	r := t.Restrictions.Restrictions()
	return tokenFields{
		AccountID: t.AccountID, ID: t.ID, Name: t.Name, Service: t.Service, UserID: t.UserID,
		SecretHash: t.SecretHash, Hint: t.Hint, Enabled: t.Enabled, DisabledReason: string(t.DisabledReason),
		CreatedAt: formatTime(t.CreatedAt), ExpiresAt: formatOptTime(t.ExpiresAt), LastUsedAt: formatOptTime(t.LastUsedAt),
		Settings: t.Settings.Clone(), KeyGeneration: t.KeyGeneration, Version: version,
		Origins: r.Origins, IPRanges: r.IPRanges, Protected: t.Protected, ClonedFrom: t.ClonedFrom,
		PlanID: t.PlanID, UsageKey: t.UsageKey,
	}
}

func (f tokenFields) token() (tokens.Token, error) {
	created, err1 := parseTime(f.CreatedAt)
	expires, err2 := parseOptTime(f.ExpiresAt)
	lastUsed, err3 := parseOptTime(f.LastUsedAt)
	t := tokens.Token{
		AccountID: f.AccountID, ID: f.ID, Name: f.Name, Service: f.Service, UserID: f.UserID,
		SecretHash: f.SecretHash, Hint: f.Hint, Enabled: f.Enabled, DisabledReason: tokens.DisabledReason(f.DisabledReason),
		CreatedAt: created, ExpiresAt: expires, LastUsedAt: lastUsed,
		Settings: tokens.Settings(f.Settings).Clone(), KeyGeneration: f.KeyGeneration,
		Protected: f.Protected, ClonedFrom: f.ClonedFrom, PlanID: f.PlanID, UsageKey: f.UsageKey,
	}
	// Compiled on every read, so that the authorizer's cached token checks
	// requests without parsing; an unreadable list fails the read rather
	// than restricting less.
	policy, err4 := restrict.Compile(restrict.Restrictions{Origins: f.Origins, IPRanges: f.IPRanges})
	t.Restrictions = policy
	return t, errors.Join(err1, err2, err3, err4)
}

type tokenItem struct {
	PK string `dynamodbav:"pk"`
	SK string `dynamodbav:"sk"`
	tokenKeys
	tokenFields
}

func newTokenItem(t tokens.Token) tokenItem {
	return tokenItem{PK: accountPK(t.AccountID), SK: tokenSK(t.ID), tokenKeys: newTokenKeys(t, recordState(t)), tokenFields: newTokenFields(t, 1)}
}

// credItem is what the authorizer reads first: the token's record under
// its secret's hash. Its gates are not on it but on the account and user
// items every token of theirs shares (docs/data-model.md).
type credItem struct {
	PK string `dynamodbav:"pk"`
	SK string `dynamodbav:"sk"`
	tokenFields
}

func newCredItem(t tokens.Token) credItem {
	f := newTokenFields(t, 1)
	f.LastUsedAt = "" // kept on the token item only, by MarkUsed
	return credItem{PK: credPK(t.SecretHash), SK: skCred, tokenFields: f}
}

// statsItem holds a service's General-tab counts, moved by the same
// transactions that create and delete tokens and switch access.
type statsItem struct {
	UsersWithAccess int `dynamodbav:"usersWithAccess"`
	UserTokens      int `dynamodbav:"userTokens"`
	UserlessTokens  int `dynamodbav:"userlessTokens"`
}

// sweepItem records a deleted user whose token items remain to be removed.
type sweepItem struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	AccountID string `dynamodbav:"accountId"`
	UserID    string `dynamodbav:"userId"`
}

type tokenIDItem struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	AccountID string `dynamodbav:"accountId"`
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s)
}

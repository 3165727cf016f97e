package dynamostore

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acmedata/tokenservice/pkg/tokens"
)

// Key attribute names and key shapes of the core table (docs/data-model.md).
const (
	attrPK     = "pk"
	attrSK     = "sk"
	attrSvcSK  = "svcSk"
	attrUserSK = "userSk"

	skAccount   = "ACCOUNT"
	skCred      = "CRED"
	skTokenID   = "TOKID"
	skKey       = "KEY"
	prefixUser  = "USER#"
	prefixEmail = "EMAIL#"
	prefixToken = "TOKEN#"
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
	Version    int64  `dynamodbav:"version"`
}

func newAccountItem(a tokens.Account, keyHash string) accountItem {
	return accountItem{
		PK: accountPK(a.ID), SK: skAccount, ID: a.ID, Name: a.Name, Status: string(a.Status),
		Services: nonNil(a.Services), APIKeyID: a.APIKey.ID, APIKeyHint: a.APIKey.Hint,
		APIKeyCreatedAt: formatTime(a.APIKey.CreatedAt), APIKeyGeneration: a.APIKey.Generation, APIKeyHash: keyHash,
		CreatedAt: formatTime(a.CreatedAt), UpdatedAt: formatTime(a.UpdatedAt), Version: a.Version,
	}
}

func (it accountItem) account() (tokens.Account, error) {
	keyCreated, err1 := parseTime(it.APIKeyCreatedAt)
	created, err2 := parseTime(it.CreatedAt)
	updated, err3 := parseTime(it.UpdatedAt)
	a := tokens.Account{
		ID: it.ID, Name: it.Name, Status: tokens.AccountStatus(it.Status), Services: nonNil(it.Services),
		APIKey:    tokens.APIKey{ID: it.APIKeyID, Hint: it.APIKeyHint, CreatedAt: keyCreated, Generation: it.APIKeyGeneration},
		CreatedAt: created, UpdatedAt: updated, Version: it.Version,
	}
	return a, errors.Join(err1, err2, err3)
}

type keyItem struct {
	PK            string `dynamodbav:"pk"`
	SK            string `dynamodbav:"sk"`
	AccountID     string `dynamodbav:"accountId"`
	KeyID         string `dynamodbav:"keyId"`
	AccountStatus string `dynamodbav:"accountStatus"`
}

func newKeyItem(a tokens.Account, keyHash string) keyItem {
	return keyItem{PK: keyPK(keyHash), SK: skKey, AccountID: a.ID, KeyID: a.APIKey.ID, AccountStatus: string(a.Status)}
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
	// Deleting marks a user whose deletion has begun: it is gone for
	// readers, and no token can be made for it (see DeleteUser).
	Deleting bool `dynamodbav:"deleting,omitempty"`
}

func newUserItem(u tokens.User) userItem {
	access := maps.Clone(u.Access)
	if access == nil {
		access = map[string]bool{}
	}
	return userItem{
		PK: accountPK(u.AccountID), SK: userSK(u.ID), AccountID: u.AccountID, ID: u.ID, Email: u.Email, Name: u.Name,
		CreatedAt: formatTime(u.CreatedAt), Access: access, Version: u.Version,
	}
}

func (it userItem) user() (tokens.User, error) {
	created, err := parseTime(it.CreatedAt)
	access := it.Access
	if access == nil {
		access = map[string]bool{}
	}
	return tokens.User{AccountID: it.AccountID, ID: it.ID, Email: it.Email, Name: it.Name, CreatedAt: created, Access: access, Version: it.Version}, err
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
	Version        int64          `dynamodbav:"version"`
}

func newTokenFields(t tokens.Token) tokenFields {
	return tokenFields{
		AccountID: t.AccountID, ID: t.ID, Name: t.Name, Service: t.Service, UserID: t.UserID,
		SecretHash: t.SecretHash, Hint: t.Hint, Enabled: t.Enabled, DisabledReason: string(t.DisabledReason),
		CreatedAt: formatTime(t.CreatedAt), ExpiresAt: formatOptTime(t.ExpiresAt), LastUsedAt: formatOptTime(t.LastUsedAt),
		Settings: t.Settings.Clone(), KeyGeneration: t.KeyGeneration, Version: t.Version,
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
		Settings: tokens.Settings(f.Settings).Clone(), KeyGeneration: f.KeyGeneration, Version: f.Version,
	}
	return t, errors.Join(err1, err2, err3)
}

type tokenItem struct {
	PK     string `dynamodbav:"pk"`
	SK     string `dynamodbav:"sk"`
	SvcSK  string `dynamodbav:"svcSk"`
	UserSK string `dynamodbav:"userSk,omitempty"` // user tokens only: byUser is sparse
	tokenFields
}

func newTokenItem(t tokens.Token) tokenItem {
	it := tokenItem{PK: accountPK(t.AccountID), SK: tokenSK(t.ID), SvcSK: svcPrefix(t.Service) + t.ID, tokenFields: newTokenFields(t)}
	if t.UserID != "" {
		it.UserSK = userTokensPrefix(t.UserID) + t.ID
	}
	return it
}

// credItem is what the authorizer reads: the token and the state of
// everything that gates it, kept current by the writes that change it. The
// *Version gates order concurrent fan-outs (docs/data-model.md).
type credItem struct {
	PK string `dynamodbav:"pk"`
	SK string `dynamodbav:"sk"`
	tokenFields
	AccountStatus        string   `dynamodbav:"accountStatus"`
	AccountServices      []string `dynamodbav:"accountServices"`
	AccountKeyGeneration int64    `dynamodbav:"accountKeyGeneration"`
	AccountVersion       int64    `dynamodbav:"accountVersion"`
	UserAccess           bool     `dynamodbav:"userAccess"`
	UserVersion          int64    `dynamodbav:"userVersion,omitempty"`
}

func newCredItem(w tokens.TokenWrite) credItem {
	f := newTokenFields(w.Token)
	f.LastUsedAt = "" // kept on the token item only, by MarkUsed
	it := credItem{
		PK: credPK(w.Token.SecretHash), SK: skCred, tokenFields: f,
		AccountStatus: string(w.Account.Status), AccountServices: nonNil(w.Account.Services),
		AccountKeyGeneration: w.Account.APIKey.Generation, AccountVersion: w.Account.Version,
	}
	if w.User != nil {
		it.UserAccess, it.UserVersion = w.User.HasAccess(w.Token.Service), w.User.Version
	}
	return it
}

func (it credItem) credential() (tokens.Credential, error) {
	t, err := it.token()
	return tokens.Credential{
		Token: t, AccountStatus: tokens.AccountStatus(it.AccountStatus), AccountServices: nonNil(it.AccountServices),
		AccountKeyGeneration: it.AccountKeyGeneration, UserAccess: it.UserAccess,
	}, err
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

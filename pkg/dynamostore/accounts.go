package dynamostore

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// CreateAccount implements tokens.AccountStore.
func (s *Store) CreateAccount(ctx context.Context, a tokens.Account, keyHash string) error {
	t := s.txn()
	t.put(newAccountItem(a, keyHash), notExists, nil)
	t.put(newKeyItem(a, keyHash), notExists, nil)
	err := t.run(ctx, s.db)
	switch {
	case conditionFailedAt(err, 0):
		return apperr.Conflict("account_exists", "an account with this ID exists")
	case conditionFailedAt(err, 1):
		return apperr.Conflict("api_key_exists", "the API key is already registered")
	}
	return err
}

// GetAccount implements tokens.AccountStore.
func (s *Store) GetAccount(ctx context.Context, accountID string) (tokens.Account, error) {
	it, err := s.accountItem(ctx, accountID)
	if err != nil {
		return tokens.Account{}, err
	}
	return it.account()
}

func (s *Store) accountItem(ctx context.Context, accountID string) (accountItem, error) {
	var it accountItem
	found, err := s.get(ctx, accountPK(accountID), skAccount, &it)
	if err == nil && !found {
		err = apperr.NotFound("account")
	}
	return it, err
}

// nextAccount reads the stored account a is to replace: its key hash is
// not part of tokens.Account. The version check here only saves a doomed
// write; the write's own condition is what guarantees it.
func (s *Store) nextAccount(ctx context.Context, a tokens.Account) (accountItem, error) {
	stored, err := s.accountItem(ctx, a.ID)
	if err == nil && stored.Version != a.Version-1 {
		err = apperr.ErrStale
	}
	return stored, err
}

// SaveAccount implements tokens.AccountStore: the account item and its
// key's status in one transaction, then the gates of every token.
func (s *Store) SaveAccount(ctx context.Context, a tokens.Account) error {
	stored, err := s.nextAccount(ctx, a)
	if err != nil {
		return err
	}
	t := s.txn()
	t.put(newAccountItem(a, stored.APIKeyHash), "#version = :prev", prevVersion(a.Version))
	t.update(itemKey(keyPK(stored.APIKeyHash), skKey), "SET #accountStatus = :status", exists,
		map[string]types.AttributeValue{":status": str(string(a.Status))})
	if err := t.run(ctx, s.db); err != nil {
		return err
	}
	return s.fanOutAccount(ctx, a, false)
}

// ReplaceAPIKey implements tokens.AccountStore: the account item, the old
// key's removal and the new key in one transaction, then every token's
// gates, retiring the tokens of older keys.
func (s *Store) ReplaceAPIKey(ctx context.Context, a tokens.Account, keyHash string) error {
	stored, err := s.nextAccount(ctx, a)
	if err != nil {
		return err
	}
	t := s.txn()
	t.put(newAccountItem(a, keyHash), "#version = :prev", prevVersion(a.Version))
	t.delete(itemKey(keyPK(stored.APIKeyHash), skKey), "", nil)
	t.put(newKeyItem(a, keyHash), notExists, nil)
	err = t.run(ctx, s.db)
	if conditionFailedAt(err, 2) {
		return apperr.Conflict("api_key_exists", "the API key is already registered")
	}
	if err != nil {
		return err
	}
	return s.fanOutAccount(ctx, a, true)
}

// KeyOwner implements tokens.AccountStore.
func (s *Store) KeyOwner(ctx context.Context, keyHash string) (tokens.KeyOwner, error) {
	var it keyItem
	found, err := s.get(ctx, keyPK(keyHash), skKey, &it)
	if err != nil {
		return tokens.KeyOwner{}, err
	}
	if !found {
		return tokens.KeyOwner{}, apperr.NotFound("api_key")
	}
	return tokens.KeyOwner{AccountID: it.AccountID, KeyID: it.KeyID, AccountStatus: tokens.AccountStatus(it.AccountStatus)}, nil
}

// tokenRef is the part of a token item a fan-out needs.
type tokenRef struct {
	ID            string `dynamodbav:"id"`
	Service       string `dynamodbav:"service"`
	SecretHash    string `dynamodbav:"secretHash"`
	Enabled       bool   `dynamodbav:"enabled"`
	KeyGeneration int64  `dynamodbav:"keyGeneration"`
}

const tokenRefProjection = "#id, #service, #secretHash, #enabled, #keyGeneration"

// fanOutAccount copies a's gates onto the credential of every token of the
// account and, when retire is set, disables the enabled tokens of older
// key generations. Each write is conditional on being newer than what the
// credential holds, so fan-outs may overlap or be re-run in any order.
func (s *Store) fanOutAccount(ctx context.Context, a tokens.Account, retire bool) error {
	keyCond := "#pk = :pk AND begins_with(#sk, :prefix)"
	refs, err := queryAll[tokenRef](ctx, s.db, &dynamodb.QueryInput{
		TableName: &s.table, ConsistentRead: aws.Bool(true),
		KeyConditionExpression: &keyCond, ProjectionExpression: aws.String(tokenRefProjection),
		ExpressionAttributeNames: exprNames(nil, keyCond, tokenRefProjection),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(accountPK(a.ID)), ":prefix": str(prefixToken),
		},
	})
	if err != nil {
		return err
	}
	services, err := attributevalue.Marshal(nonNil(a.Services))
	if err != nil {
		return err
	}
	gates := map[string]types.AttributeValue{
		":status": str(string(a.Status)), ":services": services,
		":gen": num(a.APIKey.Generation), ":v": num(a.Version),
	}
	return parallel(ctx, refs, func(ctx context.Context, ref tokenRef) error {
		if retire && ref.Enabled && ref.KeyGeneration < a.APIKey.Generation {
			err := retryConflicts(ctx, func() error { return s.retire(ctx, a, ref) })
			// A failed condition means the token changed meanwhile (enabled
			// under the new key, or deleted): nothing to retire.
			if err != nil && !errors.Is(err, apperr.ErrStale) {
				return err
			}
		}
		return s.setGates(ctx, ref.SecretHash,
			"SET #accountStatus = :status, #accountServices = :services, #accountKeyGeneration = :gen, #accountVersion = :v",
			"#accountVersion", gates, nil)
	})
}

// retire disables a token of an older key generation, both items at once.
func (s *Store) retire(ctx context.Context, a tokens.Account, ref tokenRef) error {
	update := "SET #enabled = :false, #disabledReason = :reason, #version = #version + :one"
	cond := "#enabled = :true AND #keyGeneration < :gen"
	values := map[string]types.AttributeValue{
		":false": &types.AttributeValueMemberBOOL{Value: false}, ":true": &types.AttributeValueMemberBOOL{Value: true},
		":reason": str(string(tokens.DisabledAPIKeyReplaced)), ":one": num(1), ":gen": num(a.APIKey.Generation),
	}
	t := s.txn()
	t.update(itemKey(accountPK(a.ID), tokenSK(ref.ID)), update, cond, values)
	t.update(itemKey(credPK(ref.SecretHash), skCred), update, cond, values)
	return t.run(ctx, s.db)
}

// setGates applies a gate update to one credential on condition that it
// exists and its versionAttr is older than :v. A failed condition is
// success: the credential is gone, or a newer write already set the gates.
func (s *Store) setGates(ctx context.Context, secretHash, update, versionAttr string, values map[string]types.AttributeValue, extraNames map[string]string) error {
	cond := exists + " AND (attribute_not_exists(" + versionAttr + ") OR " + versionAttr + " < :v)"
	err := retryConflicts(ctx, func() error {
		return s.update(ctx, itemKey(credPK(secretHash), skCred), update, cond, values, extraNames)
	})
	if isConditionFailed(err) {
		return nil
	}
	return err
}

func prevVersion(v int64) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{":prev": num(v - 1)}
}

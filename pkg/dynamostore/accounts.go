package dynamostore

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/audit"
	"github.com/acmedata/tokenservice/pkg/paging"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// CreateAccount implements tokens.AccountStore.
func (s *Store) CreateAccount(ctx context.Context, a tokens.Account, keyHash string, e audit.Entry) error {
	t := s.txn()
	account := t.put(newAccountItem(a, keyHash, 1), notExists, nil)
	key := t.put(newKeyItem(a, keyHash), notExists, nil)
	t.audit(a.ID, e)
	err := t.run(ctx, s.db)
	switch {
	case account.failed(err):
		return apperr.Conflict("account_exists", "an account with this ID exists")
	case key.failed(err):
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

// UpdateAccount implements tokens.AccountStore: the account item and its
// key's status in one transaction, whatever the account holds. The gate
// lives on the account item, so every token sees the change at its next
// uncached decision.
func (s *Store) UpdateAccount(ctx context.Context, accountID string, change func(*tokens.Account) error, e audit.Entry) (tokens.Account, error) {
	var out tokens.Account
	err := optimistic(ctx, func() error {
		stored, err := s.accountItem(ctx, accountID)
		if err != nil {
			return err
		}
		orig, err := stored.account()
		if err != nil {
			return err
		}
		a := orig
		if err := change(&a); err != nil {
			return err
		}
		a.ID, a.APIKey, a.CreatedAt = orig.ID, orig.APIKey, orig.CreatedAt // not the change's to make
		a.Plans, a.UsageKeys = orig.Plans, orig.UsageKeys                  // the assignments' and the reconciler's
		next := newAccountItem(a, stored.APIKeyHash, stored.Version+1)
		t := s.txn()
		t.put(next, "#version = :prev", prevVersion(stored.Version))
		t.update(itemKey(keyPK(stored.APIKeyHash), skKey), "SET #accountStatus = :status", exists,
			map[string]types.AttributeValue{":status": str(string(a.Status))})
		t.audit(accountID, e.Diff(orig.AuditFields(), a.AuditFields()))
		if err := t.run(ctx, s.db); err != nil {
			return err
		}
		out = a
		return nil
	})
	return out, err
}

// ReplaceAPIKey implements tokens.AccountStore: the account item (the next
// key generation), the old key's removal and the new key in one
// transaction. Tokens of older generations are not written: they read as
// replaced because the generation they belong to is no longer current.
func (s *Store) ReplaceAPIKey(ctx context.Context, accountID string, r tokens.KeyReplacement, e audit.Entry) (tokens.Account, error) {
	var out tokens.Account
	err := optimistic(ctx, func() error {
		stored, err := s.accountItem(ctx, accountID)
		if err != nil {
			return err
		}
		if r.Presented != 0 && stored.APIKeyGeneration != r.Presented {
			return tokens.ErrKeyNotCurrent
		}
		orig, err := stored.account()
		if err != nil {
			return err
		}
		a := orig
		a.APIKey = r.Key
		a.APIKey.Generation = stored.APIKeyGeneration + 1
		a.UpdatedAt = r.UpdatedAt
		t := s.txn()
		t.put(newAccountItem(a, r.KeyHash, stored.Version+1), "#version = :prev", prevVersion(stored.Version))
		t.delete(itemKey(keyPK(stored.APIKeyHash), skKey), "", nil)
		newKey := t.put(newKeyItem(a, r.KeyHash), notExists, nil)
		t.audit(accountID, e.Diff(orig.AuditFields(), a.AuditFields()))
		err = t.run(ctx, s.db)
		if newKey.failed(err) {
			return apperr.Conflict("api_key_exists", "the API key is already registered")
		}
		out = a
		return err
	})
	return out, err
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
	return tokens.KeyOwner{AccountID: it.AccountID, KeyID: it.KeyID, KeyGeneration: it.KeyGeneration, AccountStatus: tokens.AccountStatus(it.AccountStatus)}, nil
}

func prevVersion(v int64) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{":prev": num(v)}
}

// ListAccounts implements tokens.AccountStore with a Query of the
// accounts index (newest first) or, with a name prefix, of the key range
// of that prefix in accountsByName; status and service are filtered in
// DynamoDB. Both indexes hold every account in one partition: accounts
// are written rarely (an operator's change, a key rotation), far below a
// partition's write rate, and a listing reads only the accounts it skips
// over for a filter plus one page.
func (s *Store) ListAccounts(ctx context.Context, f tokens.AccountFilter, page paging.Request) (paging.Page[tokens.Account], error) {
	l := accountsListing(f.NamePrefix)
	var filters []string
	values := map[string]types.AttributeValue{}
	if f.Status != "" {
		filters, values[":status"] = append(filters, "#status = :status"), str(string(f.Status))
	}
	if f.Service != "" {
		filters, values[":service"] = append(filters, "contains(#services, :service)"), str(f.Service)
	}
	if len(values) == 0 {
		values = nil
	}
	l.filters = []string{string(f.Status), f.Service}
	return list(ctx, s, "", l, page, strings.Join(filters, " AND "), values,
		func(it accountItem) (tokens.Account, bool, error) {
			a, err := it.account()
			return a, true, err
		})
}

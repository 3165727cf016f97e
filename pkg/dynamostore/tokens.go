package dynamostore

import (
	"context"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/paging"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// CreateToken implements tokens.TokenStore: the token, its credential and
// its ID pointer, the checks on the account and user versions the gates were
// copied from, and the cloned source, all in one transaction.
func (s *Store) CreateToken(ctx context.Context, w tokens.TokenWrite) error {
	t := s.txn()
	t.put(newTokenItem(w.Token), notExists, nil)
	t.put(newCredItem(w), notExists, nil)
	t.put(tokenIDItem{PK: tokenIDPK(w.Token.ID), SK: skTokenID, AccountID: w.Token.AccountID}, notExists, nil)
	t.check(itemKey(accountPK(w.Account.ID), skAccount), "#version = :v", map[string]types.AttributeValue{":v": num(w.Account.Version)})
	if w.User != nil {
		t.check(itemKey(accountPK(w.Token.AccountID), userSK(w.User.ID)), "#version = :v AND attribute_not_exists(#deleting)",
			map[string]types.AttributeValue{":v": num(w.User.Version)})
	}
	if w.Source != nil {
		t.saveToken(*w.Source)
	}
	// Every failed condition is a lost race (or, for a put, a duplicate
	// ID or secret, which a retry with a fresh token cures): ErrStale.
	return t.run(ctx, s.db)
}

// saveToken adds the conditional update of a token's mutable fields to the
// transaction, on the token item and its credential alike. LastUsedAt is
// MarkUsed's alone, so an admin write never rolls it back.
func (t *txn) saveToken(tok tokens.Token) {
	settings, err := attributevalue.Marshal(tok.Settings.Clone())
	if err != nil {
		t.err = err
		return
	}
	values := map[string]types.AttributeValue{
		":name": str(tok.Name), ":enabled": &types.AttributeValueMemberBOOL{Value: tok.Enabled}, ":settings": settings,
		":gen": num(tok.KeyGeneration), ":v": num(tok.Version), ":prev": num(tok.Version - 1),
	}
	sets := []string{"#name = :name", "#enabled = :enabled", "#settings = :settings", "#keyGeneration = :gen", "#version = :v"}
	var removes []string
	if tok.DisabledReason != "" {
		sets, values[":reason"] = append(sets, "#disabledReason = :reason"), str(string(tok.DisabledReason))
	} else {
		removes = append(removes, "#disabledReason")
	}
	if tok.ExpiresAt != nil {
		sets, values[":expires"] = append(sets, "#expiresAt = :expires"), str(formatTime(*tok.ExpiresAt))
	} else {
		removes = append(removes, "#expiresAt")
	}
	update := "SET " + strings.Join(sets, ", ")
	if len(removes) > 0 {
		update += " REMOVE " + strings.Join(removes, ", ")
	}
	const cond = "#version = :prev"
	t.update(itemKey(accountPK(tok.AccountID), tokenSK(tok.ID)), update, cond, values)
	t.update(itemKey(credPK(tok.SecretHash), skCred), update, cond, values)
}

// deleteToken adds the deletion of a token's three items to the
// transaction; cond, if set, guards the token item.
func (t *txn) deleteToken(accountID, tokenID, secretHash, cond string) {
	t.delete(itemKey(accountPK(accountID), tokenSK(tokenID)), cond, nil)
	t.delete(itemKey(credPK(secretHash), skCred), "", nil)
	t.delete(itemKey(tokenIDPK(tokenID), skTokenID), "", nil)
}

// GetToken implements tokens.TokenStore.
func (s *Store) GetToken(ctx context.Context, accountID, tokenID string) (tokens.Token, error) {
	var it tokenItem
	found, err := s.get(ctx, accountPK(accountID), tokenSK(tokenID), &it)
	if err != nil {
		return tokens.Token{}, err
	}
	if !found {
		return tokens.Token{}, apperr.NotFound("token")
	}
	return it.token()
}

// TokenAccount implements tokens.TokenStore.
func (s *Store) TokenAccount(ctx context.Context, tokenID string) (string, error) {
	var it tokenIDItem
	found, err := s.get(ctx, tokenIDPK(tokenID), skTokenID, &it)
	if err != nil {
		return "", err
	}
	if !found {
		return "", apperr.NotFound("token")
	}
	return it.AccountID, nil
}

// ListTokens implements tokens.TokenStore. A user's tokens come from the
// sparse byUser index, all others from byService; type is filtered in
// DynamoDB, status (which depends on f.Now) in Go.
func (s *Store) ListTokens(ctx context.Context, accountID string, f tokens.TokenFilter, page paging.Request) (paging.Page[tokens.Token], error) {
	l := serviceListing(f.Service)
	var filters []string
	values := map[string]types.AttributeValue{}
	if f.UserID != "" {
		l = userListing(f.UserID)
		filters, values[":service"] = append(filters, "#service = :service"), str(f.Service)
	}
	switch f.Type {
	case tokens.TokenUser:
		filters = append(filters, "attribute_exists(#userId)")
	case tokens.TokenUserless:
		filters = append(filters, "attribute_not_exists(#userId)")
	}
	if len(values) == 0 {
		values = nil
	}
	l.filters = []string{f.Service, string(f.Type), string(f.Status)}
	return list(ctx, s, accountID, l, page, strings.Join(filters, " AND "), values,
		func(it tokenItem) (tokens.Token, bool, error) {
			t, err := it.token()
			return t, f.Status == "" || t.Status(f.Now) == f.Status, err
		})
}

// EarliestActiveToken implements tokens.TokenStore: byService in creation
// order, enabled tokens only, until the first that has not expired at
// f.Now.
func (s *Store) EarliestActiveToken(ctx context.Context, accountID string, f tokens.TokenFilter) (tokens.Token, error) {
	keyCond := "#pk = :pk AND begins_with(#svcSk, :prefix)"
	filter := "#enabled = :true"
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName: &s.table, IndexName: aws.String(indexByService), ConsistentRead: aws.Bool(true),
		KeyConditionExpression: &keyCond, FilterExpression: &filter, ExpressionAttributeNames: exprNames(nil, keyCond, filter),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(accountPK(accountID)), ":prefix": str(svcPrefix(f.Service)), ":true": &types.AttributeValueMemberBOOL{Value: true},
		},
		ScanIndexForward: aws.Bool(true), Limit: aws.Int32(minQueryPage),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return tokens.Token{}, storeErr(err)
		}
		var items []tokenItem
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &items); err != nil {
			return tokens.Token{}, err
		}
		for _, it := range items {
			t, err := it.token()
			if err != nil {
				return tokens.Token{}, err
			}
			if t.Status(f.Now) == tokens.StatusActive {
				return t, nil
			}
		}
	}
	return tokens.Token{}, apperr.NotFound("token")
}

// SaveToken implements tokens.TokenStore.
func (s *Store) SaveToken(ctx context.Context, tok tokens.Token, a tokens.Account) error {
	t := s.txn()
	t.saveToken(tok)
	t.check(itemKey(accountPK(a.ID), skAccount), "#version = :v", map[string]types.AttributeValue{":v": num(a.Version)})
	err := t.run(ctx, s.db)
	return s.staleOrMissing(ctx, err, accountPK(tok.AccountID), tokenSK(tok.ID), "token")
}

// DeleteToken implements tokens.TokenStore.
func (s *Store) DeleteToken(ctx context.Context, accountID, tokenID string) error {
	tok, err := s.GetToken(ctx, accountID, tokenID)
	if err != nil {
		return err
	}
	t := s.txn()
	t.deleteToken(accountID, tokenID, tok.SecretHash, exists)
	err = t.run(ctx, s.db)
	return s.staleOrMissing(ctx, err, accountPK(accountID), tokenSK(tokenID), "token")
}

// CountTokens implements tokens.TokenStore with two COUNT queries on
// byService.
func (s *Store) CountTokens(ctx context.Context, accountID, service string) (user, userless int, err error) {
	countWhere := func(filter string) (int, error) {
		keyCond := "#pk = :pk AND begins_with(#svcSk, :prefix)"
		return count(ctx, s.db, &dynamodb.QueryInput{
			TableName: &s.table, IndexName: aws.String(indexByService), ConsistentRead: aws.Bool(true),
			KeyConditionExpression: &keyCond, FilterExpression: &filter, ExpressionAttributeNames: exprNames(nil, keyCond, filter),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(accountPK(accountID)), ":prefix": str(svcPrefix(service))},
		})
	}
	if user, err = countWhere("attribute_exists(#userId)"); err != nil {
		return 0, 0, err
	}
	if userless, err = countWhere("attribute_not_exists(#userId)"); err != nil {
		return 0, 0, err
	}
	return user, userless, nil
}

// MarkUsed records that the token was used at at, unless a later use is
// already recorded; a token deleted meanwhile is not an error. It updates
// lastUsedAt alone, conditioned on lastUsedAt alone (times are stored in a
// fixed-width form that compares as strings), so it never bumps Version
// nor conflicts with an admin's write.
func (s *Store) MarkUsed(ctx context.Context, accountID, tokenID string, at time.Time) error {
	cond := exists + " AND (attribute_not_exists(#lastUsedAt) OR #lastUsedAt < :at)"
	err := retryConflicts(ctx, func() error {
		return s.update(ctx, itemKey(accountPK(accountID), tokenSK(tokenID)), "SET #lastUsedAt = :at", cond,
			map[string]types.AttributeValue{":at": str(formatTime(at))}, nil)
	})
	if isConditionFailed(err) {
		return nil
	}
	return err
}

// Credential implements tokens.CredentialStore with one strongly
// consistent GetItem. The credential's Token carries no LastUsedAt.
func (s *Store) Credential(ctx context.Context, secretHash string) (tokens.Credential, error) {
	var it credItem
	found, err := s.get(ctx, credPK(secretHash), skCred, &it)
	if err != nil {
		return tokens.Credential{}, err
	}
	if !found {
		return tokens.Credential{}, apperr.NotFound("token")
	}
	return it.credential()
}

package dynamostore

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/audit"
	"github.com/acmedata/tokenservice/pkg/paging"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// CreateToken implements tokens.TokenStore: the token, its secret-hash
// item and its ID pointer, the conditions on the account's and the user's
// gates, the service's count and (for a clone with a grace period) the
// source's new expiry, all in one transaction.
func (s *Store) CreateToken(ctx context.Context, w tokens.TokenWrite, e audit.Entry) error {
	tok := w.Token
	return optimistic(ctx, func() error {
		t := s.txn()
		token := t.put(newTokenItem(tok), notExists, nil)
		cred := t.put(newCredItem(tok), notExists, nil)
		pointer := t.put(tokenIDItem{PK: tokenIDPK(tok.ID), SK: skTokenID, AccountID: tok.AccountID}, notExists, nil)
		// Rule 7: the token belongs to the key generation that authorised
		// it, and is made only while that generation is current, so a
		// replacement either precedes the create (which then fails) or
		// follows it (and the token reads as replaced).
		account := t.check(itemKey(accountPK(tok.AccountID), skAccount),
			"#status = :active AND contains(#services, :service) AND #apiKeyGeneration = :gen",
			map[string]types.AttributeValue{
				":active": str(string(tokens.AccountStatusActive)), ":service": str(tok.Service), ":gen": num(tok.KeyGeneration),
			})
		user := noItem
		if tok.UserID != "" {
			user = t.checkNamed(itemKey(accountPK(tok.AccountID), userSK(tok.UserID)), "#access.#svc = :true",
				map[string]types.AttributeValue{":true": &types.AttributeValueMemberBOOL{Value: true}}, map[string]string{"#svc": tok.Service})
		}
		t.countToken(tok, 1)
		plan := t.tokenMade(tok, e.ID)
		if w.SourceID != "" {
			if err := s.bringExpiryForward(ctx, t, tok.AccountID, w.SourceID, *w.RevokeSourceAt); err != nil {
				return err
			}
		}
		t.audit(tok.AccountID, e)
		err := t.run(ctx, s.db)
		switch {
		case account.failed(err):
			return s.accountGateError(ctx, tok)
		case user.failed(err):
			return s.userGateError(ctx, tok)
		case plan.failed(err):
			return apperr.NotFound("plan")
		case token.failed(err), cred.failed(err), pointer.failed(err):
			return apperr.Conflict("token_exists", "a token with this ID or secret exists")
		}
		return err
	})
}

// accountGateError tells why a create's condition on the account failed.
// A gate that reads fine again changed and changed back: a lost race to
// retry.
func (s *Store) accountGateError(ctx context.Context, tok tokens.Token) error {
	it, err := s.accountItem(ctx, tok.AccountID)
	if err != nil {
		return err
	}
	if err := tokens.AccountGateError(it.gate(), tok.Service, tok.KeyGeneration); err != nil {
		return err
	}
	return apperr.ErrStale
}

// userGateError tells why a create's condition on the user failed.
func (s *Store) userGateError(ctx context.Context, tok tokens.Token) error {
	it, err := s.userItem(ctx, tok.AccountID, tok.UserID)
	var gate *tokens.UserGate
	switch {
	case err == nil:
		g := tokens.UserGate{Access: it.Access}
		gate = &g
	case !errors.Is(err, apperr.ErrNotFound):
		return err
	}
	if err := tokens.UserGateError(gate, tok.Service); err != nil {
		return err
	}
	return apperr.ErrStale
}

// bringExpiryForward adds to t the clone source's expiry moved to end,
// unless it already expires sooner, on condition that the source is still
// as read.
func (s *Store) bringExpiryForward(ctx context.Context, t *txn, accountID, sourceID string, end time.Time) error {
	cur, version, err := s.readToken(ctx, accountID, sourceID)
	if err != nil {
		return err
	}
	if cur.ExpiresAt != nil && !end.Before(*cur.ExpiresAt) {
		return nil
	}
	cur.ExpiresAt = &end
	t.saveToken(cur, version)
	return nil
}

// saveToken adds the update of a token's mutable fields to the
// transaction, on its item (on condition that it still has the version
// read) and its secret-hash item alike. LastUsedAt is MarkUsed's alone, so
// an admin write never rolls it back.
func (t *txn) saveToken(tok tokens.Token, version int64) {
	settings, err := attributevalue.Marshal(tok.Settings.Clone())
	if err != nil {
		t.err = err
		return
	}
	values := map[string]types.AttributeValue{
		":name": str(tok.Name), ":enabled": &types.AttributeValueMemberBOOL{Value: tok.Enabled}, ":settings": settings,
		":gen": num(tok.KeyGeneration), ":v": num(version + 1),
	}
	sets := []string{"#name = :name", "#enabled = :enabled", "#settings = :settings", "#keyGeneration = :gen", "#version = :v"}
	var removes []string
	r := tok.Restrictions.Restrictions()
	for _, l := range []struct {
		attr string
		list []string
	}{{"origins", r.Origins}, {"ipRanges", r.IPRanges}} {
		attr, list := l.attr, l.list
		if len(list) == 0 {
			removes = append(removes, "#"+attr)
			continue
		}
		av, err := attributevalue.Marshal(list)
		if err != nil {
			t.err = err
			return
		}
		sets, values[":"+attr] = append(sets, "#"+attr+" = :"+attr), av
	}
	if tok.Protected {
		sets, values[":protected"] = append(sets, "#protected = :protected"), &types.AttributeValueMemberBOOL{Value: true}
	} else {
		removes = append(removes, "#protected")
	}
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
	t.update(itemKey(credPK(tok.SecretHash), skCred), update, exists, values)
	// The index keys are on the token item alone: the listing indexes are
	// of the account partition, and the credential is in none of them.
	keySets, keyRemoves, keyValues := keyUpdate(newTokenKeys(tok, recordState(tok)))
	update = "SET " + strings.Join(slices.Concat(sets, keySets), ", ")
	if removes = slices.Concat(removes, keyRemoves); len(removes) > 0 {
		update += " REMOVE " + strings.Join(removes, ", ")
	}
	tokenValues := maps.Clone(values)
	maps.Copy(tokenValues, keyValues)
	tokenValues[":prev"] = num(version)
	t.update(itemKey(accountPK(tok.AccountID), tokenSK(tok.ID)), update, "#version = :prev", tokenValues)
}

// keyUpdate is the SET and REMOVE clauses (and their values) that give a
// token item the index keys k; an empty key is removed, which takes the
// item out of that sparse index.
func keyUpdate(k tokenKeys) (sets, removes []string, values map[string]types.AttributeValue) {
	values = map[string]types.AttributeValue{}
	for _, a := range []struct{ attr, value string }{
		{attrSvcSK, k.SvcSK}, {attrStateSK, k.StateSK}, {attrTypeSK, k.TypeSK}, {attrUserSK, k.UserSK},
		{attrNameSK, k.NameSK}, {attrExpiryPK, k.ExpiryPK}, {attrExpirySK, k.ExpirySK},
	} {
		if a.value == "" {
			removes = append(removes, "#"+a.attr)
			continue
		}
		sets, values[":"+a.attr] = append(sets, "#"+a.attr+" = :"+a.attr), str(a.value)
	}
	return sets, removes, values
}

// countToken adds delta to the count of tok's type in its service.
func (t *txn) countToken(tok tokens.Token, delta int64) {
	attr := "userTokens"
	if tok.UserID == "" {
		attr = "userlessTokens"
	}
	t.count(tok.AccountID, tok.Service, attr, delta)
}

// deleteToken adds the deletion of a token's three items and its count to
// the transaction, on condition that the token item still has version (so
// the count moves once, and the deletion is of the token as read).
func (t *txn) deleteToken(tok tokens.Token, version int64) {
	t.delete(itemKey(accountPK(tok.AccountID), tokenSK(tok.ID)), "#version = :prev", prevVersion(version))
	t.deleteLookups(tok)
	t.countToken(tok, -1)
}

// deleteTokenItems adds the deletion of a token's three items, on
// condition that the token item exists.
func (t *txn) deleteTokenItems(tok tokens.Token) {
	t.delete(itemKey(accountPK(tok.AccountID), tokenSK(tok.ID)), exists, nil)
	t.deleteLookups(tok)
}

// deleteLookups adds the deletion of a token's secret-hash item and ID
// pointer.
func (t *txn) deleteLookups(tok tokens.Token) {
	t.delete(itemKey(credPK(tok.SecretHash), skCred), "", nil)
	t.delete(itemKey(tokenIDPK(tok.ID), skTokenID), "", nil)
}

// GetToken implements tokens.TokenStore.
func (s *Store) GetToken(ctx context.Context, accountID, tokenID string) (tokens.Token, error) {
	tok, _, err := s.readToken(ctx, accountID, tokenID)
	return tok, err
}

// readToken reads a token of the account, strongly consistent, with the
// version of its item for a write conditional on it.
func (s *Store) readToken(ctx context.Context, accountID, tokenID string) (tokens.Token, int64, error) {
	var it tokenItem
	found, err := s.get(ctx, accountPK(accountID), tokenSK(tokenID), &it)
	if err != nil {
		return tokens.Token{}, 0, err
	}
	if !found {
		return tokens.Token{}, 0, apperr.NotFound("token")
	}
	tok, err := it.token()
	return tok, it.Version, err
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

// ListTokens implements tokens.TokenStore. A name search reads the key
// range of its prefix in byName, in name order, with type and user
// filtered in DynamoDB and status in Go; every other listing reads the key
// ranges its filters select (tokensFor), so it costs its page whatever
// else the account holds.
func (s *Store) ListTokens(ctx context.Context, accountID string, f tokens.TokenFilter, page paging.Request) (paging.Page[tokens.Token], error) {
	if f.NamePrefix == "" {
		l := tokensFor(f)
		if f.UserID != "" && f.Type == tokens.TokenUserless { // a user's tokens are user tokens
			l.ranges = nil
		}
		return s.listTokens(ctx, accountID, l, page)
	}
	l := nameListing(f.Service, f.NamePrefix)
	var filters []string
	values := map[string]types.AttributeValue{}
	if f.UserID != "" {
		filters, values[":userId"] = append(filters, "#userId = :userId"), str(f.UserID)
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
	l.filters = []string{f.Service, f.UserID, string(f.Type), string(f.Status)}
	return list(ctx, s, accountID, l, page, strings.Join(filters, " AND "), values,
		func(it tokenItem) (tokens.Token, bool, error) {
			t, err := it.token()
			return t, f.Status == "" || t.UnderKey(f.KeyGeneration).Status(f.Now) == f.Status, err
		})
}

// EarliestActiveToken implements tokens.TokenStore: the first of the
// service's active tokens, oldest first, which reads the enabled tokens of
// the current key generation only.
func (s *Store) EarliestActiveToken(ctx context.Context, accountID string, f tokens.TokenFilter) (tokens.Token, error) {
	p, err := s.listTokens(ctx, accountID, activeNow(f), paging.Request{Limit: 1})
	if err != nil {
		return tokens.Token{}, err
	}
	if len(p.Items) == 0 {
		return tokens.Token{}, apperr.NotFound("token")
	}
	return p.Items[0], nil
}

// UpdateToken implements tokens.TokenStore.
func (s *Store) UpdateToken(ctx context.Context, accountID, tokenID string, keyGeneration int64, change func(*tokens.Token) error, e audit.Entry) (tokens.Token, error) {
	var out tokens.Token
	err := optimistic(ctx, func() error {
		tok, version, err := s.readToken(ctx, accountID, tokenID)
		if err != nil {
			return err
		}
		next := tok
		next.Settings = tok.Settings.Clone()
		if err := change(&next); err != nil {
			return err
		}
		// Only the mutable fields are the change's to make.
		next.AccountID, next.ID, next.Service, next.UserID = tok.AccountID, tok.ID, tok.Service, tok.UserID
		next.SecretHash, next.Hint, next.CreatedAt, next.LastUsedAt = tok.SecretHash, tok.Hint, tok.CreatedAt, tok.LastUsedAt
		next.ClonedFrom = tok.ClonedFrom
		t := s.txn()
		t.saveToken(next, version)
		account := noItem
		if keyGeneration != 0 {
			account = t.check(itemKey(accountPK(accountID), skAccount), "#apiKeyGeneration = :gen", map[string]types.AttributeValue{":gen": num(keyGeneration)})
		}
		t.audit(accountID, e.Diff(tok.AuditFields(), next.AuditFields()))
		err = t.run(ctx, s.db)
		if account.failed(err) {
			return tokens.ErrKeyNotCurrent
		}
		if err := s.staleOrMissing(ctx, err, accountPK(accountID), tokenSK(tokenID), "token"); err != nil {
			return err
		}
		out = next
		return nil
	})
	return out, err
}

// DeleteToken implements tokens.TokenStore: the guard sees the token as
// read, and the deletion holds only while the token still has the version
// read, so a concurrent protect is never overtaken.
func (s *Store) DeleteToken(ctx context.Context, accountID, tokenID string, guard func(tokens.Token) error, e audit.Entry) error {
	return optimistic(ctx, func() error {
		tok, version, err := s.readToken(ctx, accountID, tokenID)
		if err != nil {
			return err
		}
		if err := guard(tok); err != nil {
			return err
		}
		t := s.txn()
		t.deleteToken(tok, version)
		t.tokenGone(tok, e.ID)
		t.audit(accountID, e.Diff(tok.AuditFields(), nil))
		return s.staleOrMissing(ctx, t.run(ctx, s.db), accountPK(accountID), tokenSK(tokenID), "token")
	})
}

// ServiceStats implements tokens.TokenStore with one GetItem of the
// service's stats item.
func (s *Store) ServiceStats(ctx context.Context, accountID, service string) (tokens.ServiceStats, error) {
	var it statsItem
	if _, err := s.get(ctx, accountPK(accountID), statsSK(service), &it); err != nil {
		return tokens.ServiceStats{}, err
	}
	return tokens.ServiceStats{UsersWithAccess: it.UsersWithAccess, UserTokens: it.UserTokens, UserlessTokens: it.UserlessTokens}, nil
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

// TokenBySecret implements tokens.CredentialStore with one strongly
// consistent GetItem. The token carries no LastUsedAt.
func (s *Store) TokenBySecret(ctx context.Context, secretHash string) (tokens.Token, error) {
	var it credItem
	found, err := s.get(ctx, credPK(secretHash), skCred, &it)
	if err != nil {
		return tokens.Token{}, err
	}
	if !found {
		return tokens.Token{}, apperr.NotFound("token")
	}
	return it.token()
}

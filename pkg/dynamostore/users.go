package dynamostore

import (
	"context"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/audit"
	"github.com/acmedata/tokenservice/pkg/paging"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// CreateUser implements tokens.UserStore: the user, its email claim and
// the counts of its access in one transaction, so the claim is the
// uniqueness constraint.
func (s *Store) CreateUser(ctx context.Context, u tokens.User, e audit.Entry) error {
	t := s.txn()
	user := t.put(newUserItem(u, 1), notExists, nil)
	claim := t.put(newEmailItem(u), notExists, nil)
	t.countAccess(u.AccountID, nil, u.Access)
	t.audit(u.AccountID, e)
	err := t.run(ctx, s.db)
	switch {
	case user.failed(err):
		return apperr.Conflict("user_exists", "a user with this ID exists")
	case claim.failed(err):
		return emailTaken()
	}
	return err
}

func newEmailItem(u tokens.User) emailItem {
	return emailItem{PK: accountPK(u.AccountID), SK: emailSK(strings.ToLower(u.Email)), UserID: u.ID}
}

func emailTaken() error {
	return apperr.Conflict("email_taken", "another user of the account has this email")
}

// GetUser implements tokens.UserStore.
func (s *Store) GetUser(ctx context.Context, accountID, userID string) (tokens.User, error) {
	it, err := s.userItem(ctx, accountID, userID)
	if err != nil {
		return tokens.User{}, err
	}
	return it.user()
}

func (s *Store) userItem(ctx context.Context, accountID, userID string) (userItem, error) {
	var it userItem
	found, err := s.get(ctx, accountPK(accountID), userSK(userID), &it)
	if err == nil && !found {
		err = apperr.NotFound("user")
	}
	return it, err
}

// ListUsers implements tokens.UserStore.
func (s *Store) ListUsers(ctx context.Context, accountID string, f tokens.UserFilter, page paging.Request) (paging.Page[tokens.User], error) {
	l := usersListing
	if f.Service != "" {
		// The same items; the cursor is bound to the service's listing.
		l.filters = []string{"access", f.Service}
	}
	return list(ctx, s, accountID, l, page, "", nil,
		func(it userItem) (tokens.User, bool, error) {
			u, err := it.user()
			return u, true, err
		})
}

// UpdateUser implements tokens.UserStore: the user, the move of its email
// claim if the email changed, and the counts of the access it switched, in
// one transaction. The user item is its tokens' access gate, so switching
// access is this one write whatever the user holds.
func (s *Store) UpdateUser(ctx context.Context, accountID, userID string, change func(*tokens.User) error, e audit.Entry) (tokens.User, error) {
	var out tokens.User
	err := optimistic(ctx, func() error {
		stored, err := s.userItem(ctx, accountID, userID)
		if err != nil {
			return err
		}
		orig, err := stored.user()
		if err != nil {
			return err
		}
		u := orig
		u.Access = maps.Clone(orig.Access)
		if err := change(&u); err != nil {
			return err
		}
		u.AccountID, u.ID, u.CreatedAt = orig.AccountID, orig.ID, orig.CreatedAt
		t := s.txn()
		t.put(newUserItem(u, stored.Version+1), "#version = :prev", prevVersion(stored.Version))
		oldClaim := strings.ToLower(orig.Email)
		newClaim := noItem
		if oldClaim != strings.ToLower(u.Email) {
			newClaim = t.put(newEmailItem(u), notExists, nil)
			t.delete(itemKey(accountPK(accountID), emailSK(oldClaim)), "#userId = :uid", map[string]types.AttributeValue{":uid": str(userID)})
		}
		t.countAccess(accountID, orig.Access, u.Access)
		t.audit(accountID, e.Diff(orig.AuditFields(), u.AuditFields()))
		err = t.run(ctx, s.db)
		if newClaim.failed(err) {
			return emailTaken()
		}
		if err := s.staleOrMissing(ctx, err, accountPK(accountID), userSK(userID), "user"); err != nil {
			return err
		}
		out = u
		return nil
	})
	return out, err
}

// countAccess adds to the transaction the moves of the services' counts
// of users with access, from before to after.
func (t *txn) countAccess(accountID string, before, after map[string]bool) {
	for _, svc := range slices.Sorted(maps.Keys(before)) {
		if before[svc] && !after[svc] {
			t.count(accountID, svc, "usersWithAccess", -1)
		}
	}
	for _, svc := range slices.Sorted(maps.Keys(after)) {
		if after[svc] && !before[svc] {
			t.count(accountID, svc, "usersWithAccess", 1)
		}
	}
}

// count adds delta to one count of a service's stats item (created on
// first use).
func (t *txn) count(accountID, service, attr string, delta int64) {
	t.update(itemKey(accountPK(accountID), statsSK(service)), "ADD #"+attr+" :delta", "",
		map[string]types.AttributeValue{":delta": num(delta)})
}

// DeleteUser implements tokens.UserStore: the user, its email claim and
// its access counts go in one transaction, with a sweep item that tells
// Sweep to remove its tokens later. The user item is its tokens' gate, so
// they stop with this write; nothing here grows with the user's tokens.
func (s *Store) DeleteUser(ctx context.Context, accountID, userID string, e audit.Entry) error {
	return optimistic(ctx, func() error {
		stored, err := s.userItem(ctx, accountID, userID)
		if err != nil {
			return err
		}
		orig, err := stored.user()
		if err != nil {
			return err
		}
		t := s.txn()
		t.delete(itemKey(accountPK(accountID), userSK(userID)), "#version = :prev", prevVersion(stored.Version))
		t.delete(itemKey(accountPK(accountID), emailSK(strings.ToLower(stored.Email))), "#userId = :uid",
			map[string]types.AttributeValue{":uid": str(userID)})
		t.put(sweepItem{PK: pkSweeps, SK: sweepSK(accountID, userID), AccountID: accountID, UserID: userID}, "", nil)
		t.countAccess(accountID, stored.Access, nil)
		t.audit(accountID, e.Diff(orig.AuditFields(), nil))
		return s.staleOrMissing(ctx, t.run(ctx, s.db), accountPK(accountID), userSK(userID), "user")
	})
}

package dynamostore

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/paging"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// CreateUser implements tokens.UserStore: the user and its email claim in
// one transaction, so the claim is the uniqueness constraint.
func (s *Store) CreateUser(ctx context.Context, u tokens.User) error {
	t := s.txn()
	t.put(newUserItem(u), notExists, nil)
	t.put(newEmailItem(u), notExists, nil)
	err := t.run(ctx, s.db)
	switch {
	case conditionFailedAt(err, 0):
		return apperr.Conflict("user_exists", "a user with this ID exists")
	case conditionFailedAt(err, 1):
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

// userItem reads a user; one being deleted is already gone.
func (s *Store) userItem(ctx context.Context, accountID, userID string) (userItem, error) {
	var it userItem
	found, err := s.get(ctx, accountPK(accountID), userSK(userID), &it)
	if err == nil && (!found || it.Deleting) {
		err = apperr.NotFound("user")
	}
	return it, err
}

// ListUsers implements tokens.UserStore.
func (s *Store) ListUsers(ctx context.Context, accountID string, page paging.Request) (paging.Page[tokens.User], error) {
	return list(ctx, s, accountID, usersListing, page, "attribute_not_exists(#deleting)", nil,
		func(it userItem) (tokens.User, bool, error) {
			u, err := it.user()
			return u, true, err
		})
}

// SaveUser implements tokens.UserStore: the user and, if the email
// changed, the move of its claim in one transaction; then the access gate
// of every token of the user.
func (s *Store) SaveUser(ctx context.Context, u tokens.User) error {
	stored, err := s.userItem(ctx, u.AccountID, u.ID)
	if err != nil {
		return err
	}
	if stored.Version != u.Version-1 {
		return apperr.ErrStale
	}
	t := s.txn()
	t.put(newUserItem(u), "#version = :prev AND attribute_not_exists(#deleting)", prevVersion(u.Version))
	if oldClaim := strings.ToLower(stored.Email); oldClaim != strings.ToLower(u.Email) {
		t.put(newEmailItem(u), notExists, nil)
		t.delete(itemKey(accountPK(u.AccountID), emailSK(oldClaim)), "#userId = :uid", map[string]types.AttributeValue{":uid": str(u.ID)})
	}
	err = t.run(ctx, s.db)
	if conditionFailedAt(err, 1) {
		return emailTaken()
	}
	if err != nil {
		return err
	}
	return s.fanOutUser(ctx, u)
}

// fanOutUser copies u's access onto the credential of each of its tokens,
// on condition that the credential holds an older user version.
func (s *Store) fanOutUser(ctx context.Context, u tokens.User) error {
	refs, err := s.userTokens(ctx, u.AccountID, u.ID)
	if err != nil {
		return err
	}
	return parallel(ctx, refs, func(ctx context.Context, ref tokenRef) error {
		values := map[string]types.AttributeValue{
			":access": &types.AttributeValueMemberBOOL{Value: u.HasAccess(ref.Service)}, ":v": num(u.Version),
		}
		return s.setGates(ctx, ref.SecretHash, "SET #userAccess = :access, #userVersion = :v", "#userVersion", values, nil)
	})
}

// userTokens lists the tokens of a user through the sparse byUser index.
func (s *Store) userTokens(ctx context.Context, accountID, userID string) ([]tokenRef, error) {
	keyCond := "#pk = :pk AND begins_with(#userSk, :prefix)"
	return queryAll[tokenRef](ctx, s.db, &dynamodb.QueryInput{
		TableName: &s.table, IndexName: aws.String(indexByUser), ConsistentRead: aws.Bool(true),
		KeyConditionExpression: &keyCond, ProjectionExpression: aws.String(tokenRefProjection),
		ExpressionAttributeNames: exprNames(nil, keyCond, tokenRefProjection),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(accountPK(accountID)), ":prefix": str(userTokensPrefix(userID)),
		},
	})
}

// DeleteUser implements tokens.UserStore. It is safe against concurrent
// token creation and resumable:
//  1. mark the user deleting and bump its version, so that GetUser says
//     NotFound and CreateToken's condition on the user fails from now on;
//  2. delete every token of the user (each with its credential and ID
//     pointer, atomically);
//  3. delete the user and its email claim together.
//
// A retry after a failure in 2 or 3 finds the mark and finishes the job.
func (s *Store) DeleteUser(ctx context.Context, accountID, userID string) error {
	pk, sk := accountPK(accountID), userSK(userID)
	err := retryConflicts(ctx, func() error {
		return s.update(ctx, itemKey(pk, sk), "SET #deleting = :true ADD #version :one", exists,
			map[string]types.AttributeValue{":true": &types.AttributeValueMemberBOOL{Value: true}, ":one": num(1)}, nil)
	})
	if err := s.staleOrMissing(ctx, err, pk, sk, "user"); err != nil {
		return err
	}
	var u userItem
	found, err := s.get(ctx, pk, sk, &u)
	if err != nil {
		return err
	}
	if !found { // a concurrent DeleteUser finished first
		return apperr.NotFound("user")
	}
	refs, err := s.userTokens(ctx, accountID, userID)
	if err != nil {
		return err
	}
	err = parallel(ctx, refs, func(ctx context.Context, ref tokenRef) error {
		t := s.txn()
		t.deleteToken(accountID, ref.ID, ref.SecretHash, "")
		return retryConflicts(ctx, func() error { return t.run(ctx, s.db) })
	})
	if err != nil {
		return err
	}
	t := s.txn()
	t.delete(itemKey(pk, sk), "#deleting = :true", map[string]types.AttributeValue{":true": &types.AttributeValueMemberBOOL{Value: true}})
	t.delete(itemKey(pk, emailSK(strings.ToLower(u.Email))), "#userId = :uid", map[string]types.AttributeValue{":uid": str(userID)})
	return t.run(ctx, s.db)
}

// CountUsersWithAccess implements tokens.UserStore.
func (s *Store) CountUsersWithAccess(ctx context.Context, accountID, service string) (int, error) {
	keyCond := "#pk = :pk AND begins_with(#sk, :prefix)"
	filter := "#access.#service = :true AND attribute_not_exists(#deleting)"
	// The service ID is a map key, not an identifier: give it its own placeholder.
	names := exprNames(map[string]string{"#service": service}, keyCond, filter)
	return count(ctx, s.db, &dynamodb.QueryInput{
		TableName: &s.table, ConsistentRead: aws.Bool(true),
		KeyConditionExpression: &keyCond, FilterExpression: &filter, ExpressionAttributeNames: names,
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(accountPK(accountID)), ":prefix": str(prefixUser), ":true": &types.AttributeValueMemberBOOL{Value: true},
		},
	})
}

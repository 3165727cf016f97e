package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/plans"
)

// sweepBatch is how many tokens one sweep transaction deletes: three items
// each, and for a token with a plan of its own its plan's count and the
// marker that retires its key (five at most), plus one count per service,
// stays within DynamoDB's 100 items per transaction.
const sweepBatch = 18

// Sweep implements tokens.Sweeper. DeleteUser left a sweep item per deleted
// user; for each, Sweep deletes the user's tokens in transactions of
// sweepBatch (each token's three items and its count move together) and
// then the sweep item itself. A crash anywhere leaves the sweep item, so
// the next Sweep carries on; the tokens stopped working when the user item
// went, so nothing waits on this but storage and listings.
func (s *Store) Sweep(ctx context.Context, limit int) (bool, error) {
	keyCond := "#pk = :pk"
	sweeps, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName: &s.table, ConsistentRead: aws.Bool(true), KeyConditionExpression: &keyCond,
		ExpressionAttributeNames:  exprNames(nil, keyCond),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pkSweeps)},
		Limit:                     aws.Int32(int32(max(limit/sweepBatch, 1))),
	})
	if err != nil {
		return false, storeErr(err)
	}
	var items []sweepItem
	if err := attributevalue.UnmarshalListOfMaps(sweeps.Items, &items); err != nil {
		return false, fmt.Errorf("decode sweep items: %w", err)
	}
	more := sweeps.LastEvaluatedKey != nil
	for _, sw := range items {
		if limit <= 0 {
			return true, nil
		}
		n, err := s.sweepUser(ctx, sw, min(limit, sweepBatch))
		if err != nil {
			return true, err
		}
		// A user that still had tokens may hold more: the next call
		// finds out and then deletes its sweep item.
		more = more || n > 0
		limit -= max(n, 1)
	}
	return more, nil
}

// sweepUser deletes up to n tokens of a deleted user, or the sweep item
// once none remain, and says how many tokens it deleted.
func (s *Store) sweepUser(ctx context.Context, sw sweepItem, n int) (int, error) {
	keyCond := "#pk = :pk AND #userSk BETWEEN :lower AND :upper"
	lower, upper := prefixRange(userTokensPrefix(sw.UserID))
	res, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName: &s.table, IndexName: aws.String(indexByUser), ConsistentRead: aws.Bool(true),
		KeyConditionExpression: &keyCond, ExpressionAttributeNames: exprNames(nil, keyCond),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(accountPK(sw.AccountID)), ":lower": str(lower), ":upper": str(upper),
		},
		Limit: aws.Int32(int32(n)),
	})
	if err != nil {
		return 0, storeErr(err)
	}
	t := s.txn()
	if len(res.Items) == 0 {
		t.delete(itemKey(pkSweeps, sw.SK), "", nil)
		return 0, t.run(ctx, s.db)
	}
	var found []tokenItem
	if err := attributevalue.UnmarshalListOfMaps(res.Items, &found); err != nil {
		return 0, fmt.Errorf("decode tokens: %w", err)
	}
	counts, uses := map[string]int64{}, map[string]int64{}
	for _, it := range found {
		tok, err := it.token()
		if err != nil {
			return 0, err
		}
		t.deleteTokenItems(tok)
		if tok.PlanID != "" {
			// One count per plan: a transaction writes an item once.
			t.mark(plans.Assigned(plans.Assignment{AccountID: tok.AccountID, TokenID: tok.ID}, "", plans.NewSeq(), tok.UsageKey, tok.PlanID))
			uses[tok.PlanID]--
		}
		counts[tok.Service]--
	}
	for _, svc := range slices.Sorted(maps.Keys(counts)) {
		t.count(sw.AccountID, svc, "userTokens", counts[svc])
	}
	for _, planID := range slices.Sorted(maps.Keys(uses)) {
		t.use(planID, uses[planID])
	}
	// A token deleted meanwhile by an admin fails its condition: the next
	// Sweep reads the tokens again.
	if err := t.run(ctx, s.db); err != nil && !errors.Is(err, apperr.ErrStale) {
		return 0, err
	}
	return len(found), nil
}

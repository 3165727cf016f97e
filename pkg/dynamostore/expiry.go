package dynamostore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acmedata/tokenservice/pkg/schema"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// SweepExpired implements tokens.Sweeper: it moves up to limit tokens whose
// expiry has passed at now from the expiring state to the expired one, and
// so out of the expiry index and out of the key ranges that listings of
// active tokens read. Nothing depends on it for correctness (a listing
// checks every expiry against its own clock, the authorizer never reads the
// state): it keeps those listings from reading the tokens that expired
// before the last sweep.
func (s *Store) SweepExpired(ctx context.Context, now time.Time, limit int) (bool, error) {
	more := false
	keyCond := "#expiryPk = :pk AND #expirySk <= :now"
	for shard := range expiryShards {
		if limit <= 0 {
			return true, nil
		}
		res, err := s.db.Query(ctx, &dynamodb.QueryInput{
			TableName: &s.table, IndexName: aws.String(schema.CoreExpiring), KeyConditionExpression: &keyCond,
			ExpressionAttributeNames: exprNames(nil, keyCond),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": str(fmt.Sprintf("EXPIRY#%d", shard)), ":now": str(formatTime(now) + "#~"),
			},
			Limit: aws.Int32(int32(limit)),
		})
		if err != nil {
			return true, storeErr(err)
		}
		more = more || res.LastEvaluatedKey != nil
		for _, raw := range res.Items {
			if err := s.markExpired(ctx, raw, now); err != nil {
				return true, err
			}
			limit--
		}
	}
	return more, nil
}

// markExpired moves one token item, as the expiry index holds it, to the
// expired state, on condition that it has not been written since. The
// index is read eventually consistently, so an item may already have
// changed: a later write put it where its record says, and if it is still
// expiring the next sweep finds it again. The version is left alone, so an
// admin's write never conflicts with the sweep.
func (s *Store) markExpired(ctx context.Context, raw map[string]types.AttributeValue, now time.Time) error {
	var it tokenItem
	if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
		return fmt.Errorf("decode token: %w", err)
	}
	tok, err := it.token()
	if err != nil {
		return err
	}
	if recordState(tok) != stateExpiring || tok.Status(now) != tokens.StatusExpired {
		return nil
	}
	sets, removes, values := keyUpdate(newTokenKeys(tok, stateExpired))
	values[":v"] = num(it.Version)
	update := "SET " + strings.Join(sets, ", ") + " REMOVE " + strings.Join(removes, ", ")
	err = s.update(ctx, itemKey(it.PK, it.SK), update, "#version = :v", values, nil)
	if isConditionFailed(err) {
		return nil
	}
	return err
}

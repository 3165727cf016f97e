package dynamostore

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acmedata/tokenservice/pkg/tokens"
)

// gateItem is the union of what the authorizer reads of an account item
// and of a user item; one projection serves both in one BatchGetItem.
type gateItem struct {
	PK               string          `dynamodbav:"pk"`
	SK               string          `dynamodbav:"sk"`
	Status           string          `dynamodbav:"status"`
	Services         []string        `dynamodbav:"services"`
	APIKeyGeneration int64           `dynamodbav:"apiKeyGeneration"`
	Access           map[string]bool `dynamodbav:"access"`
}

const gateProjection = "#pk, #sk, #status, #services, #apiKeyGeneration, #access"

// Gates implements tokens.CredentialStore: the account and user items a
// decision depends on, strongly consistent, in one BatchGetItem (keys
// DynamoDB leaves unprocessed are asked for again).
func (s *Store) Gates(ctx context.Context, r tokens.GateRequest) (tokens.Gates, error) {
	var keys []map[string]types.AttributeValue
	accountKey, userKey := itemKey(accountPK(r.AccountID), skAccount), itemKey(accountPK(r.AccountID), userSK(r.UserID))
	if r.Account {
		keys = append(keys, accountKey)
	}
	if r.UserID != "" {
		keys = append(keys, userKey)
	}
	var g tokens.Gates
	for attempt := 1; len(keys) > 0; attempt++ {
		if attempt > 1 {
			if err := pause(ctx, attempt); err != nil {
				return tokens.Gates{}, err
			}
		}
		out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
			s.table: {
				Keys: keys, ConsistentRead: aws.Bool(true), ProjectionExpression: aws.String(gateProjection),
				ExpressionAttributeNames: exprNames(nil, gateProjection),
			},
		}})
		if err != nil {
			return tokens.Gates{}, storeErr(err)
		}
		for _, raw := range out.Responses[s.table] {
			var it gateItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return tokens.Gates{}, fmt.Errorf("decode gate %s/%s: %w", it.PK, it.SK, err)
			}
			if it.SK == skAccount {
				g.Account = &tokens.AccountGate{Status: tokens.AccountStatus(it.Status), Services: nonNil(it.Services), KeyGeneration: it.APIKeyGeneration}
			} else {
				access := it.Access
				if access == nil {
					access = map[string]bool{}
				}
				g.User = &tokens.UserGate{Access: access}
			}
		}
		keys = out.UnprocessedKeys[s.table].Keys
	}
	return g, nil
}

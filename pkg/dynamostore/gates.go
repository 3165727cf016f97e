package dynamostore

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// gateItem is the union of what the authorizer reads of an account item
// and of a user item; decoding ignores the items' other attributes.
type gateItem struct {
	PK               string          `dynamodbav:"pk"`
	SK               string          `dynamodbav:"sk"`
	Status           string          `dynamodbav:"status"`
	Services         []string        `dynamodbav:"services"`
	APIKeyGeneration int64           `dynamodbav:"apiKeyGeneration"`
	Access           map[string]bool `dynamodbav:"access"`
	// UsageKeys of the account's plans (plans): the usage key a decision
	// returns costs no read of its own.
	UsageKeys map[string]string `dynamodbav:"usageKeys"`
}

// Gates implements tokens.CredentialStore: the account and user items a
// decision depends on, strongly consistent, in one round trip. One item (a
// userless token's account, or the user of a token whose account gate the
// authorizer still holds) is one GetItem; both are one BatchGetItem, whose
// keys DynamoDB leaves unprocessed are asked for again.
//
// Two choices here are measured, not assumed (scripts/authbench and
// docs/data-model.md): a GetItem answers sooner than a BatchGetItem of the
// same key, and reading whole items answers sooner than a projection (the
// gate items are small, a projection saves no read units, and DynamoDB
// Local takes longer to parse one than to send the few attributes more).
func (s *Store) Gates(ctx context.Context, r tokens.GateRequest) (tokens.Gates, error) {
	var keys []map[string]types.AttributeValue
	if r.Account {
		keys = append(keys, itemKey(accountPK(r.AccountID), skAccount))
	}
	if r.UserID != "" {
		keys = append(keys, itemKey(accountPK(r.AccountID), userSK(r.UserID)))
	}
	var g tokens.Gates
	if len(keys) == 1 {
		out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: keys[0], ConsistentRead: aws.Bool(true)})
		if err != nil {
			return tokens.Gates{}, storeErr(err)
		}
		if out.Item != nil {
			err = addGate(&g, out.Item)
		}
		return g, err
	}
	err := s.batchGet(ctx, keys, func(raw map[string]types.AttributeValue) error { return addGate(&g, raw) })
	if err != nil {
		return tokens.Gates{}, err
	}
	return g, nil
}

// TokenAndGates implements tokens.CredentialStore: the token's item and the
// gate items r names in one BatchGetItem, strongly consistent. It is what
// makes a token seen before one round trip (docs/data-model.md): the
// BatchGetItem reads its keys in parallel, so on AWS it costs about one
// GetItem.
func (s *Store) TokenAndGates(ctx context.Context, secretHash string, r tokens.GateRequest) (tokens.Token, tokens.Gates, error) {
	keys := []map[string]types.AttributeValue{itemKey(credPK(secretHash), skCred)}
	if r.Account {
		keys = append(keys, itemKey(accountPK(r.AccountID), skAccount))
	}
	if r.UserID != "" {
		keys = append(keys, itemKey(accountPK(r.AccountID), userSK(r.UserID)))
	}
	var (
		g     tokens.Gates
		cred  credItem
		found bool
	)
	err := s.batchGet(ctx, keys, func(raw map[string]types.AttributeValue) error {
		if sk, ok := raw["sk"].(*types.AttributeValueMemberS); !ok || sk.Value != skCred {
			return addGate(&g, raw)
		}
		found = true
		if err := attributevalue.UnmarshalMap(raw, &cred); err != nil {
			return fmt.Errorf("decode token item: %w", err)
		}
		return nil
	})
	if err != nil {
		return tokens.Token{}, tokens.Gates{}, err
	}
	if !found {
		return tokens.Token{}, tokens.Gates{}, apperr.NotFound("token")
	}
	t, err := cred.token()
	if err != nil {
		return tokens.Token{}, tokens.Gates{}, err
	}
	return t, g, nil
}

// batchGet reads keys (at most 100) strongly consistent with BatchGetItem,
// asking again for the keys DynamoDB leaves unprocessed, and hands each item
// found to visit.
func (s *Store) batchGet(ctx context.Context, keys []map[string]types.AttributeValue, visit func(map[string]types.AttributeValue) error) error {
	for attempt := 1; len(keys) > 0; attempt++ {
		if attempt > 1 {
			if err := pause(ctx, attempt); err != nil {
				return err
			}
		}
		out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
			s.table: {Keys: keys, ConsistentRead: aws.Bool(true)},
		}})
		if err != nil {
			return storeErr(err)
		}
		for _, raw := range out.Responses[s.table] {
			if err := visit(raw); err != nil {
				return err
			}
		}
		keys = out.UnprocessedKeys[s.table].Keys
	}
	return nil
}

// addGate decodes an account or user item into its gate in g.
func addGate(g *tokens.Gates, raw map[string]types.AttributeValue) error {
	var it gateItem
	if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
		return fmt.Errorf("decode gate %s/%s: %w", it.PK, it.SK, err)
	}
	if it.SK == skAccount {
		g.Account = &tokens.AccountGate{Status: tokens.AccountStatus(it.Status), Services: nonNil(it.Services), KeyGeneration: it.APIKeyGeneration, UsageKeys: nilIfEmpty(it.UsageKeys)}
		return nil
	}
	access := it.Access
	if access == nil {
		access = map[string]bool{}
	}
	g.User = &tokens.UserGate{Access: access}
	return nil
}

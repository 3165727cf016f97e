// Package dbcount counts the write requests a store sends to DynamoDB, for
// the load programs that show a change costs the same whatever an account
// holds.
package dbcount

import (
	"context"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/acmedata/tokenservice/pkg/dynamostore"
)

// Writes is a dynamostore.DB that counts its write requests (each atomic:
// a transaction counts once).
type Writes struct {
	dynamostore.DB
	n atomic.Int64
}

// Count is the number of write requests sent so far.
func (w *Writes) Count() int64 { return w.n.Load() }

// UpdateItem counts one write.
func (w *Writes) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	w.n.Add(1)
	return w.DB.UpdateItem(ctx, in, opts...)
}

// TransactWriteItems counts one write, whatever the items.
func (w *Writes) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	w.n.Add(1)
	return w.DB.TransactWriteItems(ctx, in, opts...)
}

package dynamostore

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/dynamoerr"
)

// Cancellation reason codes of TransactionCanceledException.
const (
	reasonConditionFailed = "ConditionalCheckFailed"
	reasonConflict        = "TransactionConflict"
)

// storeErr maps an SDK error to the domain's kinds, keeping the SDK error
// as the cause for logs. Throttling and unavailability are classified by
// pkg/dynamoerr, which every store shares.
//
// A write whose condition failed, or that collided with a concurrent
// transaction, lost a race: ErrStale, for the domain to re-read and retry.
// Callers that know a more precise truth (NotFound, Conflict) test for
// ErrStale and say so.
func storeErr(err error) error {
	if err == nil {
		return nil
	}
	if transient, ok := dynamoerr.Transient(err); ok {
		return transient
	}
	var canceled *types.TransactionCanceledException
	switch {
	case isConditionFailed(err), isConflict(err), hasReason(err, reasonConditionFailed):
		return fmt.Errorf("%w: %w", apperr.ErrStale, err)
	case errors.As(err, &canceled):
		return fmt.Errorf("dynamodb transaction: %w", err)
	case errors.Is(err, context.Canceled):
		return err
	}
	return fmt.Errorf("dynamodb: %w", err)
}

// conditionFailedAt reports whether err is a cancelled transaction whose
// item i (in the order the txn added them) failed its condition.
func conditionFailedAt(err error, i int) bool {
	reasons := cancellationReasons(err)
	return i < len(reasons) && aws.ToString(reasons[i].Code) == reasonConditionFailed
}

// isConditionFailed reports whether err is a plain conditional failure of
// a single-item write (not a transaction conflict).
func isConditionFailed(err error) bool {
	var condition *types.ConditionalCheckFailedException
	return errors.As(err, &condition)
}

// isConflict reports whether err is a collision with a concurrent
// transaction, which a retry may get past.
func isConflict(err error) bool {
	var conflict *types.TransactionConflictException
	return errors.As(err, &conflict) || hasReason(err, reasonConflict)
}

// hasReason reports whether err is a cancelled transaction that some item
// was cancelled for with the reason code.
func hasReason(err error, code string) bool {
	for _, r := range cancellationReasons(err) {
		if aws.ToString(r.Code) == code {
			return true
		}
	}
	return false
}

// cancellationReasons returns the per-item reasons of a cancelled
// transaction, in the order the txn added its items; nil for any other err.
func cancellationReasons(err error) []types.CancellationReason {
	var canceled *types.TransactionCanceledException
	if !errors.As(err, &canceled) {
		return nil
	}
	return canceled.CancellationReasons
}

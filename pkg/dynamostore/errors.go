package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/acmedata/tokenservice/pkg/tokens"
)

// Cancellation reason codes of TransactionCanceledException.
const (
	reasonConditionFailed = "ConditionalCheckFailed"
	reasonConflict        = "TransactionConflict"
	reasonThrottled       = "ThrottlingError"
	reasonThroughput      = "ProvisionedThroughputExceeded"
)

// storeErr maps an SDK error to the domain's kinds, keeping the SDK error
// as the cause for logs. It goes by the SDK's typed errors only.
//
// A write whose condition failed, or that collided with a concurrent
// transaction, lost a race: ErrStale, for the domain to re-read and retry.
// Callers that know a more precise truth (NotFound, Conflict) test for
// ErrStale and say so.
func storeErr(err error) error {
	if err == nil {
		return nil
	}
	var (
		condition  *types.ConditionalCheckFailedException
		conflict   *types.TransactionConflictException
		canceled   *types.TransactionCanceledException
		throughput *types.ProvisionedThroughputExceededException
		limit      *types.RequestLimitExceeded
		throttling *types.ThrottlingException
		send       *smithyhttp.RequestSendError
		response   *smithyhttp.ResponseError
		netErr     net.Error
	)
	switch {
	case errors.As(err, &canceled):
		return canceledErr(canceled, err)
	case errors.As(err, &condition), errors.As(err, &conflict):
		return fmt.Errorf("%w: %w", tokens.ErrStale, err)
	case errors.As(err, &throughput), errors.As(err, &limit), errors.As(err, &throttling):
		return tokens.Throttled(err)
	case errors.Is(err, context.Canceled):
		return err
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &send), errors.As(err, &netErr),
		errors.As(err, &response) && response.HTTPStatusCode() >= 500:
		return tokens.Unavailable(err)
	}
	return fmt.Errorf("dynamodb: %w", err)
}

func canceledErr(canceled *types.TransactionCanceledException, err error) error {
	for _, r := range canceled.CancellationReasons {
		switch code(r) {
		case reasonThrottled, reasonThroughput:
			return tokens.Throttled(err)
		}
	}
	for _, r := range canceled.CancellationReasons {
		switch code(r) {
		case reasonConditionFailed, reasonConflict:
			return fmt.Errorf("%w: %w", tokens.ErrStale, err)
		}
	}
	return fmt.Errorf("dynamodb transaction: %w", err)
}

// conditionFailedAt reports whether err is a cancelled transaction whose
// item i (in the order the txn added them) failed its condition.
func conditionFailedAt(err error, i int) bool {
	var canceled *types.TransactionCanceledException
	if !errors.As(err, &canceled) || i >= len(canceled.CancellationReasons) {
		return false
	}
	return code(canceled.CancellationReasons[i]) == reasonConditionFailed
}

// isConditionFailed reports whether err is a plain conditional failure of
// a single-item write (not a transaction conflict).
func isConditionFailed(err error) bool {
	var condition *types.ConditionalCheckFailedException
	return errors.As(err, &condition)
}

func code(r types.CancellationReason) string {
	if r.Code == nil {
		return ""
	}
	return *r.Code
}

// isConflict reports whether err is a collision with a concurrent
// transaction, which a retry may get past.
func isConflict(err error) bool {
	var conflict *types.TransactionConflictException
	if errors.As(err, &conflict) {
		return true
	}
	var canceled *types.TransactionCanceledException
	if errors.As(err, &canceled) {
		for _, r := range canceled.CancellationReasons {
			if code(r) == reasonConflict {
				return true
			}
		}
	}
	return false
}

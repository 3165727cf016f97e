// Package dynamoerr tells the stores over DynamoDB which SDK failures are
// transient, and maps those to the domain's kinds: throttling becomes
// apperr.Throttled (429) and an unreachable or failing DynamoDB becomes
// apperr.Unavailable (503). It goes by the SDK's typed errors only, never
// by message text, so a reworded message cannot change a status.
//
// What a failed condition or a cancelled transaction means is a store's own
// business (a lost race, a duplicate, a missing item) and stays there; this
// package only knows what every store shares.
package dynamoerr

import (
	"context"
	"errors"
	"net"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Cancellation reason codes of a TransactionCanceledException that mean
// the transaction was throttled rather than refused.
const (
	reasonThrottled  = "ThrottlingError"
	reasonThroughput = "ProvisionedThroughputExceeded"
)

// Transient maps err to apperr.Throttled when DynamoDB asked us to slow
// down, or to apperr.Unavailable when it could not be reached, timed out or
// failed on its side (5xx), and reports whether it did. The domain error
// keeps err as its cause, for logs.
//
// Anything else, a cancelled context included (the caller gave up; the
// store is fine), is left to the caller: ok is false.
func Transient(err error) (_ *apperr.Error, ok bool) {
	if err == nil {
		return nil, false
	}
	var (
		throughput *types.ProvisionedThroughputExceededException
		limit      *types.RequestLimitExceeded
		throttling *types.ThrottlingException
		send       *smithyhttp.RequestSendError
		response   *smithyhttp.ResponseError
		netErr     net.Error
	)
	switch {
	case errors.As(err, &throughput), errors.As(err, &limit), errors.As(err, &throttling),
		transactionThrottled(err):
		return apperr.Throttled(err), true
	case errors.Is(err, context.Canceled):
		// Checked before the network cases: a cancelled request also
		// surfaces as a RequestSendError.
		return nil, false
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &send), errors.As(err, &netErr),
		errors.As(err, &response) && response.HTTPStatusCode() >= 500:
		return apperr.Unavailable(err), true
	}
	return nil, false
}

// transactionThrottled reports whether err is a cancelled transaction that
// any of its items was throttled in: a retry later may succeed, whatever
// the other items' reasons say.
func transactionThrottled(err error) bool {
	var canceled *types.TransactionCanceledException
	if !errors.As(err, &canceled) {
		return false
	}
	for _, r := range canceled.CancellationReasons {
		switch aws.ToString(r.Code) {
		case reasonThrottled, reasonThroughput:
			return true
		}
	}
	return false
}

package dynamoerr_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/dynamoerr"
)

// apiErr wraps an API error the way the SDK returns it: an operation error
// around an HTTP response error with the given status.
func apiErr(status int, err error) error {
	return &smithy.OperationError{ServiceID: "DynamoDB", OperationName: "TransactWriteItems", Err: &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: err},
		RequestID:     "req-1",
	}}
}

// sendErr wraps a transport failure the way the SDK returns it.
func sendErr(err error) error {
	return &smithy.OperationError{ServiceID: "DynamoDB", OperationName: "Query", Err: &smithyhttp.RequestSendError{Err: err}}
}

func canceledBy(codes ...string) error {
	reasons := make([]types.CancellationReason, len(codes))
	for i, c := range codes {
		reasons[i] = types.CancellationReason{Code: aws.String(c)}
	}
	return apiErr(400, &types.TransactionCanceledException{CancellationReasons: reasons})
}

func TestTransientMapsThrottlingAndUnavailabilityByTypedErrors(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	tests := []struct {
		name string
		err  error
		want error // apperr.ErrThrottled, apperr.ErrUnavailable, or nil: not transient
	}{
		{"throttling exception", apiErr(400, &types.ThrottlingException{}), apperr.ErrThrottled},
		{"provisioned throughput exceeded", apiErr(400, &types.ProvisionedThroughputExceededException{}), apperr.ErrThrottled},
		{"request limit exceeded", apiErr(400, &types.RequestLimitExceeded{}), apperr.ErrThrottled},
		{"transaction with a throttled item", canceledBy("None", "ThrottlingError"), apperr.ErrThrottled},
		{"transaction over provisioned throughput", canceledBy("ProvisionedThroughputExceeded"), apperr.ErrThrottled},
		{"throttled item beats a failed condition", canceledBy("ConditionalCheckFailed", "ThrottlingError"), apperr.ErrThrottled},
		{"connection refused", sendErr(refused), apperr.ErrUnavailable},
		{"bare network error", refused, apperr.ErrUnavailable},
		{"deadline exceeded", fmt.Errorf("query: %w", context.DeadlineExceeded), apperr.ErrUnavailable},
		{"server error", apiErr(500, &types.InternalServerError{}), apperr.ErrUnavailable},
		{"service unavailable", apiErr(503, &smithy.GenericAPIError{Code: "ServiceUnavailable"}), apperr.ErrUnavailable},
		{"cancelled context", context.Canceled, nil},
		{"cancelled context while sending", sendErr(context.Canceled), nil},
		{"condition failed", apiErr(400, &types.ConditionalCheckFailedException{}), nil},
		{"transaction conflict", apiErr(400, &types.TransactionConflictException{}), nil},
		{"transaction cancelled by conditions", canceledBy("None", "ConditionalCheckFailed"), nil},
		{"validation error", apiErr(400, &smithy.GenericAPIError{Code: "ValidationException"}), nil},
		{"resource not found", apiErr(400, &types.ResourceNotFoundException{}), nil},
		{"nil", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := dynamoerr.Transient(tt.err)
			if tt.want == nil {
				if ok || got != nil {
					t.Fatalf("Transient(%v) = %v, %v; want not transient", tt.err, got, ok)
				}
				return
			}
			if !ok || !errors.Is(got, tt.want) {
				t.Fatalf("Transient(%v) = %v, %v; want %v", tt.err, got, ok, tt.want)
			}
			if !errors.Is(got, tt.err) {
				t.Errorf("Transient(%v) lost the SDK error as its cause: %v", tt.err, got)
			}
		})
	}
}

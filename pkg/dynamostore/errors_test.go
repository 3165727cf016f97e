package dynamostore

import (
	"context"
	"errors"
	"testing"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func canceledBy(codes ...string) error {
	reasons := make([]types.CancellationReason, len(codes))
	for i, c := range codes {
		reasons[i] = types.CancellationReason{Code: aws.String(c)}
	}
	return &types.TransactionCanceledException{CancellationReasons: reasons}
}

func TestStoreErrReportsLostRacesAsStale(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		wantStale bool
		wantKind  error // a tokens sentinel the result must match, if any
	}{
		{"condition failed", &types.ConditionalCheckFailedException{}, true, nil},
		{"transaction conflict", &types.TransactionConflictException{}, true, nil},
		{"transaction item failed its condition", canceledBy("None", reasonConditionFailed), true, nil},
		{"transaction item in conflict", canceledBy(reasonConflict, "None"), true, nil},
		{"throttled transaction is throttled, not stale", canceledBy(reasonConditionFailed, "ThrottlingError"), false, apperr.ErrThrottled},
		{"transaction cancelled for another reason", canceledBy("ValidationError"), false, nil},
		{"throttling", &types.ThrottlingException{}, false, apperr.ErrThrottled},
		{"deadline", context.DeadlineExceeded, false, apperr.ErrUnavailable},
		{"cancelled context", context.Canceled, false, context.Canceled},
		{"anything else", &types.ResourceNotFoundException{}, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := storeErr(tt.err)
			if stale := errors.Is(got, apperr.ErrStale); stale != tt.wantStale {
				t.Errorf("storeErr(%v) stale = %v, want %v", tt.err, stale, tt.wantStale)
			}
			if tt.wantKind != nil && !errors.Is(got, tt.wantKind) {
				t.Errorf("storeErr(%v) = %v, want %v", tt.err, got, tt.wantKind)
			}
			if !errors.Is(got, tt.err) {
				t.Errorf("storeErr(%v) = %v lost the SDK error", tt.err, got)
			}
		})
	}
}

func TestConditionFailedAtNamesTheFailingItem(t *testing.T) {
	err := canceledBy("None", reasonConditionFailed)
	tests := []struct {
		name string
		err  error
		i    int
		want bool
	}{
		{"failing item", err, 1, true},
		{"passing item", err, 0, false},
		{"index past the items", err, 2, false},
		{"plain condition failure", &types.ConditionalCheckFailedException{}, 0, false},
		{"nil", nil, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := conditionFailedAt(tt.err, tt.i); got != tt.want {
				t.Errorf("conditionFailedAt(%v, %d) = %v, want %v", tt.err, tt.i, got, tt.want)
			}
		})
	}
}

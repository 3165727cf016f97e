package usage_test

import (
	"errors"
	"testing"
	"time"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/usage"
)

func TestWindowNeverReachesPastRetention(t *testing.T) {
	now := time.Date(2025, 6, 15, 12, 0, 0, 0, time.UTC)
	oldest := now.Add(-usage.Retention)
	tests := []struct {
		name             string
		filter           usage.Filter
		wantFrom, wantTo time.Time
		wantOK           bool
	}{
		{"no range: the last seven days", usage.Filter{}, oldest, now, true},
		{"from older than retention is clamped", usage.Filter{From: now.Add(-30 * 24 * time.Hour)}, oldest, now, true},
		{"from inside retention is kept", usage.Filter{From: now.Add(-time.Hour)}, now.Add(-time.Hour), now, true},
		{"from exactly at the retention edge", usage.Filter{From: oldest}, oldest, now, true},
		{"to in the future is clamped to now", usage.Filter{To: now.Add(time.Hour)}, oldest, now, true},
		{"to inside retention is kept", usage.Filter{To: now.Add(-2 * time.Hour)}, oldest, now.Add(-2 * time.Hour), true},
		{"both inside retention", usage.Filter{From: now.Add(-3 * time.Hour), To: now.Add(-time.Hour)}, now.Add(-3 * time.Hour), now.Add(-time.Hour), true},
		{"a single instant", usage.Filter{From: now.Add(-time.Hour), To: now.Add(-time.Hour)}, now.Add(-time.Hour), now.Add(-time.Hour), true},
		{"range wholly older than retention matches nothing", usage.Filter{From: now.Add(-10 * 24 * time.Hour), To: now.Add(-8 * 24 * time.Hour)}, time.Time{}, time.Time{}, false},
		{"range wholly in the future matches nothing", usage.Filter{From: now.Add(time.Hour)}, time.Time{}, time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from, to, ok := tt.filter.Window(now)
			if ok != tt.wantOK {
				t.Fatalf("Window ok = %v, want %v (from %v, to %v)", ok, tt.wantOK, from, to)
			}
			if !ok {
				return
			}
			if !from.Equal(tt.wantFrom) || !to.Equal(tt.wantTo) {
				t.Errorf("Window = [%v, %v], want [%v, %v]", from, to, tt.wantFrom, tt.wantTo)
			}
			if from.Before(oldest) {
				t.Errorf("Window starts at %v, before the retention edge %v", from, oldest)
			}
		})
	}
}

func TestValidateRefusesFromAfterTo(t *testing.T) {
	t0 := time.Date(2025, 6, 15, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		filter  usage.Filter
		wantErr bool
	}{
		{"empty filter", usage.Filter{}, false},
		{"from only", usage.Filter{From: t0}, false},
		{"to only", usage.Filter{To: t0}, false},
		{"from before to", usage.Filter{From: t0, To: t0.Add(time.Second)}, false},
		{"from equal to to", usage.Filter{From: t0, To: t0}, false},
		{"from after to", usage.Filter{From: t0.Add(time.Second), To: t0}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.filter.Validate()
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var domain *apperr.Error
			if !errors.As(err, &domain) || !errors.Is(err, apperr.ErrInvalid) || domain.Code != "invalid_time_range" {
				t.Fatalf("Validate() = %v, want an invalid_time_range error of kind invalid", err)
			}
		})
	}
}

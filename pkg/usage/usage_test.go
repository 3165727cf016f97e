package usage_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/id"
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

func TestRedactPathRemovesTokensAnywhere(t *testing.T) {
	const token = "46a4eccec1414feab118287faafc5c80"
	tokenID := id.New(id.Token)
	tests := []struct {
		name string
		path string
		want string
	}{
		{"path segment", "/feed/" + token + "/tmy/hourly", "/feed/{token}/tmy/hourly"},
		{"query string", "/data/tmy/hourly?token=" + token, "/data/tmy/hourly?token={token}"},
		{"last segment", "/data/tmy/" + token, "/data/tmy/{token}"},
		{"inside a segment", "/data/tmy/x" + token + "y", "/data/tmy/x{token}y"},
		{"uppercase hex", "/feed/" + strings.ToUpper(token) + "/tmy", "/feed/{token}/tmy"},
		{"two tokens", "/feed/" + token + "/tmy?token=" + token, "/feed/{token}/tmy?token={token}"},
		{"resource template", "/feed/{token}/{service}/{proxy+}", "/feed/{token}/{service}/{proxy+}"},
		{"admin route template", "/admin/tokens/{tokenId}", "/admin/tokens/{tokenId}"},
		{"token ID is not a token", "/admin/tokens/" + tokenID, "/admin/tokens/" + tokenID},
		{"31 hex characters are not a token", "/data/tmy/" + token[:31], "/data/tmy/" + token[:31]},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := usage.RedactPath(tt.path)
			if got != tt.want {
				t.Errorf("RedactPath(%q) = %q, want %q", tt.path, got, tt.want)
			}
			if strings.Contains(strings.ToLower(got), token) {
				t.Errorf("RedactPath(%q) = %q still holds the token", tt.path, got)
			}
		})
	}
}

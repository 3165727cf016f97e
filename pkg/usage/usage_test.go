package usage_test

import (
	"errors"
	"strings"
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

func TestStatusFilterMatchesOneStatusOrAClassAndRefusesTheRest(t *testing.T) {
	for _, tc := range []struct {
		in      string
		matches []int
		misses  []int
	}{
		{"", []int{200, 403, 500}, nil},
		{"403", []int{403}, []int{401, 200, 4030}},
		{"4xx", []int{400, 401, 403, 499}, []int{399, 500, 200}},
		{"4XX", []int{404}, []int{200}},
		{"100", []int{100}, []int{101}},
		{"599", []int{599}, []int{500}},
		{"1xx", []int{101}, []int{200}},
	} {
		st, err := usage.ParseStatus(tc.in)
		if err != nil {
			t.Errorf("ParseStatus(%q): %v", tc.in, err)
			continue
		}
		for _, s := range tc.matches {
			if !st.Matches(s) {
				t.Errorf("%q does not match %d", tc.in, s)
			}
		}
		for _, s := range tc.misses {
			if st.Matches(s) {
				t.Errorf("%q matches %d", tc.in, s)
			}
		}
		if again, _ := usage.ParseStatus(st.String()); again != st {
			t.Errorf("%q reads back as %q", tc.in, st.String())
		}
	}
	for _, bad := range []string{"abc", "99", "600", "6xx", "0xx", "4x", "4xxx", "40", "-403", "+403", " 403", "4 3", "x4x", "1000", "٤٠٣"} {
		_, err := usage.ParseStatus(bad)
		var domain *apperr.Error
		if !errors.As(err, &domain) || !errors.Is(err, apperr.ErrInvalid) || domain.Code != "invalid_status" {
			t.Errorf("ParseStatus(%q) = %v, want invalid_status", bad, err)
		}
	}
}

func TestStatusTagsAreWhatAMatchingFilterSays(t *testing.T) {
	for _, status := range []int{100, 200, 302, 401, 403, 503, 599} {
		for _, tag := range usage.StatusTags(status) {
			if st, err := usage.ParseStatus(tag); err != nil || !st.Matches(status) {
				t.Errorf("tag %q of %d: %v", tag, status, err)
			}
		}
	}
	if tags := usage.StatusTags(0); len(tags) != 0 {
		t.Errorf("status 0 has tags %v", tags)
	}
}

// token has a token's shape: a record's IDs must never hold one.
const token = "46a4eccec1414feab118287f5af26f03"

func TestValidateRefusesWhatCannotBecomeAKey(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	good := usage.Record{Time: now, RequestID: "r-1", AccountID: "acc_1", TokenID: "tok_1", Status: 200}
	if err := good.Validate(now); err != nil {
		t.Fatalf("a good record: %v", err)
	}
	for name, mutate := range map[string]func(*usage.Record){
		"no request ID":        func(r *usage.Record) { r.RequestID = "" },
		"huge request ID":      func(r *usage.Record) { r.RequestID = strings.Repeat("r", 2000) },
		"key separator":        func(r *usage.Record) { r.AccountID = "acc#1" },
		"token as a token ID":  func(r *usage.Record) { r.TokenID = token },
		"space in a user ID":   func(r *usage.Record) { r.UserID = "usr 1" },
		"no account":           func(r *usage.Record) { r.AccountID = "" },
		"time before 2000":     func(r *usage.Record) { r.Time = time.Unix(5, 0) },
		"time in the future":   func(r *usage.Record) { r.Time = now.Add(48 * time.Hour) },
		"negative latency":     func(r *usage.Record) { r.LatencyMs = -1 },
		"non-ASCII request ID": func(r *usage.Record) { r.RequestID = "réq" },
	} {
		r := good
		mutate(&r)
		err := r.Validate(now)
		if !errors.Is(err, usage.ErrInvalidRecord) {
			t.Errorf("%s: Validate = %v, want ErrInvalidRecord", name, err)
		} else if strings.Contains(err.Error(), token) {
			t.Errorf("%s: the error repeats the value: %v", name, err)
		}
	}
}

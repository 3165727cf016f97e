package plans

import (
	"strings"
	"testing"
	"time"
)

func TestQuotaPeriodsStartAndEndOnUTCBoundaries(t *testing.T) {
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		period     Period
		now        string
		start, end string
	}{
		{Day, "2026-12-06T14:00:00Z", "2026-12-06T00:00:00Z", "2026-12-07T00:00:00Z"},
		{Day, "2026-12-06T00:00:00Z", "2026-12-06T00:00:00Z", "2026-12-07T00:00:00Z"},
		{Day, "2026-12-06T23:30:00-02:00", "2026-12-07T00:00:00Z", "2026-12-08T00:00:00Z"}, // UTC, not the caller's zone
		{Week, "2026-12-06T14:00:00Z", "2026-11-30T00:00:00Z", "2026-12-07T00:00:00Z"},     // a Sunday: the week began Monday
		{Week, "2026-12-07T00:00:00Z", "2026-12-07T00:00:00Z", "2026-12-14T00:00:00Z"},     // a Monday
		{Month, "2026-12-31T23:59:59Z", "2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z"},
		{Month, "2028-02-29T12:00:00Z", "2028-02-01T00:00:00Z", "2028-03-01T00:00:00Z"},
	}
	for _, tc := range tests {
		now := at(tc.now)
		if got := tc.period.Start(now); !got.Equal(at(tc.start)) {
			t.Errorf("%s.Start(%s) = %s, want %s", tc.period, tc.now, got, tc.start)
		}
		if got := tc.period.End(now); !got.Equal(at(tc.end)) {
			t.Errorf("%s.End(%s) = %s, want %s", tc.period, tc.now, got, tc.end)
		}
	}
}

func TestOnlyTheThreePeriodsAreValid(t *testing.T) {
	for p, want := range map[Period]bool{Day: true, Week: true, Month: true, "": false, "DAY": false, "year": false} {
		if p.Valid() != want {
			t.Errorf("%q.Valid() = %v, want %v", p, !want, want)
		}
	}
}

// TestEveryUsageKeyIsOneAPIGatewayTakes: API Gateway takes 20 to 128
// letters and digits as a key's value; a derived key outside that would
// leave its assignment unlimited on AWS (the reconciler's PutKey failing)
// while the local twin took it.
func TestEveryUsageKeyIsOneAPIGatewayTakes(t *testing.T) {
	for _, a := range []Assignment{{AccountID: "acc_01J9ZQ3V7W8X9Y0Z1A2B3C4D5E", Service: "tmy"}, {TokenID: "tok_01J9ZQ3V7W8X9Y0Z1A2B3C4D5E"}} {
		if k := KeyFor(a, "pln_01J9ZQ3V7W8X9Y0Z1A2B3C4D5E"); CheckKeyValue(k) != nil {
			t.Errorf("KeyFor(%v) = %q: %v", a, k, CheckKeyValue(k))
		}
	}
	for v, ok := range map[string]bool{
		strings.Repeat("a", 19): false, strings.Repeat("a", 20): true, strings.Repeat("Z9", 64): true, strings.Repeat("a", 129): false,
		"tkp_" + strings.Repeat("a", 30): false, strings.Repeat("a", 30) + "-": false, strings.Repeat("é", 20): false,
	} {
		if got := CheckKeyValue(v) == nil; got != ok {
			t.Errorf("CheckKeyValue(%q) ok = %v, want %v", v, got, ok)
		}
	}
}

package tokens

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/paging"
)

func TestValidateName(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"  Reporting  ", "Reporting", true},
		{strings.Repeat("é", 100), strings.Repeat("é", 100), true},
		{strings.Repeat("a", 101), "", false},
		{"   ", "", false},
		{"", "", false},
		{"bad\x00name", "", false},
		{"tab\tinside", "", false},
		{"\xff\xfe", "", false},
	} {
		got, err := ValidateName("name", tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ValidateName(%q) = %q, %v; want %q ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
		if err != nil && !errors.Is(err, apperr.ErrInvalid) {
			t.Errorf("ValidateName(%q) error %v is not apperr.ErrInvalid", tc.in, err)
		}
	}
}

func TestValidateEmail(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"ada@example.com", true},
		{" ada@example.com ", true},
		{"Ada <ada@example.com>", false},
		{"not-an-email", false},
		{"", false},
		{strings.Repeat("a", 250) + "@example.com", false},
	} {
		if _, err := ValidateEmail(tc.in); (err == nil) != tc.ok {
			t.Errorf("ValidateEmail(%q) err = %v, want ok=%v", tc.in, err, tc.ok)
		}
	}
}

func TestValidateSettingsKeepsFlatScalarsOnly(t *testing.T) {
	many := Settings{}
	for i := range MaxSettings + 1 {
		many["k"+strings.Repeat("x", i)] = true
	}
	for _, tc := range []struct {
		name string
		in   Settings
		ok   bool
	}{
		{"scalars", Settings{"publicOnly": true, "maxRows": 100.0, "region": "eu"}, true},
		{"empty", Settings{}, true},
		{"nested object", Settings{"a": map[string]any{"b": 1.0}}, false},
		{"array", Settings{"a": []any{1.0}}, false},
		{"null", Settings{"a": nil}, false},
		{"NaN", Settings{"a": math.NaN()}, false},
		{"bad key", Settings{"has space": true}, false},
		{"long string", Settings{"a": strings.Repeat("x", MaxSettingString+1)}, false},
		{"too many keys", many, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ValidateSettings(tc.in)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestValidatePageAppliesDefaultAndBounds(t *testing.T) {
	for _, tc := range []struct {
		in   int
		want int
		ok   bool
	}{{0, paging.DefaultLimit, true}, {1, 1, true}, {100, 100, true}, {101, 0, false}, {-1, 0, false}} {
		p, err := paging.Validate(paging.Request{Limit: tc.in})
		if (err == nil) != tc.ok || (tc.ok && p.Limit != tc.want) {
			t.Errorf("paging.Validate(%d) = %d, %v", tc.in, p.Limit, err)
		}
	}
}

package tokens

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/paging"
	"github.com/acmedata/tokenservice/pkg/restrict"
	"github.com/acmedata/tokenservice/pkg/secret"
)

// TestFreeTextHoldingASecretIsRefusedAsSecretInInput: every free-text
// validator refuses a value holding a token or an API key with 400
// secret_in_input, before any other rule and without repeating it, while
// a 32-hex string that fails the token check is ordinary text.
func TestFreeTextHoldingASecretIsRefusedAsSecretInInput(t *testing.T) {
	tok := secret.NewToken()
	key := secret.NewAPIKey(DefaultAPIKeyPrefix)
	const digest = "46a4eccec1414feab118287faafc5c80" // check fails
	validators := map[string]func(string) error{
		"name":          func(v string) error { _, err := ValidateName("name", v); return err },
		"email":         func(v string) error { _, err := ValidateEmail(v); return err },
		"setting key":   func(v string) error { _, err := ValidateSettings(Settings{v: true}); return err },
		"setting value": func(v string) error { _, err := ValidateSettings(Settings{"note": v}); return err },
		"origin": func(v string) error {
			_, err := compileRestrictions(&restrict.Restrictions{Origins: []string{v}})
			return err
		},
		"ip range": func(v string) error {
			_, err := compileRestrictions(&restrict.Restrictions{IPRanges: []string{v}})
			return err
		},
	}
	for _, tc := range []struct {
		validator, name, in string
		secret              bool
	}{
		{"name", "a token", tok, true},
		{"name", "a token in a sentence", "prod " + tok + " key", true},
		{"name", "a token over 100 characters", strings.Repeat("x", 100) + tok, true},
		{"name", "an uppercased token", strings.ToUpper(tok), true},
		{"name", "an API key", key, true},
		{"name", "a digest", "build " + digest, false},
		{"email", "a token as the local part", tok + "@example.com", true},
		{"email", "a token in the domain", "a@" + tok + ".example.com", true},
		{"email", "a digest as the local part", digest + "@example.com", false},
		{"setting key", "a token as a key", "a" + tok, true},
		{"setting key", "an API key as a key", key, true},
		{"setting value", "a token as a value", tok, true},
		{"setting value", "an API key as a value", "key=" + key, true},
		{"setting value", "a digest as a value", digest, false},
		{"origin", "a token as a host", "https://" + tok + ".example.com", true},
		{"origin", "a token as a path", "https://maps.example.com/" + tok, true},
		{"origin", "a digest as a host", "https://" + digest + ".example.com", false},
		{"ip range", "a token as a range", tok, true},
	} {
		t.Run(tc.validator+"/"+tc.name, func(t *testing.T) {
			err := validators[tc.validator](tc.in)
			var ae *apperr.Error
			isSecret := errors.As(err, &ae) && ae.Code == SecretInInput
			if isSecret != tc.secret {
				t.Fatalf("err = %v, want secret_in_input: %v", err, tc.secret)
			}
			if err != nil && (strings.Contains(err.Error(), tok) || strings.Contains(err.Error(), key) || strings.Contains(err.Error(), key[4:])) {
				t.Fatalf("the error repeats the secret: %v", err)
			}
		})
	}
}

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
		{"right-to-left override \u202e", "", false},
		{"left-to-right embedding \u202a", "", false},
		{"pop directional formatting \u202cx", "", false},
		{"isolate \u2066x\u2069", "", false},
		{"first strong isolate \u2068", "", false},
		{"right-to-left mark \u200f", "", false},
		{"\ufeffbyte-order mark", "", false},
		{"\u200b\u200c\u200d", "", false},
		{" \u2060 \u200b ", "", false},
		{"zero\u200bwidth inside", "zero\u200bwidth inside", true},
		{"עברית", "עברית", true},
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
		{"a@-example.com", false},
		{"a@example-.com", false},
		{"a@[127.0.0.1]", false},
		{"a@127.0.0.1", false},
		{"a@localhost", false},
		{"a@exa_mple.com", false},
		{"a@ex..ample.com", false},
		{"a@münchen.de", false},
		{"a@xn--mnchen-3ya.de", true},
		{"first.last+tag@sub.example.co.uk", true},
		{"a@" + strings.Repeat("x", 64) + ".com", false},
	} {
		if _, err := ValidateEmail(tc.in); (err == nil) != tc.ok {
			t.Errorf("ValidateEmail(%q) err = %v, want ok=%v", tc.in, err, tc.ok)
		}
	}
}

// TestValidateSettingsNeverRepeatsASecretKey: a key is the operator's
// text; a secret pasted as one never comes back whole in the error.
func TestValidateSettingsNeverRepeatsASecretKey(t *testing.T) {
	const key = "tka_6Kq2Vx9Lm3Rt8Wb1Zc5Nd7Hf4Jg0Ps"
	for _, s := range []Settings{
		{key: map[string]any{}},
		{key: math.Inf(1)},
		{key: 1e300},
		{key: strings.Repeat("x", MaxSettingString+1)},
		{key + " ": true},
	} {
		_, err := ValidateSettings(s)
		if err == nil || strings.Contains(err.Error(), key) || strings.Contains(err.Error(), key[4:]) {
			t.Errorf("ValidateSettings(%v) = %v, want an error without the key", s, err)
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
		{"infinity", Settings{"a": math.Inf(-1)}, false},
		{"zero", Settings{"a": 0.0}, true},
		{"largest DynamoDB magnitude", Settings{"a": 9.99999999999999e125, "b": -9.99999999999999e125}, true},
		{"smallest DynamoDB magnitude", Settings{"a": 1e-130, "b": -1e-130}, true},
		{"1e126 is over DynamoDB's range", Settings{"a": 1e126}, false},
		{"1e308 is over DynamoDB's range", Settings{"a": 1e308}, false},
		{"-1e200 is over DynamoDB's range", Settings{"a": -1e200}, false},
		{"1e-131 is under DynamoDB's range", Settings{"a": 1e-131}, false},
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

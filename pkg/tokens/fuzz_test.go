package tokens

import (
	"errors"
	"math"
	"net/mail"
	"strings"
	"testing"
	"unicode"

	"github.com/go-json-experiment/json"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/secret"
)

// FuzzValidateSettings: a settings object an operator sends is refused as
// invalid input or kept as flat values DynamoDB can store; the error
// never repeats a long key whole.
func FuzzValidateSettings(f *testing.F) {
	f.Add(`{"publicOnly":true,"maxRows":100,"region":"eu"}`)
	f.Add(`{"a":1e126,"b":1e-131,"c":-1e200}`)
	f.Add(`{"tka_6Kq2Vx9Lm3Rt8Wb1Zc5Nd7Hf4Jg0Ps":{"x":1}}`)
	f.Add(`{"a46a4eccec1414feab118287f5af26f03":true}`)
	f.Add(`{"note":"tok 46a4eccec1414feab118287f5af26f03"}`)
	f.Add(`{"digest":"46a4eccec1414feab118287faafc5c80"}`)
	f.Fuzz(func(t *testing.T, raw string) {
		var s Settings
		if json.Unmarshal([]byte(raw), &s) != nil {
			return // the HTTP layer refuses it before
		}
		out, err := ValidateSettings(s)
		if err != nil {
			if !errors.Is(err, apperr.ErrInvalid) {
				t.Fatalf("ValidateSettings(%s) = %v, not invalid input", raw, err)
			}
			for k := range s {
				if len(k) > 12 && strings.Contains(err.Error(), k) {
					t.Fatalf("ValidateSettings(%s) repeats key %q", raw, k)
				}
			}
			return
		}
		for k, v := range out {
			if str, _ := v.(string); secret.ContainsSecret(k) || secret.ContainsSecret(str) {
				t.Fatalf("kept %s = %v, which holds a secret", k, v)
			}
			if n, ok := v.(float64); ok && n != 0 && (math.Abs(n) < 1e-130 || math.Abs(n) >= 1e126) {
				t.Fatalf("kept %s = %v, outside DynamoDB's range", k, n)
			}
		}
	})
}

// FuzzValidateNameAndEmail: what the validators accept is what they
// promise: a visible name without controls, an address with a host name.
func FuzzValidateNameAndEmail(f *testing.F) {
	f.Add("Reporting", "ada@example.com")
	f.Add("\u202eevil", "a@-example.com")
	f.Add("\u200b", "a@[127.0.0.1]")
	f.Add("46a4eccec1414feab118287f5af26f03", "46a4eccec1414feab118287f5af26f03@example.com")
	f.Add("digest 46a4eccec1414feab118287faafc5c80", "a@46a4eccec1414feab118287faafc5c80.example.com")
	f.Fuzz(func(t *testing.T, name, email string) {
		for _, v := range []string{name, email} {
			if echoes(v) {
				t.Fatalf("an error repeats the secret-holding input %q", v)
			}
		}
		if got, err := ValidateName("name", name); err == nil {
			if secret.ContainsSecret(got) {
				t.Fatalf("ValidateName(%q) accepted a secret", name)
			}
			if strings.ContainsFunc(got, func(r rune) bool { return unicode.IsControl(r) || isBidiControlOrBOM(r) }) || !strings.ContainsFunc(got, isVisible) {
				t.Fatalf("ValidateName(%q) accepted %q", name, got)
			}
		} else if !errors.Is(err, apperr.ErrInvalid) {
			t.Fatalf("ValidateName(%q) = %v", name, err)
		}
		if got, err := ValidateEmail(email); err == nil {
			if secret.ContainsSecret(got) {
				t.Fatalf("ValidateEmail(%q) accepted a secret", email)
			}
			addr, perr := mail.ParseAddress(got)
			at := strings.LastIndexByte(got, '@')
			if perr != nil || addr.Address != got || at < 1 || !isHostName(got[at+1:]) {
				t.Fatalf("ValidateEmail(%q) accepted %q", email, got)
			}
		} else if !errors.Is(err, apperr.ErrInvalid) {
			t.Fatalf("ValidateEmail(%q) = %v", email, err)
		}
	})
}

// echoes reports whether refusing v, a value holding a secret, as a name
// or an email repeats it.
func echoes(v string) bool {
	if !secret.ContainsSecret(v) {
		return false
	}
	_, nameErr := ValidateName("name", v)
	_, emailErr := ValidateEmail(v)
	return nameErr != nil && strings.Contains(nameErr.Error(), v) || emailErr != nil && strings.Contains(emailErr.Error(), v)
}

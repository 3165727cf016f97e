package tokens

import (
	"maps"
	"math"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/secret"
)

// Limits on input, shared by every entry point.
const (
	MaxNameLength     = 100
	MaxEmailLength    = 254
	MaxSettings       = 32
	MaxSettingString  = 256
	MaxGracePeriod    = 365 * 24 * time.Hour
	MaxTokenLifetime  = 10 * 365 * 24 * time.Hour
	settingKeyPattern = `^[A-Za-z][A-Za-z0-9_]{0,63}$`
)

// SecretInInput is the code of the 400 that refuses a free-text value
// holding a token or an API key (RefuseSecret).
const SecretInInput = "secret_in_input"

// RefuseSecret refuses a free-text value (a name, an email, a setting's key
// or value, an origin, a report's text) that holds a token or an API key:
// such a value would be stored and shown again, in tables, audit entries
// and answers, where the product allows no secret. It is checked before
// any other rule, so the answer is the same 400 secret_in_input whatever
// else is wrong with the value, and the value is never echoed. A 32-hex
// string that fails the token check (a digest) is ordinary text.
func RefuseSecret(field, v string) error {
	if secret.ContainsSecret(v) {
		return apperr.Invalid(SecretInInput, "%s holds what looks like a token or an API key; secrets are never stored, remove it", field)
	}
	return nil
}

// settingKey is compiled on first use, not at init: its {0,63} unrolls
// into ~700 allocations (0.1–0.3 ms), which every function's cold start
// paid although only the operator's settings route ever checks a key.
var settingKey = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(settingKeyPattern) })

// ValidateName trims a name of an account, user or token and checks it is
// 1–100 characters with no control characters. It also refuses what would
// make a name read differently from what it holds: bidirectional controls
// (U+202A–U+202E, U+2066–U+2069, and the marks U+200E, U+200F, U+061C),
// which can reverse the text around them in a console or an export, a
// byte-order mark, and names made only of invisible characters.
func ValidateName(field, name string) (string, error) {
	if err := RefuseSecret(field, name); err != nil {
		return "", err
	}
	name = strings.TrimSpace(name)
	n := utf8.RuneCountInString(name)
	if !utf8.ValidString(name) || n == 0 || n > MaxNameLength {
		return "", apperr.Invalid("invalid_"+field, "%s must be 1 to %d characters", field, MaxNameLength)
	}
	if strings.ContainsFunc(name, unicode.IsControl) {
		return "", apperr.Invalid("invalid_"+field, "%s must not contain control characters", field)
	}
	if strings.ContainsFunc(name, isBidiControlOrBOM) {
		return "", apperr.Invalid("invalid_"+field, "%s must not contain bidirectional controls or a byte-order mark", field)
	}
	if !strings.ContainsFunc(name, isVisible) {
		return "", apperr.Invalid("invalid_"+field, "%s must contain a visible character", field)
	}
	return name, nil
}

func isBidiControlOrBOM(r rune) bool {
	switch {
	case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
		return true
	}
	return r == '\u200e' || r == '\u200f' || r == '\u061c' || r == '\ufeff'
}

// isVisible is false for spaces and for format characters (category Cf:
// zero-width space, joiners, word joiner, soft hyphen, ...).
func isVisible(r rune) bool {
	return !unicode.IsSpace(r) && !unicode.Is(unicode.Cf, r) && r != '\u200b'
}

// ValidateEmail trims an email address and checks it is a bare address
// (net/mail's syntax, no display name, no comments) whose domain is a DNS
// host name: ASCII labels of letters, digits and inner hyphens, at least
// two of them. net/mail alone takes a@-example.com and a@[127.0.0.1]; mail
// to either goes nowhere an account's admin means.
func ValidateEmail(email string) (string, error) {
	if err := RefuseSecret("email", email); err != nil {
		return "", err
	}
	email = strings.TrimSpace(email)
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || len(email) > MaxEmailLength || addr.Name != "" {
		return "", errInvalidEmail
	}
	at := strings.LastIndexByte(email, '@')
	if at < 1 || !isHostName(email[at+1:]) {
		return "", errInvalidEmail
	}
	return email, nil
}

var errInvalidEmail = apperr.Invalid("invalid_email", "email must be a plain address such as ada@example.com")

// isHostName reports whether s is a DNS host name of at least two labels
// (RFC 1123): each 1–63 characters of ASCII letters, digits and hyphens,
// not starting or ending with a hyphen, and a top-level label that is not
// all digits.
func isHostName(s string) bool {
	labels := strings.Split(s, ".")
	if len(s) > 253 || len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	tld := labels[len(labels)-1]
	return strings.ContainsFunc(tld, func(r rune) bool { return r < '0' || r > '9' })
}

// The magnitudes a DynamoDB number can hold (besides zero): 1E-130 to
// 9.9999999999999999999999999999999999999E+125. A float64 outside them is
// finite for Go and a ValidationException for the store.
const (
	minSettingMagnitude = 1e-130
	maxSettingMagnitude = 1e126 // exclusive
)

// ValidateSettings checks a settings map is small, flat and made of strings,
// numbers DynamoDB can store and booleans, which is what an API Gateway
// authorizer context can carry to a backend. Its messages name a key only
// by its first characters: a key is the caller's text and may be anything.
func ValidateSettings(s Settings) (Settings, error) {
	if len(s) > MaxSettings {
		return nil, apperr.Invalid("invalid_settings", "settings may hold at most %d keys", MaxSettings)
	}
	out := make(Settings, len(s))
	for _, k := range slices.Sorted(maps.Keys(s)) {
		if err := RefuseSecret("a setting's key", k); err != nil {
			return nil, err
		}
		if v, ok := s[k].(string); ok {
			if err := RefuseSecret("setting "+keyHint(k), v); err != nil {
				return nil, err
			}
		}
		if !settingKey().MatchString(k) {
			return nil, apperr.Invalid("invalid_settings", "every setting key must match %s", settingKeyPattern)
		}
		switch v := s[k].(type) {
		case bool:
			out[k] = v
		case float64:
			if math.IsNaN(v) || math.IsInf(v, 0) || v != 0 && (math.Abs(v) < minSettingMagnitude || math.Abs(v) >= maxSettingMagnitude) {
				return nil, apperr.Invalid("invalid_settings", "setting %s must be zero or a number of magnitude 1e-130 to below 1e126", keyHint(k))
			}
			out[k] = v
		case string:
			if utf8.RuneCountInString(v) > MaxSettingString || strings.ContainsFunc(v, unicode.IsControl) {
				return nil, apperr.Invalid("invalid_settings", "setting %s must be a string of at most %d characters without control characters", keyHint(k), MaxSettingString)
			}
			out[k] = v
		default:
			return nil, apperr.Invalid("invalid_settings", "setting %s must be a string, number or boolean", keyHint(k))
		}
	}
	return out, nil
}

// keyHint names a setting key in a message: whole if short, else cut to
// its first four characters, too few to give away a secret pasted as a key.
func keyHint(k string) string {
	if len(k) > 12 {
		k = k[:4] + "…"
	}
	return strconv.Quote(k)
}

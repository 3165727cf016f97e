package tokens

import (
	"math"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/acmedata/tokenservice/pkg/apperr"
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

var settingKey = regexp.MustCompile(settingKeyPattern)

// ValidateName trims a name of an account, user or token and checks it is
// 1–100 characters with no control characters.
func ValidateName(field, name string) (string, error) {
	name = strings.TrimSpace(name)
	n := utf8.RuneCountInString(name)
	if !utf8.ValidString(name) || n == 0 || n > MaxNameLength {
		return "", apperr.Invalid("invalid_"+field, "%s must be 1 to %d characters", field, MaxNameLength)
	}
	if strings.ContainsFunc(name, unicode.IsControl) {
		return "", apperr.Invalid("invalid_"+field, "%s must not contain control characters", field)
	}
	return name, nil
}

// ValidateEmail trims an email address and checks it is a bare address.
func ValidateEmail(email string) (string, error) {
	email = strings.TrimSpace(email)
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || len(email) > MaxEmailLength || addr.Name != "" {
		return "", apperr.Invalid("invalid_email", "email must be a plain address such as ada@example.com")
	}
	return email, nil
}

// ValidateSettings checks a settings map is small, flat and made of strings,
// finite numbers and booleans, which is what an API Gateway authorizer
// context can carry to a backend.
func ValidateSettings(s Settings) (Settings, error) {
	if len(s) > MaxSettings {
		return nil, apperr.Invalid("invalid_settings", "settings may hold at most %d keys", MaxSettings)
	}
	out := make(Settings, len(s))
	for k, v := range s {
		if !settingKey.MatchString(k) {
			return nil, apperr.Invalid("invalid_settings", "setting key %q must match %s", k, settingKeyPattern)
		}
		switch v := v.(type) {
		case bool:
			out[k] = v
		case float64:
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, apperr.Invalid("invalid_settings", "setting %q must be a finite number", k)
			}
			out[k] = v
		case string:
			if utf8.RuneCountInString(v) > MaxSettingString || strings.ContainsFunc(v, unicode.IsControl) {
				return nil, apperr.Invalid("invalid_settings", "setting %q must be a string of at most %d characters without control characters", k, MaxSettingString)
			}
			out[k] = v
		default:
			return nil, apperr.Invalid("invalid_settings", "setting %q must be a string, number or boolean", k)
		}
	}
	return out, nil
}

package authz

import (
	"encoding/json"

	"github.com/acmedata/tokenservice/pkg/tokens"
)

// settingsJSON encodes settings as one JSON object: encoding/json sorts map
// keys, so the same settings always give the same string. Settings are
// checked when an operator sets them (strings, finite numbers, booleans);
// should a stored value still not encode, the backend gets null, which it
// reads as unreadable settings, rather than the token failing.
func settingsJSON(s tokens.Settings) string {
	if s == nil {
		return "{}"
	}
	b, err := json.Marshal(s)
	if err != nil {
		return "null"
	}
	return string(b)
}

package authz

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"

	"github.com/acmedata/tokenservice/pkg/tokens"
)

// appendSettings appends settings as a JSON object with sorted keys, so the
// same settings always give the same string. Settings are small and flat
// (strings, float64 numbers, booleans, checked when an operator sets them),
// so this stays clear of encoding/json's reflection on the hot path and
// falls back to it only for what it does not expect.
func appendSettings(b []byte, s tokens.Settings) []byte {
	var stack [8]string
	keys := stack[:0]
	for k := range s {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		b = appendJSONValue(b, s[k])
	}
	return append(b, '}')
}

func appendJSONValue(b []byte, v any) []byte {
	switch v := v.(type) {
	case string:
		return appendJSONString(b, v)
	case bool:
		return strconv.AppendBool(b, v)
	case float64:
		if !math.IsInf(v, 0) && !math.IsNaN(v) {
			return strconv.AppendFloat(b, v, 'g', -1, 64)
		}
	}
	return appendMarshalled(b, v)
}

// appendJSONString appends s as a JSON string; anything needing an escape
// goes through encoding/json, which knows every rule.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return appendMarshalled(b, s)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendMarshalled encodes what the fast path does not handle. A value that
// cannot be encoded at all (NaN, a corrupt item) becomes null: the token
// stays usable and the backend sees the setting is unreadable.
func appendMarshalled(b []byte, v any) []byte {
	enc, err := json.Marshal(v)
	if err != nil {
		return append(b, "null"...)
	}
	return append(b, enc...)
}

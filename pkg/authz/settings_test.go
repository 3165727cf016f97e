package authz

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"

	"github.com/acmedata/tokenservice/pkg/tokens"
)

// TestSettingsReachTheBackendUnchanged proves the settings string decodes
// back to exactly what the operator set, however awkward the strings.
func TestSettingsReachTheBackendUnchanged(t *testing.T) {
	cases := []tokens.Settings{
		nil,
		{},
		{"publicOnly": true},
		{"maxRows": float64(100), "ratio": 0.25, "big": 1e21, "neg": -3.5},
		{"region": "eu", "quote": `a"b\c`, "ctl": "line\nbreak\x00", "html": "<b>&</b>", "unicode": "Zürich ✓"},
		{"a": "1", "b": "2", "c": "3", "d": "4", "e": "5", "f": "6", "g": "7", "h": "8", "i": "9", "j": "10"},
	}
	for _, s := range cases {
		raw := []byte(settingsJSON(s))
		var got tokens.Settings
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatalf("settings %v encode as invalid JSON %s: %v", s, raw, err)
		}
		want := s
		if want == nil {
			want = tokens.Settings{}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("settings %v came back as %v (%s)", s, got, raw)
		}
	}
}

func TestSettingsEncodeDeterministically(t *testing.T) {
	s := tokens.Settings{"z": 1.0, "a": "x", "m": false}
	if got, want := settingsJSON(s), `{"a":"x","m":false,"z":1}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// TestUnencodableSettingsBecomeNull: validation and DynamoDB keep NaN out,
// but should one be read, the token still works and the backend sees that
// the settings are unreadable.
func TestUnencodableSettingsBecomeNull(t *testing.T) {
	if got, want := settingsJSON(tokens.Settings{"x": math.NaN()}), `null`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

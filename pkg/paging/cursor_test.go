package paging

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func TestCursorRoundTripsInItsScope(t *testing.T) {
	scope := Scope("acc_1", "tokens", "tmy")
	c := EncodeCursor(scope, "svc#tmy#tok_1", "x")
	keys, err := DecodeCursor(c, scope, 2)
	if err != nil || len(keys) != 2 || keys[0] != "svc#tmy#tok_1" || keys[1] != "x" {
		t.Fatalf("DecodeCursor = %q, %v", keys, err)
	}
}

func TestScopeSeparatesItsParts(t *testing.T) {
	if Scope("ab", "c") == Scope("a", "bc") || Scope("a", "") == Scope("a") {
		t.Fatal("two different part lists share a scope")
	}
}

// TestDecodeCursorRefusesWhatNoStoreIssued: anything but a cursor of this
// scope and shape is ErrBadCursor, before any part reaches a store.
func TestDecodeCursorRefusesWhatNoStoreIssued(t *testing.T) {
	scope := Scope("acc_1", "users")
	raw := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for name, c := range map[string]string{
		"not base64":             "not a cursor!",
		"padded base64":          base64.URLEncoding.EncodeToString([]byte(`{"s":"` + scope + `","k":["a"]}`)),
		"not JSON":               raw("garbage"),
		"another scope":          EncodeCursor(Scope("acc_2", "users"), "usr#1"),
		"another listing":        EncodeCursor(Scope("acc_1", "tokens"), "usr#1"),
		"two keys":               EncodeCursor(scope, "a", "b"),
		"no keys":                EncodeCursor(scope),
		"empty key":              EncodeCursor(scope, ""),
		"key over 1,024 bytes":   EncodeCursor(scope, strings.Repeat("k", MaxKeyBytes+1)),
		"NUL in a key":           EncodeCursor(scope, "a\x00b"),
		"unknown member":         raw(`{"s":"` + scope + `","k":["a"],"x":1}`),
		"duplicate member":       raw(`{"s":"` + scope + `","k":["a"],"k":["b"]}`),
		"keys not strings":       raw(`{"s":"` + scope + `","k":[1]}`),
		"invalid UTF-8":          raw(`{"s":"` + scope + "\",\"k\":[\"\xff\"]}"),
		"over the cursor length": strings.Repeat("A", MaxCursorLength+1),
	} {
		if _, err := DecodeCursor(c, scope, 1); !errors.Is(err, ErrBadCursor) {
			t.Errorf("%s: DecodeCursor = %v, want ErrBadCursor", name, err)
		}
	}
}

// FuzzDecodeCursor: any string decodes to ErrBadCursor or to exactly n
// keys a DynamoDB key can hold; it never panics.
func FuzzDecodeCursor(f *testing.F) {
	scope := Scope("acc_1", "users")
	f.Add(EncodeCursor(scope, "usr#01h"))
	f.Add(EncodeCursor(scope, "a", "b"))
	f.Add("not a cursor!")
	f.Add(base64.RawURLEncoding.EncodeToString([]byte(`{"s":"` + scope + `","k":[""]}`)))
	f.Fuzz(func(t *testing.T, c string) {
		keys, err := DecodeCursor(c, scope, 1)
		if err != nil {
			if !errors.Is(err, ErrBadCursor) {
				t.Fatalf("DecodeCursor(%q) = %v, want ErrBadCursor", c, err)
			}
			return
		}
		if len(keys) != 1 || keys[0] == "" || len(keys[0]) > MaxKeyBytes {
			t.Fatalf("DecodeCursor(%q) = %q", c, keys)
		}
	})
}

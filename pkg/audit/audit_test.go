package audit

import (
	"reflect"
	"testing"
)

// A switch in a boolean map (a user's access per service) is recorded as
// false -> true or true -> false, whether the store keeps an "off" as
// false or leaves the key out; only a creation or deletion has a nil side.
func TestAFlagSwitchedOffIsRecordedAsFalse(t *testing.T) {
	on := Fields{"name": "Ada", "access": map[string]bool{"tmy": true}}
	off := Fields{"name": "Ada", "access": map[string]bool{}}
	offKept := Fields{"name": "Ada", "access": map[string]bool{"tmy": false}}
	for _, c := range []struct {
		name          string
		before, after Fields
		want          Changes
	}{
		{"switched off, key dropped", on, off, Changes{"access.tmy": {Before: true, After: false}}},
		{"switched off, key kept false", on, offKept, Changes{"access.tmy": {Before: true, After: false}}},
		{"switched on from no key", off, on, Changes{"access.tmy": {Before: false, After: true}}},
		{"off either way is no change", off, offKept, Changes{}},
		{"creation", nil, on, Changes{"name": {Before: nil, After: "Ada"}, "access.tmy": {Before: nil, After: true}}},
		{"deletion", on, nil, Changes{"name": {Before: "Ada", After: nil}, "access.tmy": {Before: true, After: nil}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := Entry{}.Diff(c.before, c.after).Changes
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("changes = %#v, want %#v", got, c.want)
			}
		})
	}
}

package apigw

import (
	"slices"
	"testing"
)

func TestBearerValuesReadsEveryAuthorizationHeaderInAnyCase(t *testing.T) {
	cases := []struct {
		name    string
		headers map[string]string
		multi   map[string][]string
		want    []string
	}{
		{"canonical", map[string]string{"Authorization": "Bearer abc"}, nil, []string{"abc"}},
		{"lower-case name and scheme", map[string]string{"authorization": "bearer abc"}, nil, []string{"abc"}},
		{"upper-case", map[string]string{"AUTHORIZATION": "BEARER abc"}, nil, []string{"abc"}},
		{"surrounding spaces", map[string]string{"Authorization": "  Bearer   abc  "}, nil, []string{"abc"}},
		{"other scheme is unreadable", map[string]string{"Authorization": "Basic abc"}, nil, []string{""}},
		{"no credential", map[string]string{"Authorization": "Bearer"}, nil, []string{""}},
		{"other headers ignored", map[string]string{"X-Authorization": "Bearer abc", "Authorizations": "Bearer x"}, nil, nil},
		{"multi-value", nil, map[string][]string{"authorization": {"Bearer a", "Bearer b"}}, []string{"a", "b"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			BearerValues(tc.headers, tc.multi, func(v string) bool { got = append(got, v); return true })
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestBearerValuesStopsWhenTold(t *testing.T) {
	n := 0
	BearerValues(nil, map[string][]string{"Authorization": {"Bearer a", "Bearer b"}}, func(string) bool { n++; return false })
	if n != 1 {
		t.Errorf("yield called %d times after refusing, want 1", n)
	}
}

func TestParseMethodARN(t *testing.T) {
	m, err := ParseMethodARN("arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/data/tmy/x")
	if err != nil || m.Stage != "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/" || m.Route != "GET/data/tmy/x" {
		t.Fatalf("got %+v, %v", m, err)
	}
	if exact, ok := m.Exact(); !ok || exact != "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/data/tmy/x" {
		t.Errorf("Exact = %q, %v", exact, ok)
	}
	for _, bad := range []string{
		"", "GET/data", "arn:aws:execute-api:eu-west-1:123456789012:abc123", "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod",
		"arn:aws:execute-api:eu-west-1:123456789012:abc123//GET/x", "arn:aws:execute-api:*:123456789012:abc123/prod/GET/x",
		"arn:aws:execute-api:eu-west-1:123456789012:abc123/*/GET/x", "arn:aws:execute-api:eu-west-1:abc123/prod/GET/x",
	} {
		if _, err := ParseMethodARN(bad); err == nil {
			t.Errorf("ParseMethodARN(%q) accepted it", bad)
		}
	}
	wild, _ := ParseMethodARN("arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/reports/*")
	if _, ok := wild.Exact(); ok {
		t.Error("Exact named a path holding a wildcard")
	}
}

func TestCredentialKeepsOneValueAndRefusesMalformedOrTwoDifferent(t *testing.T) {
	shaped := func(v string) bool { return len(v) == 3 }
	cases := []struct {
		name  string
		in    []string
		want  string
		state Presented
		added int // values Add took before it stopped
	}{
		{"nothing", nil, "", PresentedNone, 0},
		{"one", []string{"abc"}, "abc", PresentedOne, 1},
		{"the same twice", []string{"abc", "abc"}, "abc", PresentedOne, 2},
		{"two different", []string{"abc", "xyz", "abc"}, "", PresentedAmbiguous, 2},
		{"a malformed one", []string{"abc", "", "abc"}, "", PresentedMalformed, 2},
		{"malformed first", []string{"toolong", "abc"}, "", PresentedMalformed, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := NewCredential(shaped)
			added := 0
			for _, v := range tc.in {
				added++
				if !c.Add(v) {
					break
				}
			}
			if v, state := c.Result(); v != tc.want || state != tc.state || added != tc.added {
				t.Errorf("got %q, %v after %d values; want %q, %v after %d", v, state, added, tc.want, tc.state, tc.added)
			}
		})
	}
}

func TestCredentialReadsBearerHeaders(t *testing.T) {
	c := NewCredential(func(v string) bool { return v != "" })
	c.AddBearer(map[string]string{"authorization": "Bearer abc"}, map[string][]string{"Authorization": {"bearer abc"}})
	if v, state := c.Result(); v != "abc" || state != PresentedOne {
		t.Errorf("got %q, %v; want abc once", v, state)
	}
	c = NewCredential(func(v string) bool { return v != "" })
	c.AddBearer(map[string]string{"Authorization": "Basic abc"}, nil)
	if _, state := c.Result(); state != PresentedMalformed {
		t.Errorf("another scheme: %v, want malformed", state)
	}
}

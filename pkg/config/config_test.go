package config

import (
	"context"
	"os"
	"testing"
	"time"
)

func TestFromEnvReadsServicesAndDefaults(t *testing.T) {
	for _, tc := range []struct {
		name     string
		env      map[string]string
		services int
		prefix   string
		delay    time.Duration
		ok       bool
	}{
		{"defaults", map[string]string{}, 2, "tka_", time.Second, true},
		{"custom catalog and prefix", map[string]string{EnvServices: "tmy=TMY data", EnvAPIKeyPrefix: "acme_"}, 1, "acme_", time.Second, true},
		{"malformed catalog", map[string]string{EnvServices: "tmy"}, 0, "", 0, false},
		{"a service ID with a slash", map[string]string{EnvServices: "tmy/x=TMY data"}, 0, "", 0, false},
		{"a service ID in capitals", map[string]string{EnvServices: "TMY=TMY data"}, 0, "", 0, false},
		{"a service ID as long as a token", map[string]string{EnvServices: "a0123456789abcdef0123456789abcdef=Hex"}, 0, "", 0, false},
		{"a service listed twice", map[string]string{EnvServices: "tmy=TMY data,tmy=Again"}, 0, "", 0, false},
		{"a service ID with digits and a dash", map[string]string{EnvServices: "solar-2=Solar"}, 1, "tka_", time.Second, true},
		{"bad log level", map[string]string{EnvLogLevel: "loud"}, 0, "", 0, false},
		{"no revocation delay", map[string]string{EnvRevocationDelay: "0"}, 2, "tka_", 0, true},
		{"revocation delay as a duration", map[string]string{EnvRevocationDelay: "250ms"}, 2, "tka_", 250 * time.Millisecond, true},
		{"revocation delay in seconds", map[string]string{EnvRevocationDelay: "60"}, 2, "tka_", time.Minute, true},
		{"revocation delay too long", map[string]string{EnvRevocationDelay: "61s"}, 0, "", 0, false},
		{"negative revocation delay", map[string]string{EnvRevocationDelay: "-1s"}, 0, "", 0, false},
		{"unreadable revocation delay", map[string]string{EnvRevocationDelay: "soon"}, 0, "", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := FromEnv(func(k string) string { return tc.env[k] })
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if tc.ok && (len(c.Services) != tc.services || c.APIKeyPrefix != tc.prefix || c.RevocationDelay != tc.delay) {
				t.Fatalf("config = %+v", c)
			}
		})
	}
}

// A bounded client must build wherever the SDK's environment customises
// its HTTP client (AWS_CA_BUNDLE needs the SDK's buildable client).
func TestDynamoDBBuildsABoundedClientWithACABundle(t *testing.T) {
	const bundle = "/etc/ssl/certs/ca-certificates.crt"
	if _, err := os.Stat(bundle); err != nil {
		t.Skipf("no system CA bundle at %s", bundle)
	}
	t.Setenv("AWS_CA_BUNDLE", bundle)
	if _, err := DynamoDB(context.Background(), Config{DynamoEndpoint: "http://127.0.0.1:1"}, ClientOptions{Timeout: time.Second, MaxAttempts: 2}); err != nil {
		t.Fatalf("DynamoDB: %v", err)
	}
}

package tokens

import (
	"testing"
	"time"
)

func TestVerifyDecidesEveryOutcome(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	past, future := now.Add(-time.Second), now.Add(time.Hour)
	valid := func() Credential {
		return Credential{
			Token:   Token{ID: "tok_1", Service: "tmy", UserID: "usr_1", Enabled: true, KeyGeneration: 2},
			Account: AccountGate{Status: AccountStatusActive, Services: []string{"timeseries", "tmy"}, KeyGeneration: 2},
			User:    UserGate{Access: map[string]bool{"tmy": true}},
		}
	}
	for _, tc := range []struct {
		name    string
		change  func(*Credential)
		service string
		want    Outcome
	}{
		{"valid user token", func(*Credential) {}, "tmy", Valid},
		{"valid userless token ignores user access", func(c *Credential) { c.Token.UserID, c.User = "", UserGate{} }, "tmy", Valid},
		{"expiry in the future", func(c *Credential) { c.Token.ExpiresAt = &future }, "tmy", Valid},
		{"expired", func(c *Credential) { c.Token.ExpiresAt = &past }, "tmy", Expired},
		{"expires exactly now", func(c *Credential) { c.Token.ExpiresAt = &now }, "tmy", Expired},
		{"disabled by admin", func(c *Credential) { c.Token.Enabled, c.Token.DisabledReason = false, DisabledByAdmin }, "tmy", Disabled},
		{"disabled by key replacement", func(c *Credential) { c.Token.Enabled, c.Token.DisabledReason = false, DisabledAPIKeyReplaced }, "tmy", KeyReplaced},
		{"older key generation even if still enabled", func(c *Credential) { c.Token.KeyGeneration = 1 }, "tmy", KeyReplaced},
		{"account closed", func(c *Credential) { c.Account.Status = AccountStatusClosed }, "tmy", AccountClosed},
		{"account closed wins over wrong service", func(c *Credential) { c.Account.Status = AccountStatusClosed }, "timeseries", AccountClosed},
		{"another service", func(*Credential) {}, "timeseries", WrongService},
		{"expired wins over wrong service", func(c *Credential) { c.Token.ExpiresAt = &past }, "timeseries", Expired},
		{"service no longer subscribed", func(c *Credential) { c.Account.Services = []string{"timeseries"} }, "tmy", ServiceNotSubscribed},
		{"user access off", func(c *Credential) { c.User.Access = map[string]bool{"timeseries": true} }, "tmy", AccessOff},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := valid()
			tc.change(&c)
			if got := Verify(c, tc.service, now); got != tc.want {
				t.Fatalf("Verify = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestOutcomesSplitIntoUnauthorizedAndForbidden(t *testing.T) {
	forbidden := map[Outcome]bool{WrongService: true, ServiceNotSubscribed: true, AccessOff: true}
	for o := Valid; o <= AccessOff; o++ {
		if o.Code() == "" {
			t.Errorf("outcome %d has no code", o)
		}
		if o.Forbidden() != forbidden[o] {
			t.Errorf("%v.Forbidden() = %v", o, o.Forbidden())
		}
	}
}

package storesuite

import (
	"testing"
	"time"

	"github.com/acmedata/tokenservice/pkg/audit"
	"github.com/acmedata/tokenservice/pkg/secret"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// tokenWithSecret stores a token like token does and returns its secret.
func (e *env) tokenWithSecret(a tokens.Account, change ...func(*tokens.Token)) (tokens.Token, string) {
	e.t.Helper()
	plain := secret.NewToken()
	return e.token(a, nil, svcA, append([]func(*tokens.Token){func(t *tokens.Token) {
		t.SecretHash, t.Hint = secret.Hash(plain), secret.Hint(plain)
	}}, change...)...), plain
}

// testLeakReportsDisableLiveTokensInOneWriteEach: a leak report finds the
// tokens among its strings by their hash, disables each live one with the
// reason exposed (protected or not) in one write that carries its audit
// entry (the operator, the report's source and URL) into the owning
// account's log, leaves disabled tokens as they were, reads nothing for a
// string failing the check, and answers by hint in the order given. A
// second report of the same strings writes nothing.
func testLeakReportsDisableLiveTokensInOneWriteEach(t *testing.T, e *env) {
	a, _ := e.account()
	b, _ := e.account()
	live, livePlain := e.tokenWithSecret(a, func(t *tokens.Token) { t.Protected = true })
	_, offPlain := e.tokenWithSecret(a, func(t *tokens.Token) { t.Enabled, t.DisabledReason = false, tokens.DisabledByAdmin })
	elsewhere, elsewherePlain := e.tokenWithSecret(b)
	unknown := secret.NewToken()
	const digest = "46a4eccec1414feab118287faafc5c80" // 32 hex, check fails
	m, err := tokens.NewManager(e.s, tokens.Config{Services: []tokens.Service{{ID: svcA, Name: "A"}, {ID: svcB, Name: "B"}}, Now: func() time.Time { return e.now }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := audit.WithOperator(e.ctx, "arn:aws:iam::000000000000:user/leaks")
	report := tokens.LeakReport{
		Strings: []string{livePlain, "hello", offPlain, unknown, elsewherePlain, livePlain, digest},
		Source:  "github", URL: "https://github.com/acme/site/blob/main/config.js",
	}
	writes := e.faults.Writes()
	items, err := m.ReportLeaks(ctx, report)
	if err != nil {
		t.Fatalf("ReportLeaks: %v", err)
	}
	type res struct {
		Hint   string
		Result tokens.LeakResult
	}
	var got []res
	for _, it := range items {
		got = append(got, res{it.Hint, it.Result})
	}
	wantEqual(t, "results", got, []res{
		{secret.Hint(livePlain), tokens.LeakExposed}, {"", tokens.LeakNotAToken}, {secret.Hint(offPlain), tokens.LeakAlreadyDisabled},
		{secret.Hint(unknown), tokens.LeakUnknown}, {secret.Hint(elsewherePlain), tokens.LeakExposed},
		{secret.Hint(livePlain), tokens.LeakExposed}, {secret.Hint(digest), tokens.LeakNotAToken},
	})
	if n := e.faults.Writes() - writes; n != 2 {
		t.Fatalf("the report made %d write requests, want 2 (one per live token)", n)
	}
	stored := e.getToken(live)
	if stored.Enabled || stored.DisabledReason != tokens.DisabledExposed || !stored.Protected {
		t.Fatalf("exposed token stored as enabled=%v reason=%q protected=%v", stored.Enabled, stored.DisabledReason, stored.Protected)
	}
	entries := e.auditLog(a.ID, audit.Filter{Action: audit.TokenExpose})
	if len(entries) != 1 {
		t.Fatalf("%d token.expose entries in the owning account, want 1", len(entries))
	}
	en := entries[0]
	wantEqual(t, "target", en.TargetID, live.ID)
	wantEqual(t, "actor", en.Actor, audit.Operator("arn:aws:iam::000000000000:user/leaks"))
	wantEqual(t, "report", en.Report, &audit.Report{Source: report.Source, URL: report.URL})
	wantEqual(t, "changes", en.Changes, audit.Changes{
		"enabled": {Before: true, After: false}, "disabledReason": {Before: nil, After: string(tokens.DisabledExposed)},
	})
	if other := e.auditLog(b.ID, audit.Filter{Action: audit.TokenExpose}); len(other) != 1 || other[0].TargetID != elsewhere.ID {
		t.Fatalf("the other account's log holds %+v, want its own token's entry alone", other)
	}
	if plain := e.auditLog(a.ID, audit.Filter{Action: audit.AccountUpdate}); len(plain) == 0 || plain[0].Report != nil {
		t.Fatalf("an entry of another action carries a report: %+v", plain)
	}

	writes = e.faults.Writes()
	again, err := m.ReportLeaks(ctx, report)
	if err != nil {
		t.Fatalf("ReportLeaks again: %v", err)
	}
	if again[0].Result != tokens.LeakAlreadyDisabled || again[4].Result != tokens.LeakAlreadyDisabled {
		t.Fatalf("a second report answered %+v, want already_disabled", again)
	}
	if n := e.faults.Writes() - writes; n != 0 {
		t.Fatalf("a second report made %d writes, want 0", n)
	}
}

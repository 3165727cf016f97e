package authz

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// BenchmarkAuthorize measures the whole CPU path of an Allow: extraction,
// hashing, an in-memory lookup, verification, policy and context building
// and the JSON decision line (written to io.Discard, so encoding is paid).
func BenchmarkAuthorize(b *testing.B) {
	for _, fixture := range []string{"data-query", "data-header", "feed-path", "data-query+restrictions"} {
		b.Run(fixture, func(b *testing.B) {
			name, withRestrictions := strings.CutSuffix(fixture, "+restrictions")
			cred := validCredential("tmy")
			if withRestrictions {
				// The fixture's source IP is inside; it sends no Origin, so
				// the origin list is not set: the request is allowed.
				cred.Token.Restrictions = restricted(b, nil, []string{"198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32"})
			}
			store := newFakeStore()
			store.put(fixtureToken, cred)
			a := newTestAuthorizer(b, store, Options{Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
			ev := loadEvent(b, name)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				resp, err := a.Authorize(ctx, ev)
				if err != nil || resp.PolicyDocument.Statement[0].Effect != "Allow" {
					b.Fatalf("not allowed: %v", err)
				}
			}
		})
	}
}

// BenchmarkAuthorizeRefusal measures the cost of refusing garbage, which
// never reaches the store.
func BenchmarkAuthorizeRefusal(b *testing.B) {
	a := newTestAuthorizer(b, newFakeStore(), Options{Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	ev := loadEvent(b, "data-query-uppercase")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Authorize(ctx, ev); err == nil {
			b.Fatal("allowed")
		}
	}
}

// BenchmarkAuthorizeWarm measures an Allow answered from the cache: no
// store read at all (scripts/authbench prints it beside its target).
func BenchmarkAuthorizeWarm(b *testing.B) {
	store := newFakeStore()
	store.put(fixtureToken, validCredential("tmy"))
	a := newTestAuthorizer(b, store, Options{RevocationDelay: time.Minute})
	ev := loadEvent(b, "data-query")
	ctx := context.Background()
	if _, err := a.Authorize(ctx, ev); err != nil {
		b.Fatal(err)
	}
	reads := store.calls.Load()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Authorize(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(store.calls.Load()-reads)/float64(b.N), "reads/op")
}

// BenchmarkAuthorizeRandomHexFlood measures a flood of made-up tokens
// (random 32 lowercase hex, the shape of a real one): each is refused as
// malformed on its check, with no store read (reads/op must stay 0).
func BenchmarkAuthorizeRandomHexFlood(b *testing.B) {
	store := newFakeStore()
	store.put(fixtureToken, validCredential("tmy"))
	a := newTestAuthorizer(b, store, Options{Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	flood := randomHexRequests(b, 4096)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := a.Authorize(ctx, flood[i%len(flood)]); err == nil {
			b.Fatal("allowed")
		}
		i++
	}
	b.ReportMetric(float64(store.calls.Load())/float64(b.N), "reads/op")
}

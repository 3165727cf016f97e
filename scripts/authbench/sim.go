package main

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acmedata/tokenservice/pkg/apigw"
	"github.com/acmedata/tokenservice/pkg/audit"
	"github.com/acmedata/tokenservice/pkg/authz"
	"github.com/acmedata/tokenservice/pkg/id"
	"github.com/acmedata/tokenservice/pkg/secret"
	"github.com/acmedata/tokenservice/pkg/testkit/memstore"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// readCounter is a tokens.CredentialStore that counts the reads of every
// item that reach the store behind it, per simulated second.
type readCounter struct {
	tokens.CredentialStore
	now   func() time.Time
	mu    sync.Mutex
	reads map[itemSecond]int
	total int
}

type itemSecond struct {
	item   string
	second int64
}

func newReadCounter(s tokens.CredentialStore, now func() time.Time) *readCounter {
	return &readCounter{CredentialStore: s, now: now, reads: map[itemSecond]int{}}
}

func (r *readCounter) count(item string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reads[itemSecond{item, r.now().Unix()}]++
	r.total++
}

func (r *readCounter) TokenBySecret(ctx context.Context, secretHash string) (tokens.Token, error) {
	r.count("token " + secretHash)
	return r.CredentialStore.TokenBySecret(ctx, secretHash)
}

func (r *readCounter) Gates(ctx context.Context, q tokens.GateRequest) (tokens.Gates, error) {
	r.countGates(q)
	return r.CredentialStore.Gates(ctx, q)
}

func (r *readCounter) countGates(q tokens.GateRequest) {
	if q.Account {
		r.count("account " + q.AccountID)
	}
	if q.UserID != "" {
		r.count("user " + q.UserID)
	}
}

func (r *readCounter) TokenAndGates(ctx context.Context, secretHash string, q tokens.GateRequest) (tokens.Token, tokens.Gates, error) {
	r.count("token " + secretHash)
	r.countGates(q)
	return r.CredentialStore.TokenAndGates(ctx, secretHash, q)
}

// maxPerSecond is the most reads of one item in one second.
func (r *readCounter) maxPerSecond() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	most := 0
	for _, n := range r.reads {
		most = max(most, n)
	}
	return most
}

// world is one account with a user token, on the in-memory store.
func memWorld(ctx context.Context) (*memstore.Store, string, error) {
	store := memstore.New()
	mgr, err := tokens.NewManager(store, tokens.Config{Services: []tokens.Service{{ID: "tmy", Name: "TMY data"}}})
	if err != nil {
		return nil, "", err
	}
	acc, _, err := mgr.CreateAccount(ctx, "authbench", []string{"tmy"})
	if err != nil {
		return nil, "", err
	}
	u, err := mgr.CreateUser(ctx, acc.ID, "bench@example.com", "Bench")
	if err != nil {
		return nil, "", err
	}
	if _, err := mgr.SetAccess(ctx, acc.ID, "tmy", u.ID, true); err != nil {
		return nil, "", err
	}
	_, token, err := mgr.IssueToken(ctx, acc.ID, "tmy", tokens.IssueRequest{UserID: u.ID})
	return store, token, err
}

// warm measures a decision answered from the cache, in process.
func warm(c *check) error {
	ctx := audit.WithOperator(context.Background(), "authbench")
	store, token, err := memWorld(ctx)
	if err != nil {
		return err
	}
	reads := newReadCounter(store, time.Now)
	a, err := authz.New(reads, authz.Options{Services: benchServices, RevocationDelay: tokens.MaxRevocationDelay})
	if err != nil {
		return err
	}
	req := dataRequest(token)
	var failed error
	before := -1
	res := testing.Benchmark(func(b *testing.B) {
		if _, err := a.Authorize(ctx, req); err != nil { // fills the cache
			failed = err
			return
		}
		before = reads.total
		b.ReportAllocs()
		for b.Loop() {
			if resp, err := a.Authorize(ctx, req); err != nil || resp.PolicyDocument.Statement[0].Effect != "Allow" {
				failed = errors.Join(err, errNotAllowed)
				return
			}
		}
	})
	if failed != nil {
		return failed
	}
	fmt.Printf("warm decision (answered from the cache), in process, %d calls:\n", res.N)
	c.figure("warm decision time", float64(res.NsPerOp())/1000, maxWarmNs/1000, "µs/op")
	c.figure("warm decision allocations", float64(res.AllocsPerOp()), maxWarmAllocs, "/op")
	c.figure("warm decision store reads", float64(reads.total-before), 0, "")
	return nil
}

// hotToken runs 10,000 calls/s on one token for 60 simulated seconds over
// 50 authorizer instances, each with its own cache and the default
// revocation delay, on one fake clock; then the same with a deleted token.
func hotToken(c *check) error {
	const (
		instances = 50
		perSecond = 10_000
		seconds   = 60
	)
	ctx := audit.WithOperator(context.Background(), "authbench")
	store, token, err := memWorld(ctx)
	if err != nil {
		return err
	}
	deleted := "0123456789abcdef012345676ddad739" // never issued: as a deleted token, unknown
	for _, tc := range []struct {
		name  string
		token string
		want  error
	}{{"hot token", token, nil}, {"deleted token", deleted, apigw.ErrUnauthorized}} {
		var clock time.Time = time.Unix(1_800_000_000, 0)
		now := func() time.Time { return clock }
		var counters []*readCounter
		var auths []*authz.Authorizer
		for range instances {
			r := newReadCounter(store, now)
			a, err := authz.New(r, authz.Options{Services: benchServices, RevocationDelay: tokens.DefaultRevocationDelay, Now: now})
			if err != nil {
				return err
			}
			counters, auths = append(counters, r), append(auths, a)
		}
		req := dataRequest(tc.token)
		step := time.Second / perSecond
		for i := range perSecond * seconds {
			clock = clock.Add(step)
			if _, err := auths[i%instances].Authorize(ctx, req); !errors.Is(err, tc.want) {
				return fmt.Errorf("%s: call %d: %v, want %v", tc.name, i, err, tc.want)
			}
		}
		perInstance, total := 0, 0
		all := map[itemSecond]int{}
		for _, r := range counters {
			perInstance = max(perInstance, r.maxPerSecond())
			total += r.total
			for k, n := range r.reads {
				all[k] += n
			}
		}
		perItem := 0
		for _, n := range all {
			perItem = max(perItem, n)
		}
		fmt.Printf("%s: %d calls/s for %d simulated s over %d instances: %d store reads in all\n", tc.name, perSecond, seconds, instances, total)
		c.figure(tc.name+": reads of one item, per instance per second", float64(perInstance), maxReadsPerItemSecond, "")
		c.figure(tc.name+": reads of one item per second, all instances", float64(perItem), maxItemReadsPerSecond, "")
	}
	return nil
}

// memory fills one authorizer's cache to its bounds (every token entry,
// so the identity memory is full too, and every gate entry) with tokens
// of many accounts and users, then reports the heap the cache holds beside
// the function's configured memory.
func memory(c *check) error {
	ctx := context.Background()
	store := &synthStore{}
	a, err := authz.New(store, authz.Options{Services: benchServices, RevocationDelay: tokens.MaxRevocationDelay})
	if err != nil {
		return err
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range authz.DefaultTokenEntries {
		resp, err := a.Authorize(ctx, dataRequest(secret.NewToken()))
		if err != nil || resp.PolicyDocument.Statement[0].Effect != "Allow" {
			return errors.Join(err, errNotAllowed)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(a)
	heapMiB := float64(after.HeapAlloc-before.HeapAlloc) / (1 << 20)
	fmt.Printf("authorizer cache full (%d tokens, identity memory included; %d gate items), in process:\n", authz.DefaultTokenEntries, authz.DefaultGateEntries)
	fmt.Printf("  heap held by the cache %.1f MiB, of the function's %d MiB\n", heapMiB, authorizerMemoryMiB)
	c.figure("authorizer heap with a full cache / configured memory", heapMiB/authorizerMemoryMiB, maxHeapShare, "x")
	return nil
}

// synthStore is a tokens.CredentialStore that knows every token: a user
// token with settings, of one of DefaultGateEntries/2 accounts and users,
// as a busy instance would meet them.
type synthStore struct{ n atomic.Int64 }

func (s *synthStore) TokenBySecret(_ context.Context, secretHash string) (tokens.Token, error) {
	i := s.n.Add(1) % (authz.DefaultGateEntries / 2)
	return tokens.Token{
		AccountID: fmt.Sprintf("acc_%026d", i), ID: id.New(id.Token), Name: "memory", Service: "tmy",
		UserID: fmt.Sprintf("usr_%026d", i), SecretHash: secretHash, Hint: "abcd", Enabled: true,
		CreatedAt: time.Now(), KeyGeneration: 1, Settings: tokens.Settings{"publicOnly": true, "region": "eu"},
	}, nil
}

func (s *synthStore) Gates(_ context.Context, r tokens.GateRequest) (tokens.Gates, error) {
	var g tokens.Gates
	if r.Account {
		g.Account = &tokens.AccountGate{Status: tokens.AccountStatusActive, Services: []string{"tmy"}, KeyGeneration: 1}
	}
	if r.UserID != "" {
		g.User = &tokens.UserGate{Access: map[string]bool{"tmy": true}}
	}
	return g, nil
}

func (s *synthStore) TokenAndGates(ctx context.Context, secretHash string, r tokens.GateRequest) (tokens.Token, tokens.Gates, error) {
	return tokens.TokenThenGates(ctx, s, secretHash, r)
}

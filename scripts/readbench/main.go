// Command readbench measures what the reads an admin waits for cost on an
// account whose tokens are mostly dead, beside their target (issue 23; the
// contract's last "Never": a filtered list, the default token and a usage
// summary cost the same with 100,000 tokens as with 100, beyond the page
// they answer).
//
// It builds the whole local stack (pkg/local/stack: the Lambda handlers
// behind the local gateway, as `make run` serves them) on fresh tables,
// serves it on a loopback port, and makes two accounts of one service with
// the same live tokens: "small" holds -few tokens in all, "large" -many,
// the rest dead in the same proportions. The dead are written straight
// through the store, in parallel (through HTTP, 10,000 would take
// minutes): four fifths made under the first API key, which is then
// replaced (rule 7: they show as disabled, api_key_replaced), a tenth
// disabled by an admin and a tenth expired, half of them user tokens of
// the account's user. The live ones are made through the token domain
// after: user tokens of that user and userless ones, one with an expiry
// ahead, and each makes the same data calls in both accounts, for the
// usage summary. The expiry sweep then runs once, as the scheduled
// sweeper would have.
//
// Each read is then sent to both accounts through HTTP, in short batches
// that alternate the accounts (so load drift hits both), after a warm-up,
// one request at a time. A list whose matches in the small account do not
// fill the default page (the expired tokens) is asked for the page the
// small account fills, so both answer the same number of items: the
// figure is the read's cost beyond its page. It prints, per read, the p50
// of each account, their ratio beside the target (large/small <= 1.5x), and
// the items DynamoDB examined per request (a Query's ScannedCount, an item
// a GetItem or BatchGetItem returned) in each, and exits 1 if a ratio
// misses its target. It uses $DYNAMODB_ENDPOINT if set, else starts its
// own in-memory DynamoDB Local.
//
//	go run ./scripts/readbench [-few 100] [-many 10000] [-n 200] [-warmup 20] [-batch 5] [-max-ratio 1.5]
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/acmedata/tokenservice/pkg/audit"
	"github.com/acmedata/tokenservice/pkg/dynamostore"
	"github.com/acmedata/tokenservice/pkg/local/dynamolocal"
	"github.com/acmedata/tokenservice/pkg/local/gateway"
	"github.com/acmedata/tokenservice/pkg/local/stack"
	"github.com/acmedata/tokenservice/pkg/schema"
	"github.com/acmedata/tokenservice/pkg/testkit/bulktokens"
	"github.com/acmedata/tokenservice/pkg/testkit/loadgen"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// service is the one service both accounts' tokens are of.
const service = "tmy"

// The live tokens, the same in both accounts: liveUser user tokens of the
// account's user and liveUserless userless ones, each making callsPerToken
// data calls for the usage summary.
const (
	liveUser, liveUserless = 4, 4
	callsPerToken          = 3
	liveName               = "live" // the name prefix read; no dead token's name starts with it
)

type params struct {
	few, many, n, warmup, batch int
	maxRatio                    float64
}

func main() {
	var p params
	flag.IntVar(&p.few, "few", 100, "tokens of the small account")
	flag.IntVar(&p.many, "many", 10_000, "tokens of the large account")
	flag.IntVar(&p.n, "n", 200, "measured requests of each read to each account")
	flag.IntVar(&p.warmup, "warmup", 20, "unmeasured requests of each read to each account first")
	flag.IntVar(&p.batch, "batch", 5, "requests to one account before the other's turn")
	flag.Float64Var(&p.maxRatio, "max-ratio", 1.5, "target: a read's p50 on the large account over the small one's")
	flag.Parse()
	if p.few < liveUser+liveUserless+20 || p.many < p.few || p.n < 1 || p.batch < 1 || p.warmup < 0 {
		fmt.Fprintf(os.Stderr, "readbench: need -few >= %d, -many >= -few, -n and -batch >= 1\n", liveUser+liveUserless+20)
		os.Exit(2)
	}
	if err := run(audit.WithOperator(context.Background(), "readbench"), p); err != nil {
		fmt.Fprintln(os.Stderr, "readbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, p params) (err error) {
	db, cleanup, err := dynamolocal.NewScratch(ctx, "readbench", schema.All)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, cleanup()) }()
	endpoint, client, tables := db.Endpoint, db.Client, db.Tables
	spool, err := os.MkdirTemp("", "readbench-spool-")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, os.RemoveAll(spool)) }()
	var examined counter
	svc, err := stack.Build(ctx, stack.Config{
		Client: examined.wrap(client), Tables: tables, OperatorKey: "opk_readbench_" + rand.Text(), LogOutput: io.Discard,
		SpoolDir: spool,
		// The bench sweeps once, before measuring; a sweep in the middle
		// would count its reads against a request.
		SweepInterval: time.Hour,
	})
	if err != nil {
		return err
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		err = errors.Join(err, svc.Close(closeCtx))
	}()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := gateway.NewServer(svc)
	go func() { _ = srv.Serve(gateway.Listener(ln)) }()
	defer func() { err = errors.Join(err, srv.Shutdown(context.Background())) }()
	base := "http://" + ln.Addr().String()
	fmt.Printf("readbench: stack at %s, DynamoDB Local at %s; %s\n", base, endpoint, loadgen.MachineLoad())

	// The bulk writes go through a store of their own on the stack's core
	// table: the stack's reads are the ones counted.
	store, err := dynamostore.New(client, tables[schema.Core.ID])
	if err != nil {
		return err
	}
	httpc := loadgen.NewClient(1)
	small, large := &side{name: "small"}, &side{name: "large"}
	for _, s := range []*side{small, large} {
		n := map[*side]int{small: p.few, large: p.many}[s]
		start := time.Now()
		if err := s.populate(ctx, svc.Manager, store, n); err != nil {
			return fmt.Errorf("%s account: %w", s.name, err)
		}
		if err := s.callData(ctx, httpc, base); err != nil {
			return fmt.Errorf("%s account: %w", s.name, err)
		}
		fmt.Printf("%s account: %d tokens (%d live; %d disabled by the key's replacement, %d by an admin, %d expired) in %v\n",
			s.name, n, liveUser+liveUserless, s.replaced, s.disabled, s.expired, time.Since(start).Round(time.Millisecond))
	}
	start := time.Now()
	if err := svc.Sweep(ctx); err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	if err := svc.Flush(ctx); err != nil {
		return fmt.Errorf("deliver usage: %w", err)
	}
	fmt.Printf("expiry sweep and usage delivery: %v\n", time.Since(start).Round(time.Millisecond))

	results, err := measure(ctx, p, httpc, base, &examined, small, large)
	if err != nil {
		return err
	}
	fmt.Printf("\n%d requests of each read to each account (after %d unmeasured), in alternating batches of %d, one at a time; %s\n",
		p.n, p.warmup, p.batch, loadgen.MachineLoad())
	fmt.Printf("%-44s %6s %10s %10s %7s  %-12s  %s\n", "read", "items", "small p50", "large p50", "ratio", "target", "examined/request small, large")
	var missed []string
	for _, r := range results {
		verdict := "ok"
		if r.ratio > p.maxRatio {
			verdict, missed = "MISSED", append(missed, r.name)
		}
		fmt.Printf("%-44s %6d %10s %10s %6.2fx  <= %gx %-6s  %.1f, %.1f\n", r.name, r.items,
			r.p50[0].Round(10*time.Microsecond), r.p50[1].Round(10*time.Microsecond), r.ratio, p.maxRatio, verdict, r.examined[0], r.examined[1])
	}
	fmt.Printf("readbench done; %s\n", loadgen.MachineLoad())
	if len(missed) > 0 {
		return fmt.Errorf("targets missed: %v", missed)
	}
	return nil
}

// side is one of the two accounts.
type side struct {
	name     string
	key      string // the current API key
	userID   string
	live     []string // the live tokens' secrets
	replaced int      // dead token counts
	disabled int
	expired  int
}

// populate makes the account with n tokens of service: the dead ones
// through store, the live ones through mgr.
func (s *side) populate(ctx context.Context, mgr *tokens.Manager, store *dynamostore.Store, n int) error {
	acc, _, err := mgr.CreateAccount(ctx, "readbench "+s.name, []string{service})
	if err != nil {
		return err
	}
	u, err := mgr.CreateUser(ctx, acc.ID, "owner-"+s.name+"@example.com", "Owner "+s.name)
	if err != nil {
		return err
	}
	if _, err := mgr.SetAccess(ctx, acc.ID, service, u.ID, true); err != nil {
		return err
	}
	s.userID = u.ID
	dead := n - liveUser - liveUserless
	s.disabled, s.expired = dead/10, dead/10
	s.replaced = dead - s.disabled - s.expired
	// Half the dead are the user's, alternating over all of them, so a
	// list of either type or of the user holds as many in both accounts'
	// proportions.
	owner := func(i int) string {
		if i%2 == 0 {
			return u.ID
		}
		return ""
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	gen := acc.APIKey.Generation
	if err := bulkTokens(ctx, store, acc.ID, s.replaced, func(i int, t *tokens.Token) {
		t.Name, t.UserID, t.KeyGeneration = fmt.Sprintf("old %05d", i), owner(i), gen
	}); err != nil {
		return err
	}
	acc, s.key, err = mgr.ReplaceAPIKey(ctx, acc.ID)
	if err != nil {
		return err
	}
	gen = acc.APIKey.Generation
	if err := bulkTokens(ctx, store, acc.ID, s.disabled, func(i int, t *tokens.Token) {
		t.Name, t.UserID, t.KeyGeneration = fmt.Sprintf("off %05d", i), owner(s.replaced+i), gen
		t.Enabled, t.DisabledReason = false, tokens.DisabledByAdmin
	}); err != nil {
		return err
	}
	expiredAt := now.Add(-time.Hour)
	if err := bulkTokens(ctx, store, acc.ID, s.expired, func(i int, t *tokens.Token) {
		t.Name, t.UserID, t.KeyGeneration = fmt.Sprintf("gone %05d", i), owner(s.replaced+s.disabled+i), gen
		t.ExpiresAt = &expiredAt
	}); err != nil {
		return err
	}
	later := now.Add(24 * time.Hour)
	for i := range liveUser + liveUserless {
		name := fmt.Sprintf("%s %d", liveName, i)
		r := tokens.IssueRequest{Name: &name}
		if i < liveUser {
			r.UserID = u.ID
		}
		if i == 0 {
			r.ExpiresAt = &later
		}
		_, plain, err := mgr.IssueToken(ctx, acc.ID, service, r)
		if err != nil {
			return err
		}
		s.live = append(s.live, plain)
	}
	return nil
}

// bulkTokens stores n tokens of service in the account, each shaped by
// shape (its index counting from 0), straight through the store: one
// transaction each, from a few workers.
func bulkTokens(ctx context.Context, store *dynamostore.Store, accountID string, n int, shape func(i int, t *tokens.Token)) error {
	_, _, err := bulktokens.Write(ctx, store, "readbench", n, tokens.Token{AccountID: accountID, Service: service}, shape)
	return err
}

// callData makes callsPerToken data calls with each live token, so the
// usage summary has the same counts to read in both accounts.
func (s *side) callData(ctx context.Context, c *http.Client, base string) error {
	for _, tok := range s.live {
		res, err := loadgen.Run(ctx, loadgen.Options{Requests: callsPerToken, Client: c}, get(base+"/data/"+service+"/hourly", tok))
		if err != nil {
			return err
		}
		if failed := res.Failed(http.StatusOK); failed > 0 {
			return fmt.Errorf("data calls: %d of %d failed (statuses %v, %v)", failed, res.Requests, res.Statuses, res.FirstError)
		}
	}
	return nil
}

// read is one measured read: its path for an account (limit, when set,
// narrows the page).
type read struct {
	name  string
	path  func(s *side, limit int) string
	limit int
}

func tokenList(query string) func(*side, int) string {
	return func(s *side, limit int) string {
		q, _ := url.ParseQuery(query)
		if q.Has("userId") {
			q.Set("userId", s.userID)
		}
		if limit > 0 {
			q.Set("limit", strconv.Itoa(limit))
		}
		if len(q) == 0 {
			return "/admin/services/" + service + "/tokens"
		}
		return "/admin/services/" + service + "/tokens?" + q.Encode()
	}
}

func fixed(path string) func(*side, int) string { return func(*side, int) string { return path } }

func reads() []*read {
	return []*read{
		{name: "tokens ?status=active", path: tokenList("status=active")},
		{name: "tokens ?status=disabled", path: tokenList("status=disabled")},
		{name: "tokens ?status=expired", path: tokenList("status=expired")},
		{name: "tokens ?type=user", path: tokenList("type=user")},
		{name: "tokens ?type=userless", path: tokenList("type=userless")},
		{name: "tokens ?userId=<the user>", path: tokenList("userId=")},
		{name: "tokens ?name=" + liveName, path: tokenList("name=" + liveName)},
		{name: "tokens/default", path: fixed("/admin/services/" + service + "/tokens/default")},
		{name: "tokens ?limit=1", path: tokenList("limit=1")},
		{name: "tokens (default limit)", path: tokenList("")},
		{name: "usage/summary ?groupBy=token", path: fixed("/admin/usage/summary?groupBy=token")},
		{name: "usage/summary ?groupBy=user", path: fixed("/admin/usage/summary?groupBy=user")},
		{name: "usage/summary ?groupBy=service", path: fixed("/admin/usage/summary?groupBy=service")},
	}
}

// result is one read's figures; [0] is the small account's, [1] the large.
type result struct {
	name     string
	items    int
	p50      [2]time.Duration
	ratio    float64
	examined [2]float64
}

// measure sends every read to both accounts: a probe to fit the page, the
// warm-up, then batches alternating the accounts (and which goes first).
func measure(ctx context.Context, p params, c *http.Client, base string, examined *counter, small, large *side) ([]result, error) {
	sides := [2]*side{small, large}
	rs := reads()
	items := make([]int, len(rs))
	for k, r := range rs {
		n, err := fitPage(ctx, c, base, r, sides)
		if err != nil {
			return nil, err
		}
		items[k] = n
	}
	type acc struct {
		total        loadgen.Result
		examined, nr int64
	}
	got := make([][2]acc, len(rs))
	batch := func(k, j, n int, keep bool) error {
		s := sides[j]
		before := examined.items.Load()
		res, err := loadgen.Run(ctx, loadgen.Options{Requests: n, Client: c}, get(base+rs[k].path(s, rs[k].limit), s.key))
		if err != nil {
			return err
		}
		if failed := res.Failed(http.StatusOK); failed > 0 {
			return fmt.Errorf("%s on the %s account: %d of %d failed (statuses %v, %v)", rs[k].name, s.name, failed, res.Requests, res.Statuses, res.FirstError)
		}
		if keep {
			got[k][j].total.Add(res)
			got[k][j].examined += examined.items.Load() - before
			got[k][j].nr += int64(res.Requests)
		}
		return nil
	}
	for k := range rs {
		for j := range sides {
			if p.warmup > 0 {
				if err := batch(k, j, p.warmup, false); err != nil {
					return nil, err
				}
			}
		}
	}
	rounds := (p.n + p.batch - 1) / p.batch
	for round := range rounds {
		n := min(p.batch, p.n-round*p.batch)
		for k := range rs {
			for j := range sides {
				if (round+k)%2 == 1 {
					j = 1 - j
				}
				if err := batch(k, j, n, true); err != nil {
					return nil, err
				}
			}
		}
	}
	// The answers are still those the page was fitted to.
	for _, r := range rs {
		if _, err := fitPage(ctx, c, base, r, sides); err != nil {
			return nil, fmt.Errorf("after measuring: %w", err)
		}
	}
	out := make([]result, len(rs))
	for k, r := range rs {
		res := result{name: r.name, items: items[k]}
		if r.limit > 0 {
			res.name += fmt.Sprintf(" &limit=%d", r.limit)
		}
		for j := range sides {
			res.p50[j] = got[k][j].total.Percentile(50)
			res.examined[j] = float64(got[k][j].examined) / float64(got[k][j].nr)
		}
		res.ratio = float64(res.p50[1]) / float64(res.p50[0])
		out[k] = res
	}
	return out, nil
}

// fitPage reads r from both accounts and, if the small account's answer
// holds fewer items than the large one's, narrows r's page to what the
// small one holds (a list only). It fails if the answers then still differ
// in size, and returns their size.
func fitPage(ctx context.Context, c *http.Client, base string, r *read, sides [2]*side) (int, error) {
	var n [2]int
	for attempt := range 2 {
		for j, s := range sides {
			var err error
			if n[j], err = count(ctx, c, base+r.path(s, r.limit), s.key); err != nil {
				return 0, fmt.Errorf("%s on the %s account: %w", r.name, s.name, err)
			}
		}
		if n[0] == n[1] {
			return n[0], nil
		}
		if attempt > 0 || n[0] > n[1] || r.limit > 0 || n[0] == 0 || r.path(sides[0], 1) == r.path(sides[0], 0) {
			break
		}
		r.limit = n[0]
	}
	return 0, fmt.Errorf("%s: the small account answers %d items, the large %d: the accounts are not alike", r.name, n[0], n[1])
}

// count GETs path and counts the items of its answer: a list's or a
// summary's items, else 1.
func count(ctx context.Context, c *http.Client, path, key string) (int, error) {
	req, err := get(path, key)(ctx, 0)
	if err != nil {
		return 0, err
	}
	res, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, err
	}
	if res.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("status %d: %s", res.StatusCode, body)
	}
	var v struct {
		Items *[]json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return 0, err
	}
	if v.Items == nil {
		return 1, nil
	}
	return len(*v.Items), nil
}

// get requests url with the credential as a bearer token.
func get(url, credential string) loadgen.NewRequest {
	return func(ctx context.Context, _ int) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err == nil {
			req.Header.Set("Authorization", "Bearer "+credential)
		}
		return req, err
	}
}

// counter counts the items the stack's DynamoDB reads examine: what a
// Query read before any filter (ScannedCount), and each item a GetItem or
// BatchGetItem returned.
type counter struct{ items atomic.Int64 }

// wrap is c with every answer counted.
func (x *counter) wrap(c *dynamodb.Client) *dynamodb.Client {
	return dynamodb.New(c.Options(), func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Initialize.Add(middleware.InitializeMiddlewareFunc("readbenchExamined",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					out, md, err := next.HandleInitialize(ctx, in)
					switch r := out.Result.(type) {
					case *dynamodb.QueryOutput:
						x.items.Add(int64(r.ScannedCount))
					case *dynamodb.GetItemOutput:
						if r.Item != nil {
							x.items.Add(1)
						}
					case *dynamodb.BatchGetItemOutput:
						for _, items := range r.Responses {
							x.items.Add(int64(len(items)))
						}
					}
					return out, md, err
				}), middleware.After)
		})
	})
}

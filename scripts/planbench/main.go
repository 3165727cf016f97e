// Command planbench measures what a plan costs, beside its targets
// (issue 21): assigning a plan to an account's service, and to one of its
// tokens, on an account with 10,000 tokens against one with a single
// token, in writes and in wall time on DynamoDB Local (target <= 1.5x:
// the same work whatever the account holds). The warm decision with a
// plan is BenchmarkAuthorizeWarmWithPlan in pkg/authz (make bench runs
// it). Exits 1 if a target is missed.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/acmedata/tokenservice/pkg/audit"
	"github.com/acmedata/tokenservice/pkg/dynamostore"
	"github.com/acmedata/tokenservice/pkg/local/dynamolocal"
	"github.com/acmedata/tokenservice/pkg/schema"
	"github.com/acmedata/tokenservice/pkg/testkit/bulktokens"
	"github.com/acmedata/tokenservice/pkg/testkit/dbcount"
	"github.com/acmedata/tokenservice/pkg/testkit/loadgen"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// maxRatio is the target: an assignment on the big account costs at most
// this many times what it costs on the small one.
const maxRatio = 1.5

func main() {
	many := flag.Int("many", 10_000, "tokens of the big account")
	rounds := flag.Int("rounds", 30, "assignments of each kind on each account")
	flag.Parse()
	if err := run(audit.WithOperator(context.Background(), "planbench"), *many, *rounds); err != nil {
		fmt.Fprintln(os.Stderr, "planbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, many, rounds int) error {
	scratch, cleanup, err := dynamolocal.NewScratch(ctx, "planbench", []schema.Table{schema.Core})
	if err != nil {
		return err
	}
	defer func() { _ = cleanup() }()
	endpoint := scratch.Endpoint
	db := &dbcount.Writes{DB: scratch.Client}
	store, err := dynamostore.New(db, scratch.Tables[schema.Core.ID])
	if err != nil {
		return err
	}
	// No engine: the figure is the store's part, which is the request's;
	// the engine's calls are the same per assignment whatever the account
	// holds (one key per assignment) and run after it.
	mgr, err := tokens.NewManager(store, tokens.Config{Services: []tokens.Service{{ID: "tmy", Name: "TMY data"}}})
	if err != nil {
		return err
	}
	fmt.Printf("planbench against DynamoDB Local at %s; %s\n", endpoint, loadgen.MachineLoad())
	p, err := mgr.CreatePlan(ctx, tokens.PlanInput{Name: "planbench p", Rate: 10, Burst: 20})
	if err != nil {
		return err
	}
	q, err := mgr.CreatePlan(ctx, tokens.PlanInput{Name: "planbench q", Rate: 100, Burst: 200})
	if err != nil {
		return err
	}

	type side struct {
		name       string
		account    tokens.Account
		token      string
		n          int
		svc, tok   []time.Duration
		svcW, tokW int64
	}
	sides := []*side{{name: "1 token", n: 1}, {name: fmt.Sprintf("%d tokens", many), n: many}}
	for _, s := range sides {
		if s.account, _, err = mgr.CreateAccount(ctx, "planbench "+s.name, []string{"tmy"}); err != nil {
			return err
		}
		start := time.Now()
		ids, err := userlessTokens(ctx, store, s.account, s.n)
		if err != nil {
			return err
		}
		s.token = ids[len(ids)/2]
		if s.n > 1 {
			fmt.Printf("stored %d tokens in one account in %v\n", s.n, time.Since(start).Round(time.Millisecond))
		}
	}
	for i := range rounds + 1 {
		plan := []string{p.ID, q.ID}[i%2]
		for _, s := range sides {
			before, start := db.Count(), time.Now()
			if _, err := mgr.SetServicePlan(ctx, s.account.ID, "tmy", plan); err != nil {
				return err
			}
			took, w := time.Since(start), db.Count()-before
			before, start = db.Count(), time.Now()
			if _, err := mgr.SetTokenPlan(ctx, s.token, plan); err != nil {
				return err
			}
			if i > 0 { // the first round warms the connection
				s.svc, s.svcW = append(s.svc, took), w
				s.tok, s.tokW = append(s.tok, time.Since(start)), db.Count()-before
			}
		}
	}
	one, big := sides[0], sides[1]
	fmt.Printf("a service's plan, %d assignments each: %s p50 %v, %d write(s); %s p50 %v, %d write(s)\n",
		rounds, one.name, pct(one.svc, 50), one.svcW, big.name, pct(big.svc, 50), big.svcW)
	fmt.Printf("a token's plan, %d assignments each: %s p50 %v, %d write(s); %s p50 %v, %d write(s)\n",
		rounds, one.name, pct(one.tok, 50), one.tokW, big.name, pct(big.tok, 50), big.tokW)
	var missed []string
	figure := func(name string, got float64) {
		verdict := "ok"
		if got > maxRatio {
			verdict, missed = "MISSED", append(missed, name)
		}
		fmt.Printf("  %-58s %6.2fx  target <= %gx  %s\n", name, got, maxRatio, verdict)
	}
	figure("service plan writes, "+big.name+" / 1 token", float64(big.svcW)/float64(one.svcW))
	figure("service plan wall time p50, "+big.name+" / 1 token", float64(pct(big.svc, 50))/float64(pct(one.svc, 50)))
	figure("token plan writes, "+big.name+" / 1 token", float64(big.tokW)/float64(one.tokW))
	figure("token plan wall time p50, "+big.name+" / 1 token", float64(pct(big.tok, 50))/float64(pct(one.tok, 50)))
	fmt.Printf("planbench done; %s\n", loadgen.MachineLoad())
	if len(missed) > 0 {
		return fmt.Errorf("targets missed: %v", missed)
	}
	return nil
}

// userlessTokens stores n userless tokens of tmy in acc and returns their IDs.
func userlessTokens(ctx context.Context, store *dynamostore.Store, acc tokens.Account, n int) ([]string, error) {
	proto := tokens.Token{AccountID: acc.ID, Name: "planbench", Service: "tmy", KeyGeneration: acc.APIKey.Generation}
	ids, _, err := bulktokens.Write(ctx, store, "planbench", n, proto, nil)
	return ids, err
}

func pct(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)].Round(time.Microsecond)
}

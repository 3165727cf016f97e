// Command leakbench measures what the token check buys (issue 25) and
// prints each figure beside its target, failing if one is missed:
//
//   - a flood of 100,000 random strings of a token's shape (32 lowercase
//     hex) through the real authorizer over a store that counts its reads:
//     every one refused as malformed, 0 store reads;
//
//   - the check alone (secret.IsToken) per string over the same flood:
//     at most 1 µs;
//
//   - the scanner's throughput on one core (GOMAXPROCS=1), scripts/tokenscan's
//     core secret.FindTokens over 64 MiB of source-like text with a token
//     every 4 KiB or so: at least 100 MB/s.
//
//     go run ./scripts/leakbench [-n 100000] [-mib 64]
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/acmedata/tokenservice/pkg/apigw"
	"github.com/acmedata/tokenservice/pkg/authz"
	"github.com/acmedata/tokenservice/pkg/secret"
	"github.com/acmedata/tokenservice/pkg/testkit/memstore"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// Targets.
const (
	maxReads       = 0
	maxCheck       = time.Microsecond
	minScanMBPerS  = 100.0
	scanTokenEvery = 64 // lines
)

func main() {
	n := flag.Int("n", 100_000, "random strings in the flood")
	mib := flag.Int("mib", 64, "MiB of text the scanner reads")
	flag.Parse()
	if err := run(*n, *mib); err != nil {
		fmt.Fprintln(os.Stderr, "leakbench:", err)
		os.Exit(1)
	}
}

func run(n, mib int) error {
	flood := make([]string, n)
	var raw [16]byte
	for i := range flood {
		_, _ = rand.Read(raw[:])
		flood[i] = hex.EncodeToString(raw[:])
	}
	var missed []error

	reads, refused, took, err := floodAuthorizer(flood)
	if err != nil {
		return err
	}
	fmt.Printf("flood of %d random 32-hex strings through the authorizer: %d refused as malformed, %d store reads (target %d), %v per decision\n",
		n, refused, reads, maxReads, (took / time.Duration(n)).Round(time.Nanosecond))
	if reads > maxReads || refused != n {
		missed = append(missed, fmt.Errorf("flood: %d store reads, %d of %d refused", reads, refused, n))
	}

	check := timeCheck(flood)
	fmt.Printf("check per string (secret.IsToken): %v (target <= %v): %s\n", check, maxCheck, verdict(check <= maxCheck))
	if check > maxCheck {
		missed = append(missed, fmt.Errorf("check: %v per string", check))
	}

	mbs := scanThroughput(mib << 20)
	fmt.Printf("tokenscan (secret.FindTokens) on one core: %.0f MB/s (target >= %.0f MB/s, ratio %.1fx): %s\n", mbs, minScanMBPerS, mbs/minScanMBPerS, verdict(mbs >= minScanMBPerS))
	if mbs < minScanMBPerS {
		missed = append(missed, fmt.Errorf("tokenscan: %.0f MB/s", mbs))
	}
	return errors.Join(missed...)
}

func verdict(ok bool) string {
	if ok {
		return "ok"
	}
	return "MISSED"
}

// countingStore is a credential store that counts every read.
type countingStore struct {
	tokens.CredentialStore
	reads atomic.Int64
}

func (s *countingStore) TokenBySecret(ctx context.Context, h string) (tokens.Token, error) {
	s.reads.Add(1)
	return s.CredentialStore.TokenBySecret(ctx, h)
}

func (s *countingStore) Gates(ctx context.Context, r tokens.GateRequest) (tokens.Gates, error) {
	s.reads.Add(1)
	return s.CredentialStore.Gates(ctx, r)
}

func (s *countingStore) TokenAndGates(ctx context.Context, h string, r tokens.GateRequest) (tokens.Token, tokens.Gates, error) {
	s.reads.Add(1)
	return s.CredentialStore.TokenAndGates(ctx, h, r)
}

// floodAuthorizer sends every string of flood to the real authorizer (no
// revocation delay: every admitted token would be read) and counts the
// store's reads and the 401s.
func floodAuthorizer(flood []string) (reads int64, refused int, took time.Duration, err error) {
	store := &countingStore{CredentialStore: memstore.New()}
	a, err := authz.New(store, authz.Options{Services: []string{"tmy"}, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		return 0, 0, 0, err
	}
	reqs := make([]events.APIGatewayCustomAuthorizerRequestTypeRequest, len(flood))
	for i, tok := range flood {
		reqs[i] = events.APIGatewayCustomAuthorizerRequestTypeRequest{
			Type: "REQUEST", MethodArn: "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/GET/data/tmy/hourly",
			Resource: "/data/{service}/{proxy+}", Path: "/data/tmy/hourly", HTTPMethod: "GET",
			PathParameters:        map[string]string{"service": "tmy", "proxy": "hourly"},
			QueryStringParameters: map[string]string{"token": tok},
		}
	}
	ctx := context.Background()
	start := time.Now()
	for _, r := range reqs {
		if _, err := a.Authorize(ctx, r); errors.Is(err, apigw.ErrUnauthorized) {
			refused++
		}
	}
	return store.reads.Load(), refused, time.Since(start), nil
}

// timeCheck is the mean time of secret.IsToken over flood, best of 5.
func timeCheck(flood []string) time.Duration {
	best := time.Duration(1<<63 - 1)
	sink := 0
	for range 5 {
		start := time.Now()
		for _, s := range flood {
			if secret.IsToken(s) {
				sink++
			}
		}
		best = min(best, time.Since(start)/time.Duration(len(flood)))
	}
	_ = sink
	return best
}

// scanThroughput is secret.FindTokens's MB/s on one core over n bytes of
// source-like text, best of 3.
func scanThroughput(n int) float64 {
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	text := sourceLike(n)
	best := 0.0
	for range 3 {
		found := 0
		start := time.Now()
		secret.FindTokens(text, func(int) bool { found++; return true })
		best = max(best, float64(len(text))/time.Since(start).Seconds()/1e6)
	}
	return best
}

// sourceLike is n bytes of lines like a repository's: code, prose, hex
// digests and now and then a token.
func sourceLike(n int) []byte {
	var raw [32]byte
	var b bytes.Buffer
	lines := []string{
		"func main() { fmt.Println(\"hello, world\") } // 2026-12-06\n",
		"The quick brown fox jumps over the lazy dog, again and again.\n",
		"    \"resolved\": \"https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz\",\n",
	}
	for i := 0; b.Len() < n; i++ {
		switch {
		case i%scanTokenEvery == scanTokenEvery-1:
			b.WriteString("TOKEN=" + secret.NewToken() + "\n")
		case i%8 == 7:
			_, _ = rand.Read(raw[:])
			b.WriteString("sha256: " + hex.EncodeToString(raw[:]) + " etag " + hex.EncodeToString(raw[:16]) + "\n")
		default:
			b.WriteString(lines[i%len(lines)])
		}
	}
	return b.Bytes()[:n]
}

package tokens

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/sync/errgroup"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/audit"
	"github.com/acmedata/tokenservice/pkg/secret"
)

// Limits of a leak report.
const (
	// MaxLeakStrings is the most strings one report may name: enough for
	// a scanner's batch, few enough that a report answers in a few
	// seconds, well inside API Gateway's 29 s.
	MaxLeakStrings = 1000
	// MaxLeakSource and MaxLeakURL bound the report's free text.
	MaxLeakSource = 100
	MaxLeakURL    = 2048
	// leakParallelism bounds the lookups and writes a report has in
	// flight at once.
	leakParallelism = 16
)

// LeakReport is a report of strings found in public.
type LeakReport struct {
	// Strings are what was found, as found: tokens or anything else.
	Strings []string
	// Source says who found them (e.g. "github"), URL where; both
	// optional.
	Source, URL string
}

// LeakResult is what a report did about one string.
type LeakResult string

// Leak results.
const (
	// LeakExposed: a live token of the deployment, now disabled with the
	// reason DisabledExposed.
	LeakExposed LeakResult = "exposed"
	// LeakAlreadyDisabled: a token of the deployment that was disabled
	// already; it is left as it was.
	LeakAlreadyDisabled LeakResult = "already_disabled"
	// LeakUnknown: a token's shape and check, but no token of the
	// deployment (never made, or deleted).
	LeakUnknown LeakResult = "unknown"
	// LeakNotAToken: not a token (its shape or check is wrong); no store
	// is read for it.
	LeakNotAToken LeakResult = "not_a_token"
)

// LeakItem is the answer for one string of a report: its hint and what
// was done. It never holds the string.
type LeakItem struct {
	// Hint is the last four characters of a token (LeakNotAToken: of a
	// string of at least a token's length, else "").
	Hint   string
	Result LeakResult
	// TokenID and AccountID name the token found (exposed or already
	// disabled); empty otherwise. They are for the caller's logs, not
	// for the report's answer, which names only hints.
	TokenID, AccountID string
}

// errAlreadyDisabled aborts the exposing write of a token found disabled.
var errAlreadyDisabled = errors.New("tokens: token already disabled")

// ReportLeaks disables every live token among r.Strings with the reason
// DisabledExposed, protected or not, each in one conditional write with
// its audit entry in the owning account (the caller's actor, the report's
// source and URL), and answers one LeakItem per string, in order. A string
// that fails the token check costs nothing but the check; the same token
// named twice is looked up once. Tokens are handled a bounded number at a
// time, so a report of MaxLeakStrings answers in seconds. A store failure
// fails the report; what was disabled before it stays disabled, and a
// retry of the same report answers already_disabled for those.
func (m *Manager) ReportLeaks(ctx context.Context, r LeakReport) ([]LeakItem, error) {
	if err := validateLeakReport(&r); err != nil {
		return nil, err
	}
	items := make([]LeakItem, len(r.Strings))
	byHash := map[string][]int{} // token hash -> the positions naming it
	for i, s := range r.Strings {
		if !secret.IsToken(s) {
			items[i] = LeakItem{Result: LeakNotAToken}
			if len(s) >= secret.TokenLength {
				items[i].Hint = secret.Hint(s)
			}
			continue
		}
		items[i].Hint = secret.Hint(s)
		h := secret.Hash(s)
		byHash[h] = append(byHash[h], i)
	}
	report := &audit.Report{Source: r.Source, URL: r.URL}
	results := make(map[string]LeakItem, len(byHash))
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(leakParallelism)
	for h := range byHash {
		g.Go(func() error {
			item, err := m.expose(gctx, h, report)
			if err != nil {
				return err
			}
			mu.Lock()
			results[h] = item
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("report leaks: %w", err)
	}
	for h, at := range byHash {
		for _, i := range at {
			hint := items[i].Hint
			items[i] = results[h]
			items[i].Hint = hint
		}
	}
	return items, nil
}

// expose finds the token of hash and disables it as exposed, unless it is
// disabled already.
func (m *Manager) expose(ctx context.Context, hash string, report *audit.Report) (LeakItem, error) {
	t, err := m.store.TokenBySecret(ctx, hash)
	switch {
	case errors.Is(err, apperr.ErrNotFound):
		return LeakItem{Result: LeakUnknown}, nil
	case err != nil:
		return LeakItem{}, err
	}
	found := LeakItem{TokenID: t.ID, AccountID: t.AccountID}
	if !t.Enabled {
		found.Result = LeakAlreadyDisabled
		return found, nil
	}
	e, err := m.entry(ctx, t.AccountID, audit.TokenExpose, audit.TargetToken, t.ID)
	if err != nil {
		return LeakItem{}, err
	}
	e.Report = report
	_, err = m.store.UpdateToken(ctx, t.AccountID, t.ID, 0, func(t *Token) error {
		if !t.Enabled {
			return errAlreadyDisabled
		}
		t.Enabled, t.DisabledReason = false, DisabledExposed
		return nil
	}, e)
	switch {
	case errors.Is(err, errAlreadyDisabled):
		found.Result = LeakAlreadyDisabled
	case errors.Is(err, apperr.ErrNotFound):
		// Deleted between the lookup and the write.
		return LeakItem{Result: LeakUnknown}, nil
	case err != nil:
		return LeakItem{}, err
	default:
		found.Result = LeakExposed
	}
	return found, nil
}

// validateLeakReport checks a report's size and free text. The strings
// themselves are not validated: they are whatever was found, and the
// answer never repeats them.
func validateLeakReport(r *LeakReport) error {
	if len(r.Strings) == 0 || len(r.Strings) > MaxLeakStrings {
		return apperr.Invalid("invalid_tokens", "tokens must list 1 to %d strings", MaxLeakStrings)
	}
	for i, s := range r.Strings {
		if len(s) > MaxLeakURL {
			return apperr.Invalid("invalid_tokens", "tokens[%d] is longer than %d bytes", i, MaxLeakURL)
		}
	}
	if err := RefuseSecret("source", r.Source); err != nil {
		return err
	}
	if err := RefuseSecret("url", r.URL); err != nil {
		return err
	}
	r.Source, r.URL = strings.TrimSpace(r.Source), strings.TrimSpace(r.URL)
	if utf8.RuneCountInString(r.Source) > MaxLeakSource || strings.ContainsFunc(r.Source, unicode.IsControl) || !utf8.ValidString(r.Source) {
		return apperr.Invalid("invalid_source", "source must be at most %d characters without control characters", MaxLeakSource)
	}
	if r.URL != "" {
		u, err := url.Parse(r.URL)
		if err != nil || len(r.URL) > MaxLeakURL || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.ContainsFunc(r.URL, unicode.IsControl) {
			return apperr.Invalid("invalid_url", "url must be an http or https URL of at most %d bytes", MaxLeakURL)
		}
	}
	return nil
}

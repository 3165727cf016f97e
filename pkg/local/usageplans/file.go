package usageplans

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/acmedata/tokenservice/pkg/plans"
)

// fileVersion is the version of the state file's format.
const fileVersion = 1

// state is the file's content: the one owner of its format.
type state struct {
	Version int                  `json:"version"`
	Plans   map[string]savedPlan `json:"plans"`
	Keys    map[string]savedKey  `json:"keys"`
}

type savedPlan struct {
	Name  string      `json:"name,omitempty"`
	Rate  float64     `json:"rate"`
	Burst int         `json:"burst"`
	Quota *savedQuota `json:"quota,omitempty"`
}

type savedQuota struct {
	Limit  int64        `json:"limit"`
	Period plans.Period `json:"period"`
}

type savedKey struct {
	PlanID string `json:"planId"`
	// The quota's period the count is for, by its period and start; absent
	// without a quota or before the first counted call.
	QuotaPeriod string    `json:"quotaPeriod,omitempty"`
	PeriodStart time.Time `json:"periodStart,omitzero"`
	Used        int64     `json:"used,omitempty"`
}

// plans returns the state's plans, in ID order.
func (s state) plans() []plans.Plan {
	out := make([]plans.Plan, 0, len(s.Plans))
	for id, p := range s.Plans {
		pl := plans.Plan{ID: id, Name: p.Name, Rate: p.Rate, Burst: p.Burst}
		if p.Quota != nil {
			pl.Quota = &plans.Quota{Limit: p.Quota.Limit, Period: p.Quota.Period}
		}
		out = append(out, pl)
	}
	slices.SortFunc(out, func(a, b plans.Plan) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// load reads the state file; a missing one is an empty state.
func load(path string) (state, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return state{}, nil
	}
	if err != nil {
		return state{}, fmt.Errorf("usageplans: %w", err)
	}
	var st state
	if err := json.Unmarshal(b, &st); err != nil {
		return state{}, fmt.Errorf("usageplans: %s: %w", path, err)
	}
	if st.Version != fileVersion {
		return state{}, fmt.Errorf("usageplans: %s: format version %d, want %d", path, st.Version, fileVersion)
	}
	return st, nil
}

// saveLocked writes the whole state to the file, if there is one, and
// notes the counts written. Called with e.mu held.
func (e *Engine) saveLocked() error {
	if e.opts.Path == "" {
		return nil
	}
	keys := *e.keys.Load()
	st := state{Version: fileVersion, Plans: make(map[string]savedPlan, len(e.plans)), Keys: make(map[string]savedKey, len(keys))}
	for id, p := range e.plans {
		sp := savedPlan{Name: p.Name, Rate: p.Rate, Burst: p.Burst}
		if p.Quota != nil {
			sp.Quota = &savedQuota{Limit: p.Quota.Limit, Period: p.Quota.Period}
		}
		st.Plans[id] = sp
	}
	type written struct {
		k           *key
		start, used int64
	}
	counts := make([]written, 0, len(keys))
	for v, k := range keys {
		k.mu.Lock()
		sk := savedKey{PlanID: k.planID}
		if k.quota != nil && k.periodEnd != 0 {
			sk.QuotaPeriod, sk.PeriodStart, sk.Used = string(k.quota.Period), time.Unix(0, k.periodStart).UTC(), k.used
		}
		counts = append(counts, written{k, k.periodStart, k.used})
		k.mu.Unlock()
		st.Keys[v] = sk
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("usageplans: %w", err)
	}
	if err := writeAtomic(e.opts.Path, b); err != nil {
		return fmt.Errorf("usageplans: save: %w", err)
	}
	for _, c := range counts {
		c.k.mu.Lock()
		c.k.savedStart, c.k.savedUsed = c.start, c.used
		c.k.mu.Unlock()
	}
	return nil
}

// writeAtomic replaces path with b: written beside it, synced, renamed,
// so a crash leaves either the old file or the new one whole.
func writeAtomic(path string, b []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = os.Remove(f.Name())
		}
	}()
	if _, err := f.Write(b); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	// The rename itself survives a crash once the directory is synced.
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

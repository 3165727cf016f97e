// Package audit is the account's audit log: one Entry for every change an
// admin or an operator makes to an account — who (Actor), from where
// (source IP, user agent), what (Action, target) and the fields that
// changed, before and after, never a secret.
//
// An entry is written by the store in the same transaction as the change it
// records (see tokens.Store): a change that fails or is refused leaves no
// entry, and one that commits always has its entry. The domain (pkg/tokens)
// makes the entry and says which fields of an account, user or token are
// recorded (their AuditFields); the store supplies the before and after of
// the attempt that commits, and Entry.Diff turns them into Changes.
//
// Entries are kept Retention (400 days) by DynamoDB's native TTL.
package audit

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"time"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/id"
)

// Retention is how long an entry is kept.
const Retention = 400 * 24 * time.Hour

// IDPrefix marks an entry's ID.
const IDPrefix = "aud_"

// NewID returns a new entry ID: a ULID, so IDs sort by creation time.
func NewID() string { return id.New(IDPrefix) }

// ActorType tells an admin's API key from an operator.
type ActorType string

// Actor types.
const (
	ActorAPIKey   ActorType = "apiKey"
	ActorOperator ActorType = "operator"
)

// Actor is who made a change: an account's API key (by its public ID) or
// an operator (by the IAM principal API Gateway authenticated).
type Actor struct {
	Type      ActorType
	KeyID     string // ActorAPIKey
	Principal string // ActorOperator
}

// APIKey is the actor of an admin presenting the API key keyID.
func APIKey(keyID string) Actor { return Actor{Type: ActorAPIKey, KeyID: keyID} }

// Operator is the actor of an operator with principal.
func Operator(principal string) Actor { return Actor{Type: ActorOperator, Principal: principal} }

func (a Actor) valid() bool {
	switch a.Type {
	case ActorAPIKey:
		return a.KeyID != "" && a.Principal == ""
	case ActorOperator:
		return a.Principal != "" && a.KeyID == ""
	}
	return false
}

// Action names what a change did.
type Action string

// The actions. Every write of tokens.Manager is one of them.
const (
	AccountCreate  Action = "account.create"
	AccountUpdate  Action = "account.update"
	APIKeyRotate   Action = "apiKey.rotate"  // an admin rotating the key it presents
	APIKeyReplace  Action = "apiKey.replace" // an operator replacing a lost key
	UserCreate     Action = "user.create"
	UserUpdate     Action = "user.update"
	UserDelete     Action = "user.delete"
	AccessUpdate   Action = "access.update"
	TokenCreate    Action = "token.create"
	TokenClone     Action = "token.clone"
	TokenUpdate    Action = "token.update"
	TokenDelete    Action = "token.delete"
	SettingsUpdate Action = "settings.update"
	// TokenExpose is a token disabled because it was reported found in
	// public; the entry's Report says by whom and where.
	TokenExpose Action = "token.expose"
	// PlanAssign is an operator assigning a plan to an account's service
	// (target: the account, change "plans.<service>") or to a token
	// (target: the token, change "plan"), or taking it off.
	PlanAssign Action = "plan.assign"
)

// Actions lists every action, in the order the API documents them.
var Actions = []Action{
	AccountCreate, AccountUpdate, APIKeyRotate, APIKeyReplace,
	UserCreate, UserUpdate, UserDelete, AccessUpdate,
	TokenCreate, TokenClone, TokenUpdate, TokenDelete, SettingsUpdate, TokenExpose, PlanAssign,
}

// TargetType names the kind of thing an entry's change was made to.
type TargetType string

// Target types.
const (
	TargetAccount TargetType = "account"
	TargetUser    TargetType = "user"
	TargetToken   TargetType = "token"
)

// Fields are the recorded fields of a target as they stand: names to
// values of JSON's kinds (string, float64, bool, []string, a map of them,
// nil). Nested maps are flattened by Diff into dotted names.
type Fields map[string]any

// Change is one field's value before and after a change; nil is "not
// there" (before a creation, after a deletion, an unset optional field).
type Change struct {
	Before any
	After  any
}

// Changes maps each field that changed to its Change.
type Changes map[string]Change

// Entry is one record of the audit log.
type Entry struct {
	AccountID  string
	ID         string
	Time       time.Time
	Actor      Actor
	SourceIP   string
	UserAgent  string
	Action     Action
	TargetType TargetType
	TargetID   string
	Changes    Changes
	// Report is the leak report a TokenExpose entry answers; nil for
	// every other entry.
	Report *Report
}

// Report is what a leak report said of where a token was found: its
// source (e.g. "github") and the URL of the finding, each possibly empty.
// Neither holds a secret: the domain refuses one (secret_in_input).
type Report struct {
	Source string
	URL    string
}

// ExpiresAt is when the entry leaves the log (its TTL).
func (e Entry) ExpiresAt() time.Time { return e.Time.Add(Retention) }

// Diff returns e with the changes from before to after: the fields whose
// values differ (nil before for a creation, nil after for a deletion).
// Map values compare key by key, as "name.key", so switching one service's
// access records that service alone; a flag map's missing key is false
// (a store may keep "off" as no key), so a switch reads true -> false.
func (e Entry) Diff(before, after Fields) Entry {
	b, bFlags := flatten(before)
	a, aFlags := flatten(after)
	if before != nil && after != nil {
		for _, k := range bFlags {
			if _, ok := a[k]; !ok {
				a[k] = false
			}
		}
		for _, k := range aFlags {
			if _, ok := b[k]; !ok {
				b[k] = false
			}
		}
	}
	e.Changes = Changes{}
	for _, k := range slices.Sorted(maps.Keys(b)) {
		if !reflect.DeepEqual(b[k], a[k]) {
			e.Changes[k] = Change{Before: b[k], After: a[k]}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(a)) {
		if _, seen := b[k]; !seen && a[k] != nil {
			e.Changes[k] = Change{Before: nil, After: a[k]}
		}
	}
	return e
}

// flatten spreads the maps of f ("access": {"tmy": true}) into dotted
// names ("access.tmy": true), except settings, which are recorded whole: an
// operator replaces them as one value.
// It also returns the names that came from a flag map.
func flatten(f Fields) (out map[string]any, flags []string) {
	out = make(map[string]any, len(f))
	for k, v := range f {
		if m, ok := v.(map[string]bool); ok {
			for mk, mv := range m {
				out[k+"."+mk] = mv
				flags = append(flags, k+"."+mk)
			}
			continue
		}
		out[k] = v
	}
	return out, flags
}

// ErrIncomplete is a store refusing a write whose entry lacks what every
// entry has; it is a bug in the caller, never the user's input.
var ErrIncomplete = errors.New("audit: incomplete entry")

// Check reports whether e is a whole entry of account accountID: a store
// calls it before writing, so no change commits with a partial entry or
// with an entry filed under another account.
func (e Entry) Check(accountID string) error {
	switch {
	case e.AccountID == "" || e.AccountID != accountID:
		return fmt.Errorf("%w: account %q for a change of %q", ErrIncomplete, e.AccountID, accountID)
	case !id.Valid(IDPrefix, e.ID), e.Time.IsZero(), !e.Actor.valid(), !slices.Contains(Actions, e.Action),
		e.TargetType == "", e.TargetID == "":
		return fmt.Errorf("%w: %+v", ErrIncomplete, e)
	}
	return nil
}

// Filter narrows a listing of an account's entries; zero fields do not
// narrow. From and To are inclusive.
type Filter struct {
	Action   Action
	TargetID string
	From, To time.Time
}

// ParseAction returns the action named s; "" is no action.
func ParseAction(s string) (Action, error) {
	if s == "" || slices.Contains(Actions, Action(s)) {
		return Action(s), nil
	}
	// Not echoed: the caller's text may be anything, a token included.
	return "", apperr.Invalid("invalid_action", "action is not one of the audit log's actions")
}

// Validate checks a filter given by a caller.
func (f Filter) Validate() error {
	if _, err := ParseAction(string(f.Action)); err != nil {
		return err
	}
	if f.TargetID != "" && !validTarget(f.TargetID) {
		return apperr.Invalid("invalid_target_id", "targetId must be an account, user or token ID")
	}
	if !f.From.IsZero() && !f.To.IsZero() && f.From.After(f.To) {
		return apperr.Invalid("invalid_time_range", "from must not be after to")
	}
	return nil
}

func validTarget(s string) bool {
	return id.Valid(id.Account, s) || id.Valid(id.User, s) || id.Valid(id.Token, s)
}

// change is a Change's one stored and shown form.
type change struct {
	Before any `json:"before"`
	After  any `json:"after"`
}

// EncodeChanges is the one stored form of an entry's changes: a JSON
// object of field to {"before", "after"}. Stores keep it as one string, so
// that values of any kind come back exactly as they went in.
func EncodeChanges(c Changes) (string, error) {
	out := make(map[string]change, len(c))
	for k, v := range c {
		out[k] = change(v)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return "", fmt.Errorf("encode audit changes: %w", err)
	}
	return string(b), nil
}

// DecodeChanges reads what EncodeChanges wrote; numbers come back as
// float64, lists as []any.
func DecodeChanges(s string) (Changes, error) {
	var in map[string]change
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		return nil, fmt.Errorf("decode audit changes: %w", err)
	}
	out := make(Changes, len(in))
	for k, v := range in {
		out[k] = Change(v)
	}
	return out, nil
}

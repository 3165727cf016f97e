package tokens

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/audit"
	"github.com/acmedata/tokenservice/pkg/id"
	"github.com/acmedata/tokenservice/pkg/paging"
	"github.com/acmedata/tokenservice/pkg/plans"
	"github.com/acmedata/tokenservice/pkg/secret"
)

// DefaultAPIKeyPrefix marks every API key of a deployment.
const DefaultAPIKeyPrefix = "tka_"

// Config configures a Manager.
type Config struct {
	// Services is the deployment's catalog; accounts subscribe to a subset.
	Services []Service
	// APIKeyPrefix is the recognisable prefix of API keys (DefaultAPIKeyPrefix if empty).
	APIKeyPrefix string
	// Now is the clock (time.Now if nil).
	Now func() time.Time
	// Engine is the control plane of the gateway's limiter (plans): nil
	// leaves the engine unreconciled and quota use unread (0), as in
	// tests that need neither.
	Engine plans.Engine
	// Logger logs what the inline reconciliation leaves to the sweeper.
	Logger *slog.Logger
}

// Manager carries out the account, user and token use cases of the product,
// enforcing its rules against a Store.
type Manager struct {
	store      Store
	services   []Service
	prefix     string
	now        func() time.Time
	engine     plans.Engine
	reconciler *plans.Reconciler // nil without an engine
	log        *slog.Logger
}

// NewManager returns a Manager over store.
func NewManager(store Store, cfg Config) (*Manager, error) {
	if store == nil {
		return nil, errors.New("tokens: nil store")
	}
	if len(cfg.Services) == 0 {
		return nil, errors.New("tokens: the service catalog is empty")
	}
	m := &Manager{store: store, services: slices.Clone(cfg.Services), prefix: cfg.APIKeyPrefix, now: cfg.Now}
	if m.prefix == "" {
		m.prefix = DefaultAPIKeyPrefix
	}
	if m.now == nil {
		m.now = time.Now
	}
	m.log = cfg.Logger
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if cfg.Engine != nil {
		markers, ok := store.(plans.MarkerStore)
		if !ok {
			return nil, errors.New("tokens: the store keeps no plan markers to reconcile the engine from")
		}
		r, err := plans.NewReconciler(markers, cfg.Engine, plans.ReconcilerOptions{Logger: m.log, Now: m.now})
		if err != nil {
			return nil, err
		}
		m.engine, m.reconciler = cfg.Engine, r
	}
	return m, nil
}

func (m *Manager) clock() time.Time { return m.now().UTC().Truncate(time.Millisecond) }

func (m *Manager) validateServices(services []string) ([]string, error) {
	out := make([]string, 0, len(services))
	for i, s := range services {
		if !slices.ContainsFunc(m.services, func(c Service) bool { return c.ID == s }) {
			// By position: the caller's text may be anything, a token included.
			return nil, apperr.Invalid("unknown_service", "services[%d] is not a service this deployment offers", i)
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out, nil
}

// ---- accounts ----

// CreateAccount creates an active account subscribed to services and
// returns it with its first API key, the only time the key is shown.
func (m *Manager) CreateAccount(ctx context.Context, name string, services []string) (Account, string, error) {
	name, err := ValidateName("name", name)
	if err != nil {
		return Account{}, "", err
	}
	services, err = m.validateServices(services)
	if err != nil {
		return Account{}, "", err
	}
	now := m.clock()
	key := secret.NewAPIKey(m.prefix)
	a := Account{
		ID: id.New(id.Account), Name: name, Status: AccountStatusActive, Services: services,
		APIKey:    APIKey{ID: id.New(id.APIKey), Hint: secret.Hint(key), CreatedAt: now, Generation: 1},
		CreatedAt: now, UpdatedAt: now,
	}
	e, err := m.entry(ctx, a.ID, audit.AccountCreate, audit.TargetAccount, a.ID)
	if err != nil {
		return Account{}, "", err
	}
	if err := m.store.CreateAccount(ctx, a, secret.Hash(key), e.Diff(nil, a.AuditFields())); err != nil {
		return Account{}, "", fmt.Errorf("create account: %w", err)
	}
	return a, key, nil
}

// Account returns an account.
func (m *Manager) Account(ctx context.Context, accountID string) (Account, error) {
	if !id.Valid(id.Account, accountID) {
		return Account{}, apperr.NotFound("account")
	}
	return m.store.GetAccount(ctx, accountID)
}

// Accounts lists the deployment's accounts for an operator, newest first,
// or in name order with a name prefix (case-insensitive). Every filter is
// checked before the store is asked: an unknown status or service is a
// 400, never an empty page that hides a typo.
func (m *Manager) Accounts(ctx context.Context, f AccountFilter, page paging.Request) (paging.Page[Account], error) {
	page, err := paging.Validate(page)
	if err != nil {
		return paging.Page[Account]{}, err
	}
	switch f.Status {
	case "", AccountStatusActive, AccountStatusClosed:
	default:
		return paging.Page[Account]{}, apperr.Invalid("invalid_status", "status must be %q or %q", AccountStatusActive, AccountStatusClosed)
	}
	if f.Service != "" && !slices.ContainsFunc(m.services, func(c Service) bool { return c.ID == f.Service }) {
		// Not echoed: the caller's text may be anything, a token included.
		return paging.Page[Account]{}, apperr.Invalid("unknown_service", "service is not a service this deployment offers")
	}
	if f.NamePrefix != "" {
		prefix, err := ValidateName("name", f.NamePrefix)
		if err != nil {
			return paging.Page[Account]{}, err
		}
		f.NamePrefix = NameKey(prefix)
	}
	p, err := m.store.ListAccounts(ctx, f, page)
	if err != nil {
		return paging.Page[Account]{}, fmt.Errorf("list accounts: %w", err)
	}
	return p, nil
}

// AccountChange is a partial update of an account; nil fields are kept.
type AccountChange struct {
	Status   *AccountStatus
	Services *[]string
}

// UpdateAccount changes an account's status or subscribed services: one
// write, which reaches every token of the account within the revocation
// delay and closes or reopens its API key at once.
func (m *Manager) UpdateAccount(ctx context.Context, accountID string, c AccountChange) (Account, error) {
	if c.Status != nil && *c.Status != AccountStatusActive && *c.Status != AccountStatusClosed {
		return Account{}, apperr.Invalid("invalid_status", "status must be %q or %q", AccountStatusActive, AccountStatusClosed)
	}
	var services []string
	if c.Services != nil {
		var err error
		if services, err = m.validateServices(*c.Services); err != nil {
			return Account{}, err
		}
	}
	if !id.Valid(id.Account, accountID) {
		return Account{}, apperr.NotFound("account")
	}
	e, err := m.entry(ctx, accountID, audit.AccountUpdate, audit.TargetAccount, accountID)
	if err != nil {
		return Account{}, err
	}
	now := m.clock()
	a, err := m.store.UpdateAccount(ctx, accountID, func(a *Account) error {
		if c.Status != nil {
			a.Status = *c.Status
		}
		if c.Services != nil {
			a.Services = services
		}
		a.UpdatedAt = now
		return nil
	}, e)
	if err != nil {
		return Account{}, fmt.Errorf("update account: %w", err)
	}
	return a, nil
}

// ReplaceAPIKey gives the account a new API key for an operator (a lost
// key), shown this once. The old key stops at once, and every token made
// under an older key reads as disabled with DisabledAPIKeyReplaced until an
// admin enables it again (rule 7).
func (m *Manager) ReplaceAPIKey(ctx context.Context, accountID string) (Account, string, error) {
	return m.replaceKey(ctx, accountID, 0)
}

// RotateAPIKey replaces the account's key for an admin presenting the key
// of generation presented. It succeeds only while that key is still the
// current one, so of concurrent rotations with one key exactly one wins and
// the others fail with ErrKeyNotCurrent (401).
func (m *Manager) RotateAPIKey(ctx context.Context, accountID string, presented int64) (Account, string, error) {
	if presented <= 0 {
		return Account{}, "", ErrKeyNotCurrent
	}
	return m.replaceKey(ctx, accountID, presented)
}

func (m *Manager) replaceKey(ctx context.Context, accountID string, presented int64) (Account, string, error) {
	if !id.Valid(id.Account, accountID) {
		return Account{}, "", apperr.NotFound("account")
	}
	action := audit.APIKeyReplace
	if presented != 0 {
		action = audit.APIKeyRotate
	}
	e, err := m.entry(ctx, accountID, action, audit.TargetAccount, accountID)
	if err != nil {
		return Account{}, "", err
	}
	key := secret.NewAPIKey(m.prefix)
	now := m.clock()
	a, err := m.store.ReplaceAPIKey(ctx, accountID, KeyReplacement{
		Key:     APIKey{ID: id.New(id.APIKey), Hint: secret.Hint(key), CreatedAt: now},
		KeyHash: secret.Hash(key), Presented: presented, UpdatedAt: now,
	}, e)
	if err != nil {
		return Account{}, "", fmt.Errorf("replace api key: %w", err)
	}
	return a, key, nil
}

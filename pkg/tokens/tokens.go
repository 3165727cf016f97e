package tokens

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/audit"
	"github.com/acmedata/tokenservice/pkg/id"
	"github.com/acmedata/tokenservice/pkg/paging"
	"github.com/acmedata/tokenservice/pkg/plans"
	"github.com/acmedata/tokenservice/pkg/restrict"
	"github.com/acmedata/tokenservice/pkg/secret"
)

// ErrTokenProtected refuses the deletion of a protected token.
var ErrTokenProtected = apperr.Conflict("token_protected", "the token is protected; unprotect it before deleting it")

// TokenView is a token as admins see it: its record, its status and whether
// it is its service's default token.
type TokenView struct {
	Token
	Status    TokenStatus
	IsDefault bool
	// Plan is the token's own plan (nil for none), whatever its
	// service's.
	Plan *plans.Plan
}

// IssueRequest describes a token to issue.
type IssueRequest struct {
	Name      *string
	UserID    string // empty for a userless token
	ExpiresAt *time.Time
	// Restrictions as the admin sent them (nil: none), validated here.
	Restrictions *restrict.Restrictions
	Protected    bool
	// KeyGeneration is the generation of the API key that authorised the
	// request (from the key authorizer): the token belongs to that key, and
	// is made only while it is still current (rule 7). 0 takes the current
	// key's, for callers that hold no key (tests, tools).
	KeyGeneration int64
}

// CloneRequest describes a clone.
type CloneRequest struct {
	Name *string
	// Restrictions replace the source's, which the clone copies if nil.
	Restrictions  *restrict.Restrictions
	KeyGeneration int64 // as in IssueRequest
	// RevokeSourceAfterSeconds, if set, makes the source expire that many
	// seconds after the clone (never later than it already would). Whole
	// seconds, as the API takes them, so the range is checked before any
	// conversion can overflow.
	RevokeSourceAfterSeconds *int64
	// ExpiresAt, if set, makes the clone expire then: no later than its
	// source does. Without it the clone keeps its source's expiry, so a
	// rotation never extends a token's life.
	ExpiresAt *time.Time
}

// IssueToken makes a new token for one of the account's services and
// returns it with its secret, the only time the secret is shown.
func (m *Manager) IssueToken(ctx context.Context, accountID, service string, r IssueRequest) (TokenView, string, error) {
	name := service + " token"
	if r.Name != nil {
		var err error
		if name, err = ValidateName("name", *r.Name); err != nil {
			return TokenView{}, "", err
		}
	}
	policy, err := compileRestrictions(r.Restrictions)
	if err != nil {
		return TokenView{}, "", err
	}
	if r.UserID != "" && !id.Valid(id.User, r.UserID) {
		return TokenView{}, "", apperr.NotFound("user")
	}
	if err := m.validExpiry(r.ExpiresAt); err != nil {
		return TokenView{}, "", err
	}
	a, err := m.gates(ctx, accountID, service, r.UserID, r.KeyGeneration)
	if err != nil {
		return TokenView{}, "", err
	}
	t, plain := m.newToken(a, service, r.UserID, name, r.KeyGeneration)
	t.Restrictions, t.Protected = policy, r.Protected
	if r.ExpiresAt != nil {
		exp := r.ExpiresAt.UTC().Truncate(time.Millisecond)
		t.ExpiresAt = &exp
	}
	e, err := m.entry(ctx, accountID, audit.TokenCreate, audit.TargetToken, t.ID)
	if err != nil {
		return TokenView{}, "", err
	}
	if err := m.store.CreateToken(ctx, TokenWrite{Token: t}, e.Diff(nil, t.AuditFields())); err != nil {
		return TokenView{}, "", fmt.Errorf("create token: %w", err)
	}
	view, err := m.view(ctx, t, a)
	if err != nil {
		return TokenView{}, "", err
	}
	return view, plain, nil
}

// CloneToken makes a new token with the source's service, user and
// settings (rotation). The source keeps working until deleted, or until the
// optional grace period ends.
func (m *Manager) CloneToken(ctx context.Context, accountID, tokenID string, r CloneRequest) (TokenView, string, error) {
	var name string
	if r.Name != nil {
		var err error
		if name, err = ValidateName("name", *r.Name); err != nil {
			return TokenView{}, "", err
		}
	}
	if s := r.RevokeSourceAfterSeconds; s != nil && (*s < 0 || *s > int64(MaxGracePeriod/time.Second)) {
		return TokenView{}, "", apperr.Invalid("invalid_revoke_source_after_seconds", "revokeSourceAfterSeconds must be between 0 and %d", int(MaxGracePeriod.Seconds()))
	}
	policy, err := compileRestrictions(r.Restrictions)
	if err != nil {
		return TokenView{}, "", err
	}
	if err := m.validExpiry(r.ExpiresAt); err != nil {
		return TokenView{}, "", err
	}
	src, err := m.token(ctx, accountID, tokenID)
	if err != nil {
		return TokenView{}, "", err
	}
	expires, err := cloneExpiry(src, r.ExpiresAt, m.clock())
	if err != nil {
		return TokenView{}, "", err
	}
	a, err := m.gates(ctx, accountID, src.Service, src.UserID, r.KeyGeneration)
	if err != nil {
		return TokenView{}, "", err
	}
	if r.Name == nil {
		name = truncateRunes(src.Name+" (clone)", MaxNameLength)
	}
	t, plain := m.newToken(a, src.Service, src.UserID, name, r.KeyGeneration)
	// A clone keeps its source's plan: the store counts it as one more
	// assignment of the plan and leaves a marker for the clone's own key.
	t.Settings, t.Restrictions, t.ClonedFrom, t.ExpiresAt, t.PlanID = src.Settings.Clone(), src.Restrictions, src.ID, expires, src.PlanID
	if r.Restrictions != nil {
		t.Restrictions = policy
	}
	w := TokenWrite{Token: t}
	fields := t.AuditFields()
	if r.RevokeSourceAfterSeconds != nil {
		end := t.CreatedAt.Add(time.Duration(*r.RevokeSourceAfterSeconds) * time.Second)
		w.SourceID, w.RevokeSourceAt = src.ID, &end
		// The grace period asked for: the source expires then, unless it
		// already expires sooner.
		fields["revokeSourceAt"] = end.Format(time.RFC3339Nano)
	}
	e, err := m.entry(ctx, accountID, audit.TokenClone, audit.TargetToken, t.ID)
	if err != nil {
		return TokenView{}, "", err
	}
	if err := m.store.CreateToken(ctx, w, e.Diff(nil, fields)); err != nil {
		return TokenView{}, "", fmt.Errorf("create clone: %w", err)
	}
	if t.PlanID != "" {
		m.reconcile(ctx, plans.Marker{Kind: plans.MarkToken, Assignment: plans.Assignment{AccountID: t.AccountID, TokenID: t.ID}})
	}
	view, err := m.view(ctx, t, a)
	if err != nil {
		return TokenView{}, "", err
	}
	return view, plain, nil
}

// validExpiry checks an expiry an admin asked for (nil: none).
func (m *Manager) validExpiry(at *time.Time) error {
	if at == nil {
		return nil
	}
	now := m.clock()
	if !at.After(now) || at.Sub(now) > MaxTokenLifetime {
		return apperr.Invalid("invalid_expires_at", "expiresAt must be in the future and within %d years", int(MaxTokenLifetime/(365*24*time.Hour)))
	}
	return nil
}

// cloneExpiry is when a clone of src expires: the source's expiry, or an
// earlier one asked for. A later one is refused, and so is a clone of a
// token that has expired: a clone never outlives its source.
func cloneExpiry(src Token, asked *time.Time, now time.Time) (*time.Time, error) {
	if src.ExpiresAt != nil && !src.ExpiresAt.After(now) {
		return nil, apperr.Conflict("token_expired", "the token has expired; a clone never outlives its source")
	}
	if asked == nil {
		if src.ExpiresAt == nil {
			return nil, nil
		}
		exp := *src.ExpiresAt
		return &exp, nil
	}
	if src.ExpiresAt != nil && asked.After(*src.ExpiresAt) {
		return nil, apperr.Invalid("invalid_expires_at", "expiresAt of a clone must not be later than its source's expiresAt")
	}
	exp := asked.UTC().Truncate(time.Millisecond)
	return &exp, nil
}

// compileRestrictions validates restrictions an admin sent (nil: none) and
// compiles them.
func compileRestrictions(r *restrict.Restrictions) (restrict.Policy, error) {
	if r == nil {
		return restrict.Policy{}, nil
	}
	for i, o := range r.Origins {
		if err := RefuseSecret(fmt.Sprintf("origins[%d]", i), o); err != nil {
			return restrict.Policy{}, err
		}
	}
	for i, c := range r.IPRanges {
		if err := RefuseSecret(fmt.Sprintf("ipRanges[%d]", i), c); err != nil {
			return restrict.Policy{}, err
		}
	}
	lists, err := restrict.Parse(r.Origins, r.IPRanges)
	if err != nil {
		return restrict.Policy{}, err
	}
	return restrict.Compile(lists)
}

// gates reads and checks what a new token for service (and userID) needs:
// an active account subscribed to the service, whose current key is the one
// of generation keyGen (if set), and, for a user token, a user whose access
// to it is on. The store checks the same again in the create's own write.
func (m *Manager) gates(ctx context.Context, accountID, service, userID string, keyGen int64) (Account, error) {
	a, err := m.store.GetAccount(ctx, accountID)
	if err != nil {
		return Account{}, err
	}
	if err := AccountGateError(a.Gate(), service, keyGen); err != nil {
		return Account{}, err
	}
	if userID == "" {
		return a, nil
	}
	u, err := m.store.GetUser(ctx, accountID, userID)
	if err != nil {
		return Account{}, err
	}
	g := u.Gate()
	return a, UserGateError(&g, service)
}

// newToken makes a token of the key of generation keyGen (0: the
// account's current key).
func (m *Manager) newToken(a Account, service, userID, name string, keyGen int64) (Token, string) {
	if keyGen == 0 {
		keyGen = a.APIKey.Generation
	}
	plain := secret.NewToken()
	return Token{
		AccountID: a.ID, ID: id.New(id.Token), Name: name, Service: service, UserID: userID,
		SecretHash: secret.Hash(plain), Hint: secret.Hint(plain), Enabled: true,
		CreatedAt: m.clock(), Settings: Settings{}, KeyGeneration: keyGen,
	}, plain
}

// token reads one of the account's tokens. A token of a deleted user is
// gone, even while its item waits for the background sweep.
func (m *Manager) token(ctx context.Context, accountID, tokenID string) (Token, error) {
	if !id.Valid(id.Token, tokenID) {
		return Token{}, apperr.NotFound("token")
	}
	t, err := m.store.GetToken(ctx, accountID, tokenID)
	if err != nil || t.UserID == "" {
		return t, err
	}
	if _, err := m.store.GetUser(ctx, accountID, t.UserID); errors.Is(err, apperr.ErrNotFound) {
		return Token{}, apperr.NotFound("token")
	} else if err != nil {
		return Token{}, err
	}
	return t, nil
}

// Token returns one of the account's tokens.
func (m *Manager) Token(ctx context.Context, accountID, tokenID string) (TokenView, error) {
	t, err := m.token(ctx, accountID, tokenID)
	if err != nil {
		return TokenView{}, err
	}
	a, err := m.store.GetAccount(ctx, accountID)
	if err != nil {
		return TokenView{}, err
	}
	return m.view(ctx, t, a)
}

// Tokens lists a service's tokens, newest first, each marked if it is the
// service's default token.
func (m *Manager) Tokens(ctx context.Context, accountID string, f TokenFilter, page paging.Request) (paging.Page[TokenView], error) {
	page, err := paging.Validate(page)
	if err != nil {
		return paging.Page[TokenView]{}, err
	}
	switch f.Type {
	case "", TokenUser, TokenUserless:
	default:
		return paging.Page[TokenView]{}, apperr.Invalid("invalid_type", "type must be %q or %q", TokenUser, TokenUserless)
	}
	switch f.Status {
	case "", StatusActive, StatusDisabled, StatusExpired:
	default:
		return paging.Page[TokenView]{}, apperr.Invalid("invalid_status", "status must be %q, %q or %q", StatusActive, StatusDisabled, StatusExpired)
	}
	if f.UserID != "" && !id.Valid(id.User, f.UserID) {
		return paging.Page[TokenView]{}, apperr.Invalid("invalid_user_id", "userId is not a user ID")
	}
	if f.NamePrefix != "" {
		prefix, err := ValidateName("name", f.NamePrefix)
		if err != nil {
			return paging.Page[TokenView]{}, err
		}
		f.NamePrefix = NameKey(prefix)
	}
	_, a, err := m.subscribedService(ctx, accountID, f.Service)
	if err != nil {
		return paging.Page[TokenView]{}, err
	}
	f.Now, f.KeyGeneration = m.clock(), a.APIKey.Generation
	p, err := m.store.ListTokens(ctx, accountID, f, page)
	if err != nil {
		return paging.Page[TokenView]{}, err
	}
	def, err := m.defaultTokenID(ctx, accountID, f)
	if err != nil {
		return paging.Page[TokenView]{}, err
	}
	out := paging.Page[TokenView]{Items: make([]TokenView, 0, len(p.Items)), NextCursor: p.NextCursor}
	cache := planCache{}
	for _, t := range p.Items {
		t = t.UnderKey(f.KeyGeneration)
		plan, err := m.plan(ctx, cache, t.PlanID)
		if err != nil {
			return paging.Page[TokenView]{}, err
		}
		out.Items = append(out.Items, TokenView{Token: t, Status: t.Status(f.Now), IsDefault: t.ID == def, Plan: plan})
	}
	return out, nil
}

// DefaultToken returns the service's default token: the earliest-created
// token that is active now.
func (m *Manager) DefaultToken(ctx context.Context, accountID, service string) (TokenView, error) {
	_, a, err := m.subscribedService(ctx, accountID, service)
	if err != nil {
		return TokenView{}, err
	}
	now := m.clock()
	t, err := m.store.EarliestActiveToken(ctx, accountID, TokenFilter{Service: service, Now: now, KeyGeneration: a.APIKey.Generation})
	if errors.Is(err, apperr.ErrNotFound) {
		return TokenView{}, &apperr.Error{Kind: apperr.KindNotFound, Code: "default_token_not_found", Message: "the service has no active token"}
	}
	if err != nil {
		return TokenView{}, err
	}
	plan, err := m.plan(ctx, planCache{}, t.PlanID)
	if err != nil {
		return TokenView{}, err
	}
	return TokenView{Token: t, Status: t.Status(now), IsDefault: true, Plan: plan}, nil
}

func (m *Manager) defaultTokenID(ctx context.Context, accountID string, f TokenFilter) (string, error) {
	t, err := m.store.EarliestActiveToken(ctx, accountID, TokenFilter{Service: f.Service, Now: f.Now, KeyGeneration: f.KeyGeneration})
	if errors.Is(err, apperr.ErrNotFound) {
		return "", nil
	}
	return t.ID, err
}

// view is t as admins see it under a's current key.
func (m *Manager) view(ctx context.Context, t Token, a Account) (TokenView, error) {
	f := TokenFilter{Service: t.Service, Now: m.clock(), KeyGeneration: a.APIKey.Generation}
	def, err := m.defaultTokenID(ctx, t.AccountID, f)
	if err != nil {
		return TokenView{}, err
	}
	t = t.UnderKey(f.KeyGeneration)
	plan, err := m.plan(ctx, planCache{}, t.PlanID)
	if err != nil {
		return TokenView{}, err
	}
	return TokenView{Token: t, Status: t.Status(f.Now), IsDefault: t.ID == def, Plan: plan}, nil
}

// TokenChange is a partial update of a token; nil fields are kept.
type TokenChange struct {
	Name         *string
	Enabled      *bool
	Restrictions *restrict.Restrictions // replace both lists
	Protected    *bool
	// KeyGeneration is the generation of the API key that authorised the
	// change; enabling a token makes it that key's, and only while that key
	// is current (rule 7). 0 takes the current key's.
	KeyGeneration int64
}

// UpdateToken renames, disables or enables, restricts or protects a
// token. Enabling a token disabled by a key replacement adopts it under the
// current key.
func (m *Manager) UpdateToken(ctx context.Context, accountID, tokenID string, c TokenChange) (TokenView, error) {
	var name string
	if c.Name != nil {
		var err error
		if name, err = ValidateName("name", *c.Name); err != nil {
			return TokenView{}, err
		}
	}
	policy, err := compileRestrictions(c.Restrictions)
	if err != nil {
		return TokenView{}, err
	}
	gen := c.KeyGeneration
	if c.Enabled != nil && *c.Enabled && gen == 0 {
		a, err := m.store.GetAccount(ctx, accountID)
		if err != nil {
			return TokenView{}, err
		}
		gen = a.APIKey.Generation
	}
	return m.changeToken(ctx, accountID, tokenID, gen, audit.TokenUpdate, func(t *Token) {
		if c.Name != nil {
			t.Name = name
		}
		if c.Restrictions != nil {
			t.Restrictions = policy
		}
		if c.Protected != nil {
			t.Protected = *c.Protected
		}
		switch {
		case c.Enabled == nil:
		case *c.Enabled:
			t.Enabled, t.DisabledReason, t.KeyGeneration = true, "", gen
		case t.Enabled:
			t.Enabled, t.DisabledReason = false, DisabledByAdmin
		}
	})
}

// SetTokenSettings replaces a token's settings (operators only). The token
// is found by ID alone, whatever its account.
func (m *Manager) SetTokenSettings(ctx context.Context, tokenID string, s Settings) (TokenView, error) {
	s, err := ValidateSettings(s)
	if err != nil {
		return TokenView{}, err
	}
	return m.operatorChange(ctx, tokenID, audit.SettingsUpdate, func(t *Token) { t.Settings = s })
}

// SetTokenProtected protects or unprotects a token (operators; admins do
// it with UpdateToken). The token is found by ID alone.
func (m *Manager) SetTokenProtected(ctx context.Context, tokenID string, protected bool) (TokenView, error) {
	return m.operatorChange(ctx, tokenID, audit.TokenUpdate, func(t *Token) { t.Protected = protected })
}

// operatorChange saves change to a token found by ID alone.
func (m *Manager) operatorChange(ctx context.Context, tokenID string, action audit.Action, change func(*Token)) (TokenView, error) {
	if !id.Valid(id.Token, tokenID) {
		return TokenView{}, apperr.NotFound("token")
	}
	accountID, err := m.store.TokenAccount(ctx, tokenID)
	if err != nil {
		return TokenView{}, err
	}
	return m.changeToken(ctx, accountID, tokenID, 0, action, change)
}

// changeToken saves change to a token, conditional on the account's key
// having generation keyGen if set.
func (m *Manager) changeToken(ctx context.Context, accountID, tokenID string, keyGen int64, action audit.Action, change func(*Token)) (TokenView, error) {
	if !id.Valid(id.Token, tokenID) {
		return TokenView{}, apperr.NotFound("token")
	}
	e, err := m.entry(ctx, accountID, action, audit.TargetToken, tokenID)
	if err != nil {
		return TokenView{}, err
	}
	t, err := m.store.UpdateToken(ctx, accountID, tokenID, keyGen, func(t *Token) error {
		change(t)
		return nil
	}, e)
	if err != nil {
		return TokenView{}, fmt.Errorf("update token: %w", err)
	}
	a, err := m.store.GetAccount(ctx, accountID)
	if err != nil {
		return TokenView{}, err
	}
	return m.view(ctx, t, a)
}

// DeleteToken deletes a token unless it is protected; it stops authorising
// within the revocation delay. The store decides on the token as it
// deletes it, so an unprotect racing the delete cannot be overtaken.
func (m *Manager) DeleteToken(ctx context.Context, accountID, tokenID string) error {
	if !id.Valid(id.Token, tokenID) {
		return apperr.NotFound("token")
	}
	e, err := m.entry(ctx, accountID, audit.TokenDelete, audit.TargetToken, tokenID)
	if err != nil {
		return err
	}
	err = m.store.DeleteToken(ctx, accountID, tokenID, func(t Token) error {
		if t.Protected {
			return ErrTokenProtected
		}
		return nil
	}, e)
	if err != nil {
		return fmt.Errorf("delete token: %w", err)
	}
	return nil
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

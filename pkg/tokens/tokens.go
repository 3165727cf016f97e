package tokens

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/id"
	"github.com/acmedata/tokenservice/pkg/paging"
	"github.com/acmedata/tokenservice/pkg/secret"
)

// TokenWrite is a token to create together with the state it was checked
// against. The store writes it only if Account (and User, and Source) still
// have the Versions they were read at.
type TokenWrite struct {
	Token   Token
	Account Account
	User    *User  // the token's user, for a user token
	Source  *Token // the cloned token, saved in the same write (Version already incremented)
}

// TokenView is a token as admins see it: its record, its status and whether
// it is its service's default token.
type TokenView struct {
	Token
	Status    TokenStatus
	IsDefault bool
}

// IssueRequest describes a token to issue.
type IssueRequest struct {
	Name      *string
	UserID    string // empty for a userless token
	ExpiresAt *time.Time
}

// CloneRequest describes a clone.
type CloneRequest struct {
	Name *string
	// RevokeSourceAfterSeconds, if set, makes the source expire that many
	// seconds after the clone (never later than it already would). Whole
	// seconds, as the API takes them, so the range is checked before any
	// conversion can overflow.
	RevokeSourceAfterSeconds *int64
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
	if r.UserID != "" && !id.Valid(id.User, r.UserID) {
		return TokenView{}, "", apperr.NotFound("user")
	}
	if r.ExpiresAt != nil {
		now := m.clock()
		if !r.ExpiresAt.After(now) || r.ExpiresAt.Sub(now) > MaxTokenLifetime {
			return TokenView{}, "", apperr.Invalid("invalid_expires_at", "expiresAt must be in the future and within %d years", int(MaxTokenLifetime/(365*24*time.Hour)))
		}
	}
	var view TokenView
	var plain string
	err := m.retry(ctx, func() error {
		a, u, err := m.gates(ctx, accountID, service, r.UserID)
		if err != nil {
			return err
		}
		var t Token
		t, plain = m.newToken(a, service, r.UserID, name)
		if r.ExpiresAt != nil {
			exp := r.ExpiresAt.UTC().Truncate(time.Millisecond)
			t.ExpiresAt = &exp
		}
		if err := m.store.CreateToken(ctx, TokenWrite{Token: t, Account: a, User: u}); err != nil {
			return fmt.Errorf("create token: %w", err)
		}
		view, err = m.view(ctx, t)
		return err
	})
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
	var view TokenView
	var plain string
	err := m.retry(ctx, func() error {
		src, err := m.token(ctx, accountID, tokenID)
		if err != nil {
			return err
		}
		a, u, err := m.gates(ctx, accountID, src.Service, src.UserID)
		if err != nil {
			return err
		}
		cloneName := name
		if r.Name == nil {
			cloneName = truncateRunes(src.Name+" (clone)", MaxNameLength)
		}
		var t Token
		t, plain = m.newToken(a, src.Service, src.UserID, cloneName)
		t.Settings = src.Settings.Clone()
		w := TokenWrite{Token: t, Account: a, User: u}
		if r.RevokeSourceAfterSeconds != nil {
			end := t.CreatedAt.Add(time.Duration(*r.RevokeSourceAfterSeconds) * time.Second)
			if src.ExpiresAt == nil || end.Before(*src.ExpiresAt) {
				src.ExpiresAt = &end
				src.Version++
				w.Source = &src
			}
		}
		if err := m.store.CreateToken(ctx, w); err != nil {
			return fmt.Errorf("create clone: %w", err)
		}
		view, err = m.view(ctx, t)
		return err
	})
	if err != nil {
		return TokenView{}, "", err
	}
	return view, plain, nil
}

// gates reads and checks what a new token for service (and userID) needs:
// an active account subscribed to the service and, for a user token, a user
// whose access to it is on.
func (m *Manager) gates(ctx context.Context, accountID, service, userID string) (Account, *User, error) {
	a, err := m.store.GetAccount(ctx, accountID)
	if err != nil {
		return Account{}, nil, err
	}
	if a.Status != AccountStatusActive {
		return Account{}, nil, apperr.Conflict("account_closed", "the account is closed")
	}
	if !a.Subscribes(service) {
		return Account{}, nil, apperr.NotFound("service")
	}
	if userID == "" {
		return a, nil, nil
	}
	u, err := m.store.GetUser(ctx, accountID, userID)
	if err != nil {
		return Account{}, nil, err
	}
	if !u.HasAccess(service) {
		return Account{}, nil, apperr.Conflict("user_access_off", "the user's access to service %q is off; switch it on first", service)
	}
	return a, &u, nil
}

func (m *Manager) newToken(a Account, service, userID, name string) (Token, string) {
	plain := secret.NewToken()
	return Token{
		AccountID: a.ID, ID: id.New(id.Token), Name: name, Service: service, UserID: userID,
		SecretHash: secret.Hash(plain), Hint: secret.Hint(plain), Enabled: true,
		CreatedAt: m.clock(), Settings: Settings{}, KeyGeneration: a.APIKey.Generation, Version: 1,
	}, plain
}

func (m *Manager) token(ctx context.Context, accountID, tokenID string) (Token, error) {
	if !id.Valid(id.Token, tokenID) {
		return Token{}, apperr.NotFound("token")
	}
	return m.store.GetToken(ctx, accountID, tokenID)
}

// Token returns one of the account's tokens.
func (m *Manager) Token(ctx context.Context, accountID, tokenID string) (TokenView, error) {
	t, err := m.token(ctx, accountID, tokenID)
	if err != nil {
		return TokenView{}, err
	}
	return m.view(ctx, t)
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
	if _, err := m.subscribedService(ctx, accountID, f.Service); err != nil {
		return paging.Page[TokenView]{}, err
	}
	f.Now = m.clock()
	p, err := m.store.ListTokens(ctx, accountID, f, page)
	if err != nil {
		return paging.Page[TokenView]{}, err
	}
	def, err := m.defaultTokenID(ctx, accountID, f.Service, f.Now)
	if err != nil {
		return paging.Page[TokenView]{}, err
	}
	out := paging.Page[TokenView]{Items: make([]TokenView, 0, len(p.Items)), NextCursor: p.NextCursor}
	for _, t := range p.Items {
		out.Items = append(out.Items, TokenView{Token: t, Status: t.Status(f.Now), IsDefault: t.ID == def})
	}
	return out, nil
}

// DefaultToken returns the service's default token: the earliest-created
// token that is active now.
func (m *Manager) DefaultToken(ctx context.Context, accountID, service string) (TokenView, error) {
	if _, err := m.subscribedService(ctx, accountID, service); err != nil {
		return TokenView{}, err
	}
	now := m.clock()
	t, err := m.store.EarliestActiveToken(ctx, accountID, TokenFilter{Service: service, Now: now})
	if errors.Is(err, apperr.ErrNotFound) {
		return TokenView{}, &apperr.Error{Kind: apperr.KindNotFound, Code: "default_token_not_found", Message: "the service has no active token"}
	}
	if err != nil {
		return TokenView{}, err
	}
	return TokenView{Token: t, Status: t.Status(now), IsDefault: true}, nil
}

func (m *Manager) defaultTokenID(ctx context.Context, accountID, service string, now time.Time) (string, error) {
	t, err := m.store.EarliestActiveToken(ctx, accountID, TokenFilter{Service: service, Now: now})
	if errors.Is(err, apperr.ErrNotFound) {
		return "", nil
	}
	return t.ID, err
}

func (m *Manager) view(ctx context.Context, t Token) (TokenView, error) {
	now := m.clock()
	def, err := m.defaultTokenID(ctx, t.AccountID, t.Service, now)
	if err != nil {
		return TokenView{}, err
	}
	return TokenView{Token: t, Status: t.Status(now), IsDefault: t.ID == def}, nil
}

// TokenChange is a partial update of a token; nil fields are kept.
type TokenChange struct {
	Name    *string
	Enabled *bool
}

// UpdateToken renames, disables or enables a token. Enabling a token
// disabled by a key replacement adopts it under the current key.
func (m *Manager) UpdateToken(ctx context.Context, accountID, tokenID string, c TokenChange) (TokenView, error) {
	var name string
	if c.Name != nil {
		var err error
		if name, err = ValidateName("name", *c.Name); err != nil {
			return TokenView{}, err
		}
	}
	return m.changeToken(ctx, accountID, tokenID, func(t *Token, a Account) {
		if c.Name != nil {
			t.Name = name
		}
		switch {
		case c.Enabled == nil:
		case *c.Enabled:
			t.Enabled, t.DisabledReason, t.KeyGeneration = true, "", a.APIKey.Generation
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
	if !id.Valid(id.Token, tokenID) {
		return TokenView{}, apperr.NotFound("token")
	}
	accountID, err := m.store.TokenAccount(ctx, tokenID)
	if err != nil {
		return TokenView{}, err
	}
	return m.changeToken(ctx, accountID, tokenID, func(t *Token, _ Account) { t.Settings = s })
}

func (m *Manager) changeToken(ctx context.Context, accountID, tokenID string, change func(*Token, Account)) (TokenView, error) {
	var out TokenView
	err := m.retry(ctx, func() error {
		t, err := m.token(ctx, accountID, tokenID)
		if err != nil {
			return err
		}
		a, err := m.store.GetAccount(ctx, accountID)
		if err != nil {
			return err
		}
		change(&t, a)
		t.Version++
		if err := m.store.SaveToken(ctx, t, a); err != nil {
			return fmt.Errorf("save token: %w", err)
		}
		out, err = m.view(ctx, t)
		return err
	})
	return out, err
}

// DeleteToken deletes a token; it stops authorising on the next request.
func (m *Manager) DeleteToken(ctx context.Context, accountID, tokenID string) error {
	if !id.Valid(id.Token, tokenID) {
		return apperr.NotFound("token")
	}
	// A transaction conflict with a concurrent write surfaces as ErrStale;
	// the delete itself is unconditional, so retrying it is safe.
	return m.retry(ctx, func() error {
		if err := m.store.DeleteToken(ctx, accountID, tokenID); err != nil {
			return fmt.Errorf("delete token: %w", err)
		}
		return nil
	})
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

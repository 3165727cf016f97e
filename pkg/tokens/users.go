package tokens

import (
	"context"
	"fmt"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/audit"
	"github.com/acmedata/tokenservice/pkg/id"
	"github.com/acmedata/tokenservice/pkg/paging"
	"github.com/acmedata/tokenservice/pkg/plans"
)

// CreateUser adds a user to the account. A new user's access to every
// service starts off. The email is unique in the account (Conflict).
func (m *Manager) CreateUser(ctx context.Context, accountID, email, name string) (User, error) {
	email, err := ValidateEmail(email)
	if err != nil {
		return User{}, err
	}
	if name, err = ValidateName("name", name); err != nil {
		return User{}, err
	}
	u := User{AccountID: accountID, ID: id.New(id.User), Email: email, Name: name, CreatedAt: m.clock(), Access: map[string]bool{}}
	e, err := m.entry(ctx, accountID, audit.UserCreate, audit.TargetUser, u.ID)
	if err != nil {
		return User{}, err
	}
	if err := m.store.CreateUser(ctx, u, e.Diff(nil, u.AuditFields())); err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

// User returns one of the account's users.
func (m *Manager) User(ctx context.Context, accountID, userID string) (User, error) {
	if !id.Valid(id.User, userID) {
		return User{}, apperr.NotFound("user")
	}
	return m.store.GetUser(ctx, accountID, userID)
}

// Users lists the account's users, oldest first.
func (m *Manager) Users(ctx context.Context, accountID string, page paging.Request) (paging.Page[User], error) {
	return m.users(ctx, accountID, UserFilter{}, page)
}

// UserFilter names a listing of an account's users: every user, or every
// user as one service's access list shows them (the same users; a cursor
// of one listing is refused by the other).
type UserFilter struct {
	Service string
}

func (m *Manager) users(ctx context.Context, accountID string, f UserFilter, page paging.Request) (paging.Page[User], error) {
	page, err := paging.Validate(page)
	if err != nil {
		return paging.Page[User]{}, err
	}
	return m.store.ListUsers(ctx, accountID, f, page)
}

// UserChange is a partial update of a user; nil fields are kept.
type UserChange struct {
	Email *string
	Name  *string
}

// UpdateUser changes a user's email or name.
func (m *Manager) UpdateUser(ctx context.Context, accountID, userID string, c UserChange) (User, error) {
	var email, name string
	var err error
	if c.Email != nil {
		if email, err = ValidateEmail(*c.Email); err != nil {
			return User{}, err
		}
	}
	if c.Name != nil {
		if name, err = ValidateName("name", *c.Name); err != nil {
			return User{}, err
		}
	}
	return m.changeUser(ctx, accountID, userID, audit.UserUpdate, func(u *User) {
		if c.Email != nil {
			u.Email = email
		}
		if c.Name != nil {
			u.Name = name
		}
	})
}

// DeleteUser deletes a user and all its tokens: they stop at once, and
// their items are removed in the background.
func (m *Manager) DeleteUser(ctx context.Context, accountID, userID string) error {
	if !id.Valid(id.User, userID) {
		return apperr.NotFound("user")
	}
	e, err := m.entry(ctx, accountID, audit.UserDelete, audit.TargetUser, userID)
	if err != nil {
		return err
	}
	if err := m.store.DeleteUser(ctx, accountID, userID, e); err != nil {
		return fmt.Errorf("delete user: %w", err)
	}
	return nil
}

// SetAccess switches a user's access to one of the account's services on
// or off: one write, which reaches every token of the user for that
// service within the revocation delay.
func (m *Manager) SetAccess(ctx context.Context, accountID, service, userID string, on bool) (User, error) {
	if _, _, err := m.subscribedService(ctx, accountID, service); err != nil {
		return User{}, err
	}
	return m.changeUser(ctx, accountID, userID, audit.AccessUpdate, func(u *User) {
		if on {
			u.Access[service] = true
		} else {
			delete(u.Access, service)
		}
	})
}

func (m *Manager) changeUser(ctx context.Context, accountID, userID string, action audit.Action, change func(*User)) (User, error) {
	if !id.Valid(id.User, userID) {
		return User{}, apperr.NotFound("user")
	}
	e, err := m.entry(ctx, accountID, action, audit.TargetUser, userID)
	if err != nil {
		return User{}, err
	}
	u, err := m.store.UpdateUser(ctx, accountID, userID, func(u *User) error {
		if u.Access == nil {
			u.Access = map[string]bool{}
		}
		change(u)
		return nil
	}, e)
	if err != nil {
		return User{}, fmt.Errorf("update user: %w", err)
	}
	return u, nil
}

// ServiceSummary is a subscribed service with its counts, its plan for
// the account (nil for none) and the plan's quota use (nil without a
// quota).
type ServiceSummary struct {
	Service
	ServiceStats
	Plan  *plans.Plan
	Quota *QuotaUse
}

// subscribedService returns the catalog entry of a service the account
// subscribes to; NotFound otherwise, as for anything not the caller's.
func (m *Manager) subscribedService(ctx context.Context, accountID, service string) (Service, Account, error) {
	a, err := m.store.GetAccount(ctx, accountID)
	if err != nil {
		return Service{}, Account{}, err
	}
	for _, s := range m.services {
		if s.ID == service && a.Subscribes(service) {
			return s, a, nil
		}
	}
	return Service{}, Account{}, apperr.NotFound("service")
}

// Services lists the account's subscribed services with their counts.
func (m *Manager) Services(ctx context.Context, accountID string) ([]ServiceSummary, error) {
	a, err := m.store.GetAccount(ctx, accountID)
	if err != nil {
		return nil, err
	}
	out := make([]ServiceSummary, 0, len(a.Services))
	for _, s := range m.services {
		if !a.Subscribes(s.ID) {
			continue
		}
		sum, err := m.summarise(ctx, a, s)
		if err != nil {
			return nil, err
		}
		out = append(out, sum)
	}
	return out, nil
}

// ServiceSummary returns one subscribed service with its counts.
func (m *Manager) ServiceSummary(ctx context.Context, accountID, service string) (ServiceSummary, error) {
	s, a, err := m.subscribedService(ctx, accountID, service)
	if err != nil {
		return ServiceSummary{}, err
	}
	return m.summarise(ctx, a, s)
}

// summarise reads a service's counts, and its plan and quota use if the
// account has a plan for it: reads of one service, whatever it holds.
func (m *Manager) summarise(ctx context.Context, a Account, s Service) (ServiceSummary, error) {
	stats, err := m.store.ServiceStats(ctx, a.ID, s.ID)
	if err != nil {
		return ServiceSummary{}, fmt.Errorf("service stats: %w", err)
	}
	plan, err := m.plan(ctx, planCache{}, a.Plans[s.ID])
	if err != nil {
		return ServiceSummary{}, err
	}
	quota, err := m.quotaUse(ctx, plan, a.UsageKeys[s.ID])
	if err != nil {
		return ServiceSummary{}, err
	}
	return ServiceSummary{Service: s, ServiceStats: stats, Plan: plan, Quota: quota}, nil
}

// ServiceUsers lists the account's users for the per-service access toggle.
func (m *Manager) ServiceUsers(ctx context.Context, accountID, service string, page paging.Request) (paging.Page[User], error) {
	if _, _, err := m.subscribedService(ctx, accountID, service); err != nil {
		return paging.Page[User]{}, err
	}
	return m.users(ctx, accountID, UserFilter{Service: service}, page)
}

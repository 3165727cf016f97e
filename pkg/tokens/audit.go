package tokens

import (
	"context"
	"fmt"
	"time"

	"github.com/acmedata/tokenservice/pkg/apperr"
	"github.com/acmedata/tokenservice/pkg/audit"
	"github.com/acmedata/tokenservice/pkg/id"
	"github.com/acmedata/tokenservice/pkg/paging"
)

// Every write of the Manager hands its store one audit.Entry, which the
// store commits in the same transaction as the change (see Store). The
// Manager makes the entry (who, from where, what, on which target); the
// store, which alone knows the record as the committing attempt read it,
// fills in the changes with Entry.Diff of the AuditFields below. Nothing
// secret is among them: no secret, no hash, only IDs and hints.

// AuditFields are the account's recorded fields. A key replacement moves
// the key's ID and hint, never the key.
func (a Account) AuditFields() audit.Fields {
	return audit.Fields{
		"name": a.Name, "status": string(a.Status), "services": nonEmpty(a.Services),
		"apiKeyId": a.APIKey.ID, "apiKeyHint": a.APIKey.Hint,
	}
}

// AuditFields are the user's recorded fields; access is per service.
func (u User) AuditFields() audit.Fields {
	access := map[string]bool{}
	for svc, on := range u.Access {
		access[svc] = on
	}
	return audit.Fields{"email": u.Email, "name": u.Name, "access": access}
}

// AuditFields are the token's recorded fields (its hint, never its secret
// nor the secret's hash).
func (t Token) AuditFields() audit.Fields {
	r := t.Restrictions.Restrictions()
	f := audit.Fields{
		"name": t.Name, "service": t.Service, "type": string(t.Type()), "hint": t.Hint,
		"enabled": t.Enabled, "keyGeneration": float64(t.KeyGeneration), "protected": t.Protected,
		"settings": map[string]any(t.Settings.Clone()),
		"origins":  nonEmpty(r.Origins), "ipRanges": nonEmpty(r.IPRanges),
		"userId": optional(t.UserID), "disabledReason": optional(string(t.DisabledReason)),
		"clonedFrom": optional(t.ClonedFrom), "expiresAt": nil, "plan": optional(t.PlanID),
	}
	if t.ExpiresAt != nil {
		f["expiresAt"] = t.ExpiresAt.UTC().Format(time.RFC3339Nano)
	}
	return f
}

// nonEmpty is l, or nil (not there) when empty, so that "no list" and "an
// empty list" are one value.
func nonEmpty(l []string) any {
	if len(l) == 0 {
		return nil
	}
	return append([]string(nil), l...)
}

func optional(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// entry makes the audit entry of a change of accountID: the caller and its
// origin come from the context (audit.WithRequest); a write without them
// is refused, so no change commits unattributed.
func (m *Manager) entry(ctx context.Context, accountID string, action audit.Action, target audit.TargetType, targetID string) (audit.Entry, error) {
	r, err := audit.RequestFrom(ctx)
	if err != nil {
		return audit.Entry{}, err
	}
	return audit.Entry{
		AccountID: accountID, ID: audit.NewID(), Time: m.clock(), Actor: r.Actor, SourceIP: r.SourceIP, UserAgent: r.UserAgent,
		Action: action, TargetType: target, TargetID: targetID,
	}, nil
}

// AuditLog lists the account's audit entries, newest first, narrowed by f.
// It answers NotFound for an account that does not exist (an operator's
// typo), and never another account's entries: the store keys the listing
// by accountID alone.
func (m *Manager) AuditLog(ctx context.Context, accountID string, f audit.Filter, page paging.Request) (paging.Page[audit.Entry], error) {
	page, err := paging.Validate(page)
	if err != nil {
		return paging.Page[audit.Entry]{}, err
	}
	if err := f.Validate(); err != nil {
		return paging.Page[audit.Entry]{}, err
	}
	if !id.Valid(id.Account, accountID) {
		return paging.Page[audit.Entry]{}, apperr.NotFound("account")
	}
	if _, err := m.store.GetAccount(ctx, accountID); err != nil {
		return paging.Page[audit.Entry]{}, err
	}
	p, err := m.store.ListAudit(ctx, accountID, f, page)
	if err != nil {
		return paging.Page[audit.Entry]{}, fmt.Errorf("list audit: %w", err)
	}
	return p, nil
}

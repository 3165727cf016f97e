package dynamostore

import (
	"context"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acmedata/tokenservice/pkg/audit"
	"github.com/acmedata/tokenservice/pkg/paging"
)

// The audit log lives in a partition of its own per account,
// AUDIT#<accountId>, sorted by time then entry ID, so that a listing
// newest first within a time range is one key range; the auditByTarget
// index partitions the same entries by account and target
// (docs/data-model.md, "Audit log").
const (
	attrAuditTargetPK = "auditTargetPk"
	prefixAudit       = "AUDIT#"
)

func auditPK(accountID string) string { return prefixAudit + accountID }
func auditTargetPK(accountID, targetID string) string {
	return prefixAudit + accountID + "#" + targetID
}

type auditItem struct {
	PK             string `dynamodbav:"pk"`
	SK             string `dynamodbav:"sk"`
	TargetPK       string `dynamodbav:"auditTargetPk"`
	AccountID      string `dynamodbav:"accountId"`
	ID             string `dynamodbav:"id"`
	Time           string `dynamodbav:"time"`
	ActorType      string `dynamodbav:"actorType"`
	ActorKeyID     string `dynamodbav:"actorKeyId,omitempty"`
	ActorPrincipal string `dynamodbav:"actorPrincipal,omitempty"`
	SourceIP       string `dynamodbav:"sourceIp"`
	UserAgent      string `dynamodbav:"userAgent"`
	Action         string `dynamodbav:"action"`
	TargetType     string `dynamodbav:"targetType"`
	TargetID       string `dynamodbav:"targetId"`
	Changes        string `dynamodbav:"changes"` // audit.EncodeChanges
	// ReportSource and ReportURL are a token.expose entry's leak report
	// (audit.Report); absent on every other entry.
	ReportSource *string `dynamodbav:"reportSource,omitempty"`
	ReportURL    *string `dynamodbav:"reportUrl,omitempty"`
	// TTL is the epoch second native TTL deletes the entry at.
	TTL int64 `dynamodbav:"ttl"`
}

// audit adds to the transaction the entry of the change it makes to
// accountID, after checking it is a whole entry of that account.
func (t *txn) audit(accountID string, e audit.Entry) {
	if err := e.Check(accountID); err != nil {
		t.err = err
		return
	}
	changes, err := audit.EncodeChanges(e.Changes)
	if err != nil {
		t.err = err
		return
	}
	sk := prefixAudit + formatTime(e.Time) + "#" + e.ID
	it := auditItem{
		PK: auditPK(accountID), SK: sk, TargetPK: auditTargetPK(accountID, e.TargetID),
		AccountID: accountID, ID: e.ID, Time: formatTime(e.Time),
		ActorType: string(e.Actor.Type), ActorKeyID: e.Actor.KeyID, ActorPrincipal: e.Actor.Principal,
		SourceIP: e.SourceIP, UserAgent: e.UserAgent, Action: string(e.Action),
		TargetType: string(e.TargetType), TargetID: e.TargetID, Changes: changes, TTL: e.ExpiresAt().Unix(),
	}
	if e.Report != nil {
		it.ReportSource, it.ReportURL = &e.Report.Source, &e.Report.URL
	}
	t.put(it, notExists, nil)
}

func (it auditItem) entry() (audit.Entry, error) {
	at, err := parseTime(it.Time)
	if err != nil {
		return audit.Entry{}, err
	}
	changes, err := audit.DecodeChanges(it.Changes)
	e := audit.Entry{
		AccountID: it.AccountID, ID: it.ID, Time: at,
		Actor:    audit.Actor{Type: audit.ActorType(it.ActorType), KeyID: it.ActorKeyID, Principal: it.ActorPrincipal},
		SourceIP: it.SourceIP, UserAgent: it.UserAgent, Action: audit.Action(it.Action),
		TargetType: audit.TargetType(it.TargetType), TargetID: it.TargetID, Changes: changes,
	}
	if it.ReportSource != nil || it.ReportURL != nil {
		e.Report = &audit.Report{Source: deref(it.ReportSource), URL: deref(it.ReportURL)}
	}
	return e, err
}

// ListAudit implements tokens.AuditStore: a Query of the account's audit
// partition (or, with a target, of its partition in auditByTarget) within
// the time range as a key condition, newest first; an action is a
// FilterExpression, whose cost is the entries of other actions it reads
// in the range (docs/data-model.md).
func (s *Store) ListAudit(ctx context.Context, accountID string, f audit.Filter, page paging.Request) (paging.Page[audit.Entry], error) {
	lower, upper := prefixAudit, prefixAudit+"~" // '~' sorts after every digit
	if !f.From.IsZero() {
		lower = prefixAudit + formatTime(f.From)
	}
	if !f.To.IsZero() {
		upper = prefixAudit + formatTime(f.To) + "#~" // entries at To itself are in
	}
	l := listing{
		sortAttr: attrSK, prefix: prefixAudit, partAttr: attrPK, partValue: auditPK(accountID), lower: lower, upper: upper,
		filters: []string{"audit", string(f.Action), f.TargetID, formatOptTime(nonZero(f.From)), formatOptTime(nonZero(f.To))},
	}
	l.startKey = func(sk string) map[string]types.AttributeValue { return itemKey(auditPK(accountID), sk) }
	if f.TargetID != "" {
		l.index, l.global, l.partAttr, l.partValue = indexAudit, true, attrAuditTargetPK, auditTargetPK(accountID, f.TargetID)
		l.startKey = func(sk string) map[string]types.AttributeValue {
			key := itemKey(auditPK(accountID), sk)
			key[attrAuditTargetPK] = str(auditTargetPK(accountID, f.TargetID))
			return key
		}
	}
	var filters []string
	var values map[string]types.AttributeValue
	if f.Action != "" {
		filters, values = append(filters, "#action = :action"), map[string]types.AttributeValue{":action": str(string(f.Action))}
	}
	return list(ctx, s, accountID, l, page, strings.Join(filters, " AND "), values,
		func(it auditItem) (audit.Entry, bool, error) {
			e, err := it.entry()
			return e, true, err
		})
}

func nonZero(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

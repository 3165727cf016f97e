package httpapi

import (
	"github.com/aws/aws-lambda-go/events"

	"github.com/acmedata/tokenservice/pkg/audit"
	"github.com/acmedata/tokenservice/pkg/paging"
)

// AuditEntryView is an audit entry as both audit routes answer it.
type AuditEntryView struct {
	ID         string                     `json:"id"`
	Time       string                     `json:"time"`
	Actor      AuditActorView             `json:"actor"`
	SourceIP   string                     `json:"sourceIp"`
	UserAgent  string                     `json:"userAgent"`
	Action     string                     `json:"action"`
	TargetType string                     `json:"targetType"`
	TargetID   string                     `json:"targetId"`
	Changes    map[string]AuditChangeView `json:"changes"`
	// Report is where a token.expose entry's leak report found the
	// token; absent on every other entry.
	Report *AuditReportView `json:"report,omitempty"`
}

// AuditReportView is a leak report's source and URL.
type AuditReportView struct {
	Source string `json:"source"`
	URL    string `json:"url"`
}

// AuditActorView is who made a change: {"type":"apiKey","keyId":...} or
// {"type":"operator","principal":...}.
type AuditActorView struct {
	Type      string `json:"type"`
	KeyID     string `json:"keyId,omitempty"`
	Principal string `json:"principal,omitempty"`
}

// AuditChangeView is one field's value before and after (null: not there).
type AuditChangeView struct {
	Before any `json:"before"`
	After  any `json:"after"`
}

// AuditEntry renders an entry.
func AuditEntry(e audit.Entry) AuditEntryView {
	changes := make(map[string]AuditChangeView, len(e.Changes))
	for k, c := range e.Changes {
		changes[k] = AuditChangeView(c)
	}
	v := AuditEntryView{
		ID: e.ID, Time: Time(e.Time),
		Actor:    AuditActorView{Type: string(e.Actor.Type), KeyID: e.Actor.KeyID, Principal: e.Actor.Principal},
		SourceIP: e.SourceIP, UserAgent: e.UserAgent, Action: string(e.Action),
		TargetType: string(e.TargetType), TargetID: e.TargetID, Changes: changes,
	}
	if e.Report != nil {
		v.Report = &AuditReportView{Source: e.Report.Source, URL: e.Report.URL}
	}
	return v
}

// AuditList renders a page of entries.
func AuditList(p paging.Page[audit.Entry]) List[AuditEntryView] { return ListOf(p, AuditEntry) }

// AuditQuery reads the audit routes' query: the filter (action, targetId,
// from, to, in this order) and the page. The domain validates the values.
func AuditQuery(req events.APIGatewayProxyRequest) (audit.Filter, paging.Request, error) {
	var f audit.Filter
	var action, from, to string
	if err := Queries(req, Q("action", &action), Q("targetId", &f.TargetID), Q("from", &from), Q("to", &to)); err != nil {
		return f, paging.Request{}, err
	}
	var err error
	if f.Action, err = audit.ParseAction(action); err != nil {
		return f, paging.Request{}, err
	}
	if f.From, err = QueryTime("from", from); err != nil {
		return f, paging.Request{}, err
	}
	if f.To, err = QueryTime("to", to); err != nil {
		return f, paging.Request{}, err
	}
	page, err := Page(req)
	return f, page, err
}

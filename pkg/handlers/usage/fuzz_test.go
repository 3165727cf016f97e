package usage

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/acmedata/tokenservice/pkg/id"
	"github.com/acmedata/tokenservice/pkg/paging"
	"github.com/acmedata/tokenservice/pkg/routes"
	"github.com/acmedata/tokenservice/pkg/testkit/handlertest"
	"github.com/acmedata/tokenservice/pkg/usage"
)

// echoHistory answers every query with one record made of its filter, so
// the views and the CSV render whatever a caller can put in one, and
// fails the query if the handler passed a filter the store must not see.
type echoHistory struct{ t testing.TB }

func (h echoHistory) Records(_ context.Context, accountID string, f usage.Filter, page paging.Request) (paging.Page[usage.Record], error) {
	if err := f.Validate(); err != nil || accountID == "" || page.Limit < 0 || page.Limit > paging.MaxLimit {
		h.t.Fatalf("the store got filter %+v, page %+v, account %q", f, page, accountID)
	}
	r := usage.Record{Time: time.Now(), RequestID: "req", AccountID: accountID, TokenID: f.TokenID, UserID: f.UserID, Service: f.Service, Method: "GET", Path: "/data/" + f.Service, Status: 200}
	return paging.Page[usage.Record]{Items: []usage.Record{r}, NextCursor: page.Cursor}, nil
}

func (h echoHistory) Summary(_ context.Context, accountID string, q usage.SummaryQuery) (usage.Summary, error) {
	if err := q.Validate(); err != nil || accountID == "" {
		h.t.Fatalf("the store got summary query %+v: %v", q, err)
	}
	return usage.Summary{}, nil
}

// FuzzUsageRoutes: no query string (filters, times, format, grouping,
// paging) makes a usage route answer a 5xx or an error, and the store
// never sees a filter it would refuse.
//
//fuzz:budget 15000x
func FuzzUsageRoutes(f *testing.F) {
	f.Add(uint8(0), "", "service=tmy&tokenId=tok_1&from=2025-01-01T00:00:00Z&to=2024-01-01T00:00:00Z&format=csv", "")
	f.Add(uint8(0), "", "status=4xx&format=csv&limit=1", "")
	f.Add(uint8(1), "", "groupBy=token&interval=day&from=2025-01-01T00:00:00Z", "")
	f.Add(uint8(1), "", "groupBy=user&tokenId="+strings.Repeat("t", 1000), "")
	f.Add(uint8(1), "", "userId=usr_a%23b&service="+strings.Repeat("s", 65), "")
	f.Add(uint8(0), "", "tokenId="+strings.Repeat("t", 129)+"&sort=time", "")
	handlertest.FuzzRoutes(f, routes.Usage, func(t testing.TB) handlertest.Fixture {
		h, err := New(echoHistory{t}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return handlertest.Fixture{Serve: h.Serve, Vars: map[string]string{"accountId": id.New(id.Account)}}
	})
}

package stack

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	usagehandler "github.com/acmedata/tokenservice/pkg/handlers/usage"
	"github.com/acmedata/tokenservice/pkg/schema"
	"github.com/acmedata/tokenservice/pkg/usage"
	"github.com/acmedata/tokenservice/pkg/usagestore"
)

// TestUsageShowsOnlyTheLastSevenDaysOfTheCallersOwnAccount puts records
// straight into the usage table, as the recorder would have written them,
// and reads them back through GET /admin/usage: a record past the 7-day
// window stays hidden although TTL has not deleted it yet, and no filter
// lets another account see any of them.
func TestUsageShowsOnlyTheLastSevenDaysOfTheCallersOwnAccount(t *testing.T) {
	a := newAPI(t)
	acc := a.createAccount(t, "tmy")
	other := a.createAccount(t, "tmy")
	tok := a.issue(t, acc, "tmy", nil)
	user := a.createUser(t, acc, "ann@example.com")

	now := time.Now()
	fresh := a.putUsage(t, usage.Record{Time: now.Add(-(usage.Retention - time.Hour)), RequestID: "req-fresh", AccountID: acc.ID, TokenID: tok.ID, UserID: user.ID, Service: "tmy"})
	// Past the window by an hour, its TTL attribute still ahead: the item
	// sits in the table exactly as it would between expiry and the sweep.
	stale := a.putUsage(t, usage.Record{Time: now.Add(-(usage.Retention + time.Hour)), RequestID: "req-stale", AccountID: acc.ID, TokenID: tok.ID, UserID: user.ID, Service: "tmy"},
		func(item map[string]types.AttributeValue) {
			item["expiresAt"] = &types.AttributeValueMemberN{Value: strconv.FormatInt(now.Add(time.Hour).Unix(), 10)}
		})

	filters := []string{
		"",
		"?tokenId=" + tok.ID,
		"?userId=" + user.ID,
		"?service=tmy",
		"?from=" + now.Add(-30*24*time.Hour).UTC().Format(time.RFC3339),
	}
	for _, q := range filters {
		t.Run("own"+q, func(t *testing.T) {
			page := want[usagePage](t, a.call(t, "GET", "/admin/usage"+q, acc.Key, nil), http.StatusOK)
			if got := requestIDsOf(page.Items); got != fmt.Sprint([]string{fresh}) {
				t.Errorf("records %s, want only %s", got, fresh)
			}
		})
		t.Run("other account"+q, func(t *testing.T) {
			page := want[usagePage](t, a.call(t, "GET", "/admin/usage"+q, other.Key, nil), http.StatusOK)
			if len(page.Items) != 0 {
				t.Errorf("another account sees %s", requestIDsOf(page.Items))
			}
		})
	}

	// The stale record must still be there, or the test proved nothing.
	key, err := usagestore.Item(usage.Record{Time: now.Add(-(usage.Retention + time.Hour)), RequestID: stale, AccountID: acc.ID})
	if err != nil {
		t.Fatal(err)
	}
	out, err := a.client.GetItem(t.Context(), &dynamodb.GetItemInput{
		TableName:      aws.String(a.tables[schema.Usage.ID]),
		Key:            map[string]types.AttributeValue{"pk": key["pk"], "sk": key["sk"]},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.Item == nil {
		t.Fatal("the stale record is gone from the table: the window was not tested")
	}
}

// putUsage writes r to the usage table as the recorder would, after edit
// (if any) has changed the item, and returns its request ID.
func (a *api) putUsage(t *testing.T, r usage.Record, edit ...func(map[string]types.AttributeValue)) string {
	t.Helper()
	r.Method, r.Path, r.Status, r.LatencyMs, r.SourceIP = "GET", "/data/{service}/{proxy+}", 200, 5, "203.0.113.7"
	item, err := usagestore.Item(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range edit {
		e(item)
	}
	if _, err := a.client.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(a.tables[schema.Usage.ID]), Item: item}); err != nil {
		t.Fatal(err)
	}
	return r.RequestID
}

func requestIDsOf(recs []usagehandler.RecordView) string {
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.RequestID
	}
	return fmt.Sprint(ids)
}

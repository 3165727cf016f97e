package usagebench

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acmedata/tokenservice/pkg/accesslog"
	"github.com/acmedata/tokenservice/pkg/id"
	"github.com/acmedata/tokenservice/pkg/local/cwlogs"
	"github.com/acmedata/tokenservice/pkg/schema"
	"github.com/acmedata/tokenservice/pkg/tokens"
	"github.com/acmedata/tokenservice/pkg/usage/recorder"
	"github.com/acmedata/tokenservice/pkg/usagestore"
)

// meteredAPI is the store's DynamoDB client asking every write for its
// consumed capacity, table and indexes (ReturnConsumedCapacity INDEXES),
// and adding it up: what DynamoDB Local reports is what AWS would bill.
type meteredAPI struct {
	usagestore.API
	mu         sync.Mutex
	wcu        float64
	byKey      map[string]float64 // table or index name -> write units
	writeCalls int
	// partitions estimates the write units each partition key took, from
	// the items written and DynamoDB's item-size rules: how hot a key
	// gets, which ConsumedCapacity (per table and index) cannot tell.
	partitions map[string]float64
}

// itemSize is DynamoDB's size of an item: names plus values.
func itemSize(item map[string]types.AttributeValue) int {
	n := 0
	for name, v := range item {
		n += len(name)
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			n += len(v.Value)
		case *types.AttributeValueMemberN:
			n += len(v.Value)/2 + 1
		case *types.AttributeValueMemberB:
			n += len(v.Value)
		default:
			n += 8
		}
	}
	return n
}

func units(size int) float64 { return float64((size + 1023) / 1024) }

// notePut charges an item's write to its table partition and to the
// partition of every index whose key it holds (indexes project all).
func (m *meteredAPI) notePut(item map[string]types.AttributeValue, factor float64) {
	wcu := units(itemSize(item)) * factor
	if pk, ok := item["pk"].(*types.AttributeValueMemberS); ok {
		m.partitions["table "+pk.Value] += wcu
	}
	for _, ix := range schema.Usage.GlobalIndexes {
		if v, ok := item[ix.PartitionKey].(*types.AttributeValueMemberS); ok {
			m.partitions[ix.Name+" "+v.Value] += wcu
		}
	}
}

func (m *meteredAPI) add(cc []types.ConsumedCapacity) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range cc {
		m.wcu += aws.ToFloat64(c.CapacityUnits)
		if c.Table != nil {
			m.byKey["table"] += aws.ToFloat64(c.Table.CapacityUnits)
		}
		for name, ix := range c.GlobalSecondaryIndexes {
			m.byKey[name] += aws.ToFloat64(ix.CapacityUnits)
		}
	}
	m.writeCalls++
}

func (m *meteredAPI) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityIndexes
	out, err := m.API.BatchWriteItem(ctx, in, opts...)
	if err == nil {
		m.add(out.ConsumedCapacity)
		m.mu.Lock()
		for _, reqs := range in.RequestItems {
			for _, r := range reqs {
				if r.PutRequest != nil {
					m.notePut(r.PutRequest.Item, 1)
				}
			}
		}
		m.mu.Unlock()
	}
	return out, err
}

func (m *meteredAPI) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityIndexes
	out, err := m.API.TransactWriteItems(ctx, in, opts...)
	if err == nil {
		m.add(out.ConsumedCapacity)
		m.mu.Lock()
		// A transactional write costs twice a plain one.
		for _, it := range in.TransactItems {
			switch {
			case it.Put != nil:
				m.notePut(it.Put.Item, 2)
			case it.Update != nil:
				m.notePut(it.Update.Key, 2)
			}
		}
		m.mu.Unlock()
	}
	return out, err
}

// Mix is a realistic day's deliveries: two accounts, each with user tokens
// (several per user) and userless tokens of a skewed popularity, two
// services, and calls served (85%), refused with 403 (10%: another
// service) and with 401 (5%: a disabled token, from the authorizer's
// decision line), delivered in batches of up to 1,000 lines as CloudWatch
// Logs and the local twin deliver them.
func Mix(deliveries, perDelivery int, seed uint64) ([]events.CloudwatchLogsEvent, int, error) {
	rng := rand.New(rand.NewPCG(seed, seed))
	type token struct{ account, id, user, service string }
	var toks []token
	for range 2 {
		acc := id.New(id.Account)
		users := []string{id.New(id.User), id.New(id.User), id.New(id.User), id.New(id.User)}
		for i := range 12 {
			t := token{account: acc, id: id.New(id.Token), service: []string{"tmy", "timeseries"}[i%2]}
			if i < 8 {
				t.user = users[i%len(users)]
			}
			toks = append(toks, t)
		}
	}
	// Zipf-like popularity: token i is drawn with weight 1/(i+1).
	weights := make([]float64, len(toks))
	var total float64
	for i := range toks {
		weights[i] = 1 / float64(i+1)
		total += weights[i]
	}
	pick := func() token {
		x := rng.Float64() * total
		for i, w := range weights {
			if x < w {
				return toks[i]
			}
			x -= w
		}
		return toks[len(toks)-1]
	}
	now := time.Now().Add(-time.Hour)
	var evs []events.CloudwatchLogsEvent
	calls := 0
	for d := range deliveries {
		lines := make([]cwlogs.Line, 0, perDelivery)
		for i := range perDelivery {
			t := pick()
			at := now.Add(time.Duration(d*perDelivery+i) * time.Millisecond)
			e := accesslog.Entry{
				RequestID: id.New("req_"), RequestTimeEpoch: at.UnixMilli(), HTTPMethod: "GET",
				ResourcePath: "/data/{service}/{proxy+}", Path: "/data/" + t.service + "/hourly", Query: "from=2025-03-01&to=2025-03-02",
				Status: 200, ResponseLatency: int64(20 + rng.IntN(40)), SourceIP: "203.0.113.1",
				AccountID: t.account, TokenID: t.id, UserID: t.user, TokenType: map[bool]string{true: "user", false: "userless"}[t.user != ""],
				Service: t.service, Outcome: "valid",
			}
			var msg []byte
			switch r := rng.IntN(100); {
			case r < 10:
				e.Status, e.Service, e.Outcome, e.ErrorType = 403, "other", tokens.WrongService.Code(), "ACCESS_DENIED"
				msg = e.Line()
			case r < 15:
				var buf bytes.Buffer
				accesslog.DecisionLine{
					RequestID: e.RequestID, Decision: accesslog.DecisionUnauthorized, Status: 401, Outcome: tokens.Disabled.Code(),
					AccountID: e.AccountID, TokenID: e.TokenID, TokenType: e.TokenType, UserID: e.UserID, Service: e.Service,
					HTTPMethod: "GET", Resource: e.ResourcePath, Path: e.Path, Query: e.Query, SourceIP: e.SourceIP, LatencyUs: 900,
				}.Log(context.Background(), slog.New(slog.NewJSONHandler(&buf, nil)))
				msg = bytes.TrimSpace(buf.Bytes())
			default:
				msg = e.Line()
			}
			lines = append(lines, cwlogs.Line{Timestamp: at, Message: msg})
			calls++
		}
		ev, err := cwlogs.Event(cwlogs.Batch{LogGroup: "bench", LogStream: "bench", Lines: lines})
		if err != nil {
			return nil, 0, err
		}
		evs = append(evs, ev)
	}
	return evs, calls, nil
}

// WriteCost is what recording a mix cost in DynamoDB write units.
type WriteCost struct {
	Calls int
	WCU   float64
	ByKey map[string]float64
	// Recorder is the recorder's wall time for the whole mix.
	Recorder time.Duration
	// HottestPartition and HottestWCU name the partition key (table or
	// index) that took the most write units, and how many.
	HottestPartition string
	HottestWCU       float64
}

// PerCall is the write units of one recorded call, on average.
func (w WriteCost) PerCall() float64 { return w.WCU / float64(w.Calls) }

// MeasureWriteCost records the mix into table through the recorder and
// adds up the write units DynamoDB reports for it.
func MeasureWriteCost(ctx context.Context, client *dynamodb.Client, table string, evs []events.CloudwatchLogsEvent, calls int) (WriteCost, error) {
	api := &meteredAPI{API: client, byKey: map[string]float64{}, partitions: map[string]float64{}}
	store, err := usagestore.New(api, table)
	if err != nil {
		return WriteCost{}, err
	}
	r, err := recorder.New(store, nopMarker{}, nil)
	if err != nil {
		return WriteCost{}, err
	}
	start := time.Now()
	recorded := 0
	for _, ev := range evs {
		s, err := r.Process(ctx, ev)
		if err != nil {
			return WriteCost{}, err
		}
		recorded += s.Recorded
	}
	if recorded != calls {
		return WriteCost{}, fmt.Errorf("usagebench: %d of %d calls recorded", recorded, calls)
	}
	w := WriteCost{Calls: calls, WCU: api.wcu, ByKey: api.byKey, Recorder: time.Since(start)}
	for k, v := range api.partitions {
		if v > w.HottestWCU {
			w.HottestPartition, w.HottestWCU = k, v
		}
	}
	return w, nil
}

// HotToken is one second of one userless token at rate calls/s on one
// service (a public web page's token), in deliveries of perDelivery lines.
func HotToken(rate, perDelivery int) ([]events.CloudwatchLogsEvent, int, error) {
	acc, tok := id.New(id.Account), id.New(id.Token)
	at := time.Now().Add(-time.Hour).Truncate(time.Second)
	var evs []events.CloudwatchLogsEvent
	for start := 0; start < rate; start += perDelivery {
		lines := make([]cwlogs.Line, 0, perDelivery)
		for i := start; i < min(start+perDelivery, rate); i++ {
			t := at.Add(time.Duration(i) * time.Second / time.Duration(rate))
			e := accesslog.Entry{
				RequestID: id.New("req_"), RequestTimeEpoch: t.UnixMilli(), HTTPMethod: "GET", ResourcePath: "/data/{service}/{proxy+}",
				Path: "/data/tmy/hourly", Status: 200, ResponseLatency: 20, SourceIP: "198.51.100.7",
				AccountID: acc, TokenID: tok, TokenType: "userless", Service: "tmy", Outcome: "valid",
			}
			lines = append(lines, cwlogs.Line{Timestamp: t, Message: e.Line()})
		}
		ev, err := cwlogs.Event(cwlogs.Batch{LogGroup: "bench", LogStream: "bench", Lines: lines})
		if err != nil {
			return nil, 0, err
		}
		evs = append(evs, ev)
	}
	return evs, rate, nil
}

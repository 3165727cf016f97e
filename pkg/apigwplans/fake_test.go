package apigwplans

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"

	"github.com/acmedata/tokenservice/pkg/config"
)

// fakeGateway speaks API Gateway's REST control plane (the paths, JSON
// shapes and error headers the SDK reads) over the few resources the
// engine uses, in memory. No AWS account exists for the tests: this is
// the wire format as the SDK sends and reads it, with the rules the
// engine relies on (a key in one usage plan per stage, key values unique,
// a plan deleted only without stages, list pages).
type fakeGateway struct {
	t        *testing.T
	mu       sync.Mutex
	nextID   int
	plans    map[string]*fakePlan
	keys     map[string]*fakeKey
	usage    map[string]map[string]int64 // key ID -> day -> calls
	pageSize int                         // lists answer at most this many items
	throttle map[string]int              // "METHOD /path-pattern" -> how many more calls to refuse 429
	calls    map[string]int              // "METHOD /path-pattern" -> calls served
	usageIn  []url                       // GetUsage queries, in order
	endpoint string                      // where it listens
}

type url = map[string]string

type fakeStage struct {
	APIID string `json:"apiId"`
	Stage string `json:"stage"`
}

type fakeThrottle struct {
	BurstLimit int     `json:"burstLimit"`
	RateLimit  float64 `json:"rateLimit"`
}

type fakeQuota struct {
	Limit  int    `json:"limit"`
	Offset int    `json:"offset"`
	Period string `json:"period"`
}

type fakePlan struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	APIStages   []fakeStage       `json:"apiStages,omitempty"`
	Throttle    *fakeThrottle     `json:"throttle,omitempty"`
	Quota       *fakeQuota        `json:"quota,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`
	keys        []string
}

type fakeKey struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Value       string `json:"value,omitempty"`
	Enabled     bool   `json:"enabled"`
	Description string `json:"description,omitempty"`
}

type patchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value string `json:"value"`
}

// newFake starts a fake control plane and returns it with an engine of
// REST API "api1234567", stage "prod", over a real SDK client.
func newFake(t *testing.T) (*fakeGateway, *Engine) {
	t.Helper()
	f := &fakeGateway{t: t, plans: map[string]*fakePlan{}, keys: map[string]*fakeKey{}, usage: map[string]map[string]int64{},
		pageSize: 2, throttle: map[string]int{}, calls: map[string]int{}}
	srv := httptest.NewServer(f.handler())
	t.Cleanup(srv.Close)
	return f, f.engine(t, srv.URL)
}

// engine is a new engine (an empty memory: a new process) over the fake.
func (f *fakeGateway) engine(t *testing.T, endpoint string) *Engine {
	t.Helper()
	client := apigateway.New(apigateway.Options{
		Region:       "eu-west-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  aws.AnonymousCredentials{},
		// The deployment's retryer, with its backoff cut so a test
		// never sleeps.
		Retryer: retry.AddWithMaxBackoffDelay(config.APIGatewayRetryer(), time.Microsecond),
	})
	e, err := New(client, "api1234567", "prod")
	if err != nil {
		t.Fatal(err)
	}
	f.endpoint = endpoint
	return e
}

func (f *fakeGateway) fresh(t *testing.T) *Engine {
	t.Helper()
	return f.engine(t, f.endpoint)
}

func (f *fakeGateway) handler() http.Handler {
	mux := http.NewServeMux()
	route := func(pattern string, h func(w http.ResponseWriter, r *http.Request) (int, any)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			f.mu.Lock()
			defer f.mu.Unlock()
			if f.throttle[pattern] > 0 {
				f.throttle[pattern]--
				writeErr(w, http.StatusTooManyRequests, "TooManyRequestsException", "Too Many Requests")
				return
			}
			f.calls[pattern]++
			status, body := h(w, r)
			if e, ok := body.(fakeErr); ok {
				writeErr(w, status, e.code, e.message)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			if body != nil {
				_ = json.NewEncoder(w).Encode(body)
			}
		})
	}
	route("GET /usageplans", func(_ http.ResponseWriter, r *http.Request) (int, any) {
		var all []*fakePlan
		for _, p := range f.plans {
			all = append(all, p)
		}
		slices.SortFunc(all, func(a, b *fakePlan) int { return strings.Compare(a.ID, b.ID) })
		return page(f, r, all)
	})
	route("POST /usageplans", func(_ http.ResponseWriter, r *http.Request) (int, any) {
		var p fakePlan
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil || p.Name == "" {
			return 400, fakeErr{"BadRequestException", "Invalid usage plan"}
		}
		p.ID = f.id("up")
		f.plans[p.ID] = &p
		return 201, p
	})
	route("GET /usageplans/{id}", func(_ http.ResponseWriter, r *http.Request) (int, any) {
		p, ok := f.plans[r.PathValue("id")]
		if !ok {
			return 404, fakeErr{"NotFoundException", "Invalid Usage Plan ID specified"}
		}
		return 200, p
	})
	route("PATCH /usageplans/{id}", func(_ http.ResponseWriter, r *http.Request) (int, any) {
		p, ok := f.plans[r.PathValue("id")]
		if !ok {
			return 404, fakeErr{"NotFoundException", "Invalid Usage Plan ID specified"}
		}
		var in struct{ PatchOperations []patchOp }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			return 400, fakeErr{"BadRequestException", "Invalid patch"}
		}
		for _, op := range in.PatchOperations {
			if e := f.patchPlan(p, op); e != nil {
				return 400, *e
			}
		}
		return 200, p
	})
	route("DELETE /usageplans/{id}", func(_ http.ResponseWriter, r *http.Request) (int, any) {
		p, ok := f.plans[r.PathValue("id")]
		if !ok {
			return 404, fakeErr{"NotFoundException", "Invalid Usage Plan ID specified"}
		}
		if len(p.APIStages) > 0 {
			return 400, fakeErr{"BadRequestException", "Cannot delete Usage Plan with associated API stages"}
		}
		delete(f.plans, p.ID)
		return 202, nil
	})
	route("GET /apikeys", func(_ http.ResponseWriter, r *http.Request) (int, any) {
		var all []*fakeKey
		for _, k := range f.keys {
			if strings.HasPrefix(k.Name, r.URL.Query().Get("name")) {
				all = append(all, k)
			}
		}
		slices.SortFunc(all, func(a, b *fakeKey) int { return strings.Compare(a.ID, b.ID) })
		if r.URL.Query().Get("includeValues") != "true" {
			for i, k := range all {
				c := *k
				c.Value = ""
				all[i] = &c
			}
		}
		return page(f, r, all)
	})
	route("POST /apikeys", func(_ http.ResponseWriter, r *http.Request) (int, any) {
		var k fakeKey
		if err := json.NewDecoder(r.Body).Decode(&k); err != nil || len(k.Value) < 20 {
			return 400, fakeErr{"BadRequestException", "API Key value should be at least 20 characters"}
		}
		for _, other := range f.keys {
			if other.Value == k.Value {
				return 409, fakeErr{"ConflictException", "API Key already exists"}
			}
		}
		k.ID = f.id("key")
		f.keys[k.ID] = &k
		return 201, k
	})
	route("PATCH /apikeys/{id}", func(_ http.ResponseWriter, r *http.Request) (int, any) {
		k, ok := f.keys[r.PathValue("id")]
		if !ok {
			return 404, fakeErr{"NotFoundException", "Invalid API Key identifier specified"}
		}
		var in struct{ PatchOperations []patchOp }
		_ = json.NewDecoder(r.Body).Decode(&in)
		for _, op := range in.PatchOperations {
			if op.Op != "replace" || op.Path != "/enabled" {
				return 400, fakeErr{"BadRequestException", "Invalid patch path " + op.Path}
			}
			k.Enabled = op.Value == "true"
		}
		return 200, k
	})
	route("DELETE /apikeys/{id}", func(_ http.ResponseWriter, r *http.Request) (int, any) {
		id := r.PathValue("id")
		if _, ok := f.keys[id]; !ok {
			return 404, fakeErr{"NotFoundException", "Invalid API Key identifier specified"}
		}
		delete(f.keys, id)
		for _, p := range f.plans {
			p.keys = slices.DeleteFunc(p.keys, func(k string) bool { return k == id })
		}
		return 202, nil
	})
	route("GET /usageplans/{id}/keys", func(_ http.ResponseWriter, r *http.Request) (int, any) {
		p, ok := f.plans[r.PathValue("id")]
		if !ok {
			return 404, fakeErr{"NotFoundException", "Invalid Usage Plan ID specified"}
		}
		var all []map[string]string
		for _, id := range p.keys {
			all = append(all, map[string]string{"id": id, "type": "API_KEY", "name": f.keys[id].Name})
		}
		return page(f, r, all)
	})
	route("GET /usageplans/{id}/keys/{keyId}", func(_ http.ResponseWriter, r *http.Request) (int, any) {
		p, ok := f.plans[r.PathValue("id")]
		if !ok || !slices.Contains(p.keys, r.PathValue("keyId")) {
			return 404, fakeErr{"NotFoundException", "Invalid Usage Plan Key"}
		}
		return 200, map[string]string{"id": r.PathValue("keyId"), "type": "API_KEY"}
	})
	route("POST /usageplans/{id}/keys", func(_ http.ResponseWriter, r *http.Request) (int, any) {
		p, ok := f.plans[r.PathValue("id")]
		if !ok {
			return 404, fakeErr{"NotFoundException", "Invalid Usage Plan ID specified"}
		}
		var in struct{ KeyID, KeyType string }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.KeyType != "API_KEY" {
			return 400, fakeErr{"BadRequestException", "Invalid key type"}
		}
		if _, ok := f.keys[in.KeyID]; !ok {
			return 404, fakeErr{"NotFoundException", "Invalid API Key identifier specified"}
		}
		for _, other := range f.plans {
			if slices.Contains(other.keys, in.KeyID) && (other == p || sharesStage(other, p)) {
				return 409, fakeErr{"ConflictException", "API Key cannot reference multiple Usage Plans with the same API Stage"}
			}
		}
		p.keys = append(p.keys, in.KeyID)
		return 201, map[string]string{"id": in.KeyID, "type": "API_KEY"}
	})
	route("DELETE /usageplans/{id}/keys/{keyId}", func(_ http.ResponseWriter, r *http.Request) (int, any) {
		p, ok := f.plans[r.PathValue("id")]
		if !ok || !slices.Contains(p.keys, r.PathValue("keyId")) {
			return 404, fakeErr{"NotFoundException", "Invalid Usage Plan Key"}
		}
		p.keys = slices.DeleteFunc(p.keys, func(k string) bool { return k == r.PathValue("keyId") })
		return 202, nil
	})
	route("GET /usageplans/{id}/usage", func(_ http.ResponseWriter, r *http.Request) (int, any) {
		p, ok := f.plans[r.PathValue("id")]
		if !ok {
			return 404, fakeErr{"NotFoundException", "Invalid Usage Plan ID specified"}
		}
		q := r.URL.Query()
		f.usageIn = append(f.usageIn, url{"startDate": q.Get("startDate"), "endDate": q.Get("endDate"), "keyId": q.Get("keyId")})
		start, err1 := time.Parse(time.DateOnly, q.Get("startDate"))
		end, err2 := time.Parse(time.DateOnly, q.Get("endDate"))
		if err1 != nil || err2 != nil || end.Before(start) {
			return 400, fakeErr{"BadRequestException", "Invalid dates"}
		}
		values := map[string][][2]int64{}
		for _, id := range p.keys {
			if k := q.Get("keyId"); k != "" && k != id {
				continue
			}
			var days [][2]int64
			for d := start; !d.After(end); d = d.AddDate(0, 0, 1) {
				used := f.usage[id][d.Format(time.DateOnly)]
				left := int64(0)
				if p.Quota != nil {
					left = int64(p.Quota.Limit) - used
				}
				days = append(days, [2]int64{used, left})
			}
			values[id] = days
		}
		return 200, map[string]any{"usagePlanId": p.ID, "startDate": q.Get("startDate"), "endDate": q.Get("endDate"), "values": values}
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		f.t.Errorf("the fake has no route %s %s", r.Method, r.URL.Path)
		writeErr(w, 404, "NotFoundException", "no route")
	})
	return mux
}

func sharesStage(a, b *fakePlan) bool {
	for _, s := range a.APIStages {
		if slices.Contains(b.APIStages, s) {
			return true
		}
	}
	return false
}

// patchPlan applies one of the patch operations API Gateway takes on a
// usage plan.
func (f *fakeGateway) patchPlan(p *fakePlan, op patchOp) *fakeErr {
	bad := &fakeErr{"BadRequestException", fmt.Sprintf("Invalid patch operation %s %s", op.Op, op.Path)}
	switch {
	case op.Op == "replace" && op.Path == "/throttle/rateLimit":
		v, err := strconv.ParseFloat(op.Value, 64)
		if err != nil {
			return bad
		}
		if p.Throttle == nil {
			p.Throttle = &fakeThrottle{}
		}
		p.Throttle.RateLimit = v
	case op.Op == "replace" && op.Path == "/throttle/burstLimit":
		v, err := strconv.Atoi(op.Value)
		if err != nil {
			return bad
		}
		if p.Throttle == nil {
			p.Throttle = &fakeThrottle{}
		}
		p.Throttle.BurstLimit = v
	case op.Op == "replace" && strings.HasPrefix(op.Path, "/quota/"):
		if p.Quota == nil {
			p.Quota = &fakeQuota{}
		}
		switch op.Path {
		case "/quota/limit":
			v, err := strconv.Atoi(op.Value)
			if err != nil {
				return bad
			}
			p.Quota.Limit = v
		case "/quota/offset":
			v, err := strconv.Atoi(op.Value)
			if err != nil {
				return bad
			}
			p.Quota.Offset = v
		case "/quota/period":
			if !slices.Contains([]string{"DAY", "WEEK", "MONTH"}, op.Value) {
				return bad
			}
			p.Quota.Period = op.Value
		default:
			return bad
		}
	case op.Op == "remove" && op.Path == "/quota":
		if p.Quota == nil {
			return bad
		}
		p.Quota = nil
	case (op.Op == "add" || op.Op == "remove") && op.Path == "/apiStages":
		apiID, stage, ok := strings.Cut(op.Value, ":")
		if !ok {
			return bad
		}
		s := fakeStage{APIID: apiID, Stage: stage}
		has := slices.Contains(p.APIStages, s)
		if op.Op == "add" {
			if has {
				return &fakeErr{"ConflictException", "Stage already in the usage plan"}
			}
			p.APIStages = append(p.APIStages, s)
		} else {
			if !has {
				return &fakeErr{"BadRequestException", "Stage is not in the usage plan"}
			}
			p.APIStages = slices.DeleteFunc(p.APIStages, func(o fakeStage) bool { return o == s })
		}
	default:
		return bad
	}
	return nil
}

// page answers a list the way API Gateway does: {"item": [...]} and a
// position while more remain.
func page[T any](f *fakeGateway, r *http.Request, all []T) (int, any) {
	from := 0
	if pos := r.URL.Query().Get("position"); pos != "" {
		var err error
		if from, err = strconv.Atoi(pos); err != nil {
			return 400, fakeErr{"BadRequestException", "Invalid position"}
		}
	}
	n := f.pageSize
	if l, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && l < n {
		n = l
	}
	to := min(from+n, len(all))
	out := map[string]any{"item": all[min(from, len(all)):to]}
	if to < len(all) {
		out["position"] = strconv.Itoa(to)
	}
	return 200, out
}

type fakeErr struct{ code, message string }

func writeErr(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Errortype", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": message})
}

func (f *fakeGateway) id(prefix string) string {
	f.nextID++
	return fmt.Sprintf("%s%04d", prefix, f.nextID)
}

// snapshot reads the fake's state under its lock.
func (f *fakeGateway) snapshot(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn()
}

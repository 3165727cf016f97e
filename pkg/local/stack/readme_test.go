package stack

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/acmedata/tokenservice/pkg/local/gateway"
	"github.com/acmedata/tokenservice/pkg/testkit/dynamotest"
)

// walkthroughStep is one command of the README's curl walkthrough (the
// shell block under its heading that starts with BASE=), its continuation
// lines joined, with the comment of its paragraph and the one at its end.
type walkthroughStep struct {
	comment string
	command string
}

func readWalkthrough(t *testing.T) []walkthroughStep {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "## Walkthrough (curl)")
	if !ok {
		t.Fatal("README.md has no Walkthrough (curl) section")
	}
	var block string
	for _, part := range strings.Split(rest, "```sh\n")[1:] {
		body, _, _ := strings.Cut(part, "```")
		if strings.HasPrefix(body, "BASE=") {
			block = body
			break
		}
	}
	if block == "" {
		t.Fatal("the walkthrough has no block starting with BASE=")
	}
	var steps []walkthroughStep
	var comment []string
	sc := bufio.NewScanner(strings.NewReader(block))
	for sc.Scan() {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "":
			comment = nil
		case strings.HasPrefix(trimmed, "#"):
			comment = append(comment, strings.TrimSpace(strings.TrimPrefix(trimmed, "#")))
		default:
			cmd := line
			for strings.HasSuffix(cmd, "\\") && sc.Scan() {
				cmd += "\n" + sc.Text()
			}
			// A paragraph's comment speaks for each of its commands.
			said := comment
			if code, end, ok := strings.Cut(cmd, "  #"); ok && !strings.Contains(end, "'") {
				cmd = strings.TrimRight(code, " ")
				said = append(said[:len(said):len(said)], strings.TrimSpace(end))
			}
			steps = append(steps, walkthroughStep{comment: strings.Join(said, " "), command: cmd})
		}
	}
	return steps
}

// TestTheREADMEWalkthroughRunsVerbatim runs the README's walkthrough as a
// newcomer pastes it, block by block into one shell, against the stack
// as `make run` builds it (its revocation delay and usage delivery), from a
// directory laid out as the repository root is after `make run` (its
// .local/operator-key), on the port given by PORT. Each command's answer
// must be what its comment says.
func TestTheREADMEWalkthroughRunsVerbatim(t *testing.T) {
	for _, tool := range []string{"bash", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the walkthrough needs %s: %v", tool, err)
		}
	}
	steps := readWalkthrough(t)

	operatorKey := "opk_readme_walkthrough_key_0000000000"
	st, err := Build(t.Context(), Config{
		Client: dynamotest.Client(t), Tables: dynamotest.Tables(t), OperatorKey: operatorKey,
		SpoolDir: t.TempDir(), // the shipper's own delivery interval and the 1 s delay, as make run
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(st)
	srv.Config = gateway.NewServer(st)
	srv.Listener = gateway.Listener(srv.Listener)
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := st.Close(ctx); err != nil {
			t.Errorf("close stack: %v", err)
		}
	})
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, ".local"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, ".local", "operator-key"), []byte(operatorKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	// One shell for the whole walkthrough, as in a terminal; a marker
	// before each command tells its answer apart.
	var script strings.Builder
	for i, s := range steps {
		fmt.Fprintf(&script, "printf '\\n@@step %d@@\\n'\n%s\n", i, s.command)
	}
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	cmd := exec.CommandContext(t.Context(), "bash", "-c", script.String())
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "PORT="+port)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the walkthrough failed: %v\n%s", err, out)
	}
	answers := map[int]string{}
	for _, part := range strings.Split(string(out), "\n@@step ")[1:] {
		n, answer, _ := strings.Cut(part, "@@\n")
		var i int
		if _, err := fmt.Sscan(n, &i); err != nil {
			t.Fatalf("a marker without its number: %q", n)
		}
		answers[i] = answer
	}

	// What each command answers, as its comment says; commands that only
	// set a variable or wait answer nothing. Every command of the block
	// needs its entry here, so a change to the walkthrough changes this
	// test with it.
	w := &walk{t: t}
	checks := map[string]func(string) error{
		`BASE=http://127.0.0.1:${PORT:-8080}`:                   nothing,
		`OP="Authorization: Bearer $(cat .local/operator-key)"`: nothing,
		`curl -s $BASE/healthz`: func(a string) error {
			return equal(a, `{"status":"ok"}`)
		},
		`API_KEY=$(curl -s -X POST $BASE/operator/accounts -H "$OP" \`: nothing,
		`ADMIN="Authorization: Bearer $API_KEY"`:                       nothing,
		`curl -s $BASE/admin/account -H "$ADMIN"`: func(a string) error {
			return w.fields(a, map[string]any{"name": "Acme Analytics", "services": []any{"timeseries", "tmy"}, "status": "active"})
		},
		`USER_ID=$(curl -s -X POST $BASE/admin/users -H "$ADMIN" \`: nothing,
		`curl -s -X PUT $BASE/admin/services/tmy/users/$USER_ID -H "$ADMIN" -d '{"active":true}'`: func(a string) error {
			return w.fields(a, map[string]any{"email": "ada@example.com", "service": "tmy", "active": true})
		},
		`RESP=$(curl -s -X POST $BASE/admin/services/tmy/tokens -H "$ADMIN" \`: nothing,
		`echo "$RESP"`: func(a string) error {
			if err := w.fields(a, map[string]any{"name": "Ada's notebook", "service": "tmy", "type": "user", "status": "active"}); err != nil {
				return err
			}
			w.tokenID = w.field(a, "id")
			if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(w.field(a, "token")) {
				return fmt.Errorf("no token shown once")
			}
			return nil
		},
		`TOKEN=$(echo "$RESP" | grep -o '"token":"[0-9a-f]*"' | cut -d'"' -f4)`: nothing,
		`TOKEN_ID=$(echo "$RESP" | grep -o 'tok_[0-9a-z]*' | head -1)`:          nothing,
		`curl -s "$BASE/data/tmy/hourly?token=$TOKEN"`:                          w.rows(false),
		`curl -s "$BASE/feed/$TOKEN/tmy/hourly"`:                                w.rows(false),
		`curl -s $BASE/data/tmy/hourly -H "Authorization: Bearer $TOKEN"`:       w.rows(false),
		`curl -s "$BASE/data/timeseries/daily?token=$TOKEN"`: func(a string) error {
			return errorCode(a, "token_wrong_service") // 403
		},
		`curl -s -X PUT $BASE/operator/tokens/$TOKEN_ID/settings -H "$OP" -d '{"settings":{"publicOnly":true}}'`: func(a string) error {
			return w.fields(a, map[string]any{"settings": map[string]any{"publicOnly": true}})
		},
		`sleep 1`: nothing,
		`curl -s "$BASE/data/tmy/hourly?token=$TOKEN&includeRestricted=true"`:                                            w.rows(true),
		`CLONE=$(curl -s -X POST $BASE/admin/tokens/$TOKEN_ID/clone -H "$ADMIN" -d '{"revokeSourceAfterSeconds":3600}')`: nothing,
		`echo "$CLONE"`: func(a string) error {
			w.cloneID = w.field(a, "id")
			return w.fields(a, map[string]any{"clonedFrom": w.tokenID, "settings": map[string]any{"publicOnly": true}})
		},
		`CLONE_ID=$(echo "$CLONE" | grep -o '"id":"tok_[0-9a-z]*"' | cut -d'"' -f4)`: nothing,
		`curl -s $BASE/admin/tokens/$TOKEN_ID -H "$ADMIN"`: func(a string) error {
			expires, err := time.Parse(time.RFC3339, w.field(a, "expiresAt"))
			if err != nil || time.Until(expires) < 50*time.Minute || time.Until(expires) > time.Hour {
				return fmt.Errorf("the source's expiresAt is not an hour away")
			}
			return nil
		},
		`curl -s "$BASE/admin/services/tmy/tokens?limit=10" -H "$ADMIN"`: func(a string) error {
			return w.ids(a, w.cloneID, w.tokenID)
		},
		`curl -s -X PATCH $BASE/admin/tokens/$TOKEN_ID -H "$ADMIN" -d '{"enabled":false}'`: func(a string) error {
			return w.fields(a, map[string]any{"status": "disabled", "disabledReason": "disabled_by_admin"})
		},
		`sleep 3`: nothing,
		`curl -s "$BASE/admin/usage?tokenId=$TOKEN_ID" -H "$ADMIN"`: func(a string) error {
			// Every call made with the token, newest first: the 401 after
			// the disable, the settings' call, the 403, three served.
			return w.statuses(a, 401, 200, 403, 200, 200, 200)
		},
		`curl -s "$BASE/admin/audit?targetId=$TOKEN_ID" -H "$ADMIN"`: func(a string) error {
			return w.actions(a, "token.update", "settings.update", "token.create")
		},
		`curl -s "$BASE/admin/audit?targetId=$CLONE_ID" -H "$ADMIN"`: func(a string) error {
			if err := w.actions(a, "token.clone"); err != nil {
				return err
			}
			var page struct {
				Items []struct {
					Changes map[string]struct{ After any }
				}
			}
			_ = json.Unmarshal([]byte(a), &page)
			if c := page.Items[0].Changes; c["clonedFrom"].After != w.tokenID || c["revokeSourceAt"].After == nil {
				return fmt.Errorf("the clone's entry does not name its source and when the grace period ends it")
			}
			return nil
		},
		`ACCOUNT_ID=$(curl -s $BASE/admin/account -H "$ADMIN" | grep -o 'acc_[0-9a-z]*' | head -1)`: nothing,
		`PLAN_ID=$(curl -s -X POST $BASE/operator/plans -H "$OP" \`:                                 nothing,
		`curl -s -X PUT $BASE/operator/accounts/$ACCOUNT_ID/services/tmy/plan -H "$OP" -d "{\"planId\":\"$PLAN_ID\"}"`: func(a string) error {
			return w.plan(a, "Starter")
		},
		`curl -s $BASE/admin/services/tmy -H "$ADMIN"`: func(a string) error {
			if err := w.plan(a, "Starter"); err != nil {
				return err
			}
			var s struct{ Quota *struct{ Limit, Used int } }
			if json.Unmarshal([]byte(a), &s) != nil || s.Quota == nil || s.Quota.Limit != 1000 || s.Quota.Used != 0 {
				return fmt.Errorf("want the quota: 1,000 a day, none used")
			}
			return nil
		},
		`curl -s -X PUT $BASE/operator/tokens/$CLONE_ID/plan -H "$OP" -d "{\"planId\":\"$PLAN_ID\"}"`: func(a string) error {
			return w.plan(a, "Starter")
		},
		`curl -s -X DELETE $BASE/operator/plans/$PLAN_ID -H "$OP"`: func(a string) error {
			return errorCode(a, "plan_in_use") // 409
		},
	}
	seen := map[string]bool{}
	for i, s := range steps {
		first, _, _ := strings.Cut(s.command, "\n")
		check, ok := checks[first]
		if !ok {
			t.Errorf("step %d (%s): no check for what it answers; add one to this test", i, first)
			continue
		}
		// The same data call answers rows before the disable, 401 after.
		if first == `curl -s "$BASE/data/tmy/hourly?token=$TOKEN"` && seen[first] {
			check = func(a string) error { return errorCode(a, "unauthorized") } // 401
		}
		seen[first] = true
		if err := check(answers[i]); err != nil {
			t.Errorf("step %d: %s\n$ %s\nanswered: %s\nwhich is not what its comment says (%s): %v", i, first, s.command, answers[i], s.comment, err)
		}
	}
	for command := range checks {
		if !seen[command] {
			t.Errorf("the walkthrough no longer runs %s: drop its check", command)
		}
	}
}

// walk keeps what earlier answers showed, for later checks.
type walk struct {
	t                *testing.T
	tokenID, cloneID string
}

func nothing(a string) error {
	if a != "" {
		return fmt.Errorf("want no output")
	}
	return nil
}

func equal(a, want string) error {
	if a != want {
		return fmt.Errorf("want %s", want)
	}
	return nil
}

func errorCode(a, code string) error {
	var body struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal([]byte(a), &body); err != nil || body.Error.Code != code || body.Error.Message == "" {
		return fmt.Errorf("want the error body with the code %s", code)
	}
	return nil
}

// field reads one string field of a JSON object.
func (w *walk) field(a, name string) string {
	var m map[string]any
	_ = json.Unmarshal([]byte(a), &m)
	s, _ := m[name].(string)
	return s
}

// plan checks that a JSON object's plan is the one named name.
func (w *walk) plan(a, name string) error {
	var m struct{ Plan *struct{ Name string } }
	if json.Unmarshal([]byte(a), &m) != nil || m.Plan == nil || m.Plan.Name != name {
		return fmt.Errorf("want the plan %s", name)
	}
	return nil
}

// fields checks that a JSON object has these values (compared as JSON).
func (w *walk) fields(a string, want map[string]any) error {
	var m map[string]any
	if err := json.Unmarshal([]byte(a), &m); err != nil {
		return fmt.Errorf("not a JSON object: %w", err)
	}
	for k, v := range want {
		got, _ := json.Marshal(m[k])
		exp, _ := json.Marshal(v)
		if string(got) != string(exp) {
			return fmt.Errorf("%s is %s, want %s", k, got, exp)
		}
	}
	return nil
}

// rows checks a data answer: rows for the token's user, none restricted,
// and the operator's settings passed to the backend when settings is true.
func (w *walk) rows(settings bool) func(string) error {
	return func(a string) error {
		var body struct {
			Rows   []struct{ Restricted bool }
			Caller struct {
				TokenID, Type, Service string
				Settings               map[string]any
			}
		}
		if err := json.Unmarshal([]byte(a), &body); err != nil || len(body.Rows) == 0 {
			return fmt.Errorf("want rows")
		}
		for _, r := range body.Rows {
			if r.Restricted {
				return fmt.Errorf("a restricted row")
			}
		}
		if body.Caller.TokenID != w.tokenID || body.Caller.Type != "user" || body.Caller.Service != "tmy" {
			return fmt.Errorf("the caller is not the user token")
		}
		if settings != (body.Caller.Settings["publicOnly"] == true) {
			return fmt.Errorf("settings %v", body.Caller.Settings)
		}
		return nil
	}
}

// ids checks a list's token IDs, in order.
func (w *walk) ids(a string, want ...string) error {
	var page struct{ Items []struct{ ID string } }
	_ = json.Unmarshal([]byte(a), &page)
	var got []string
	for _, it := range page.Items {
		got = append(got, it.ID)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		return fmt.Errorf("tokens %v, want %v", got, want)
	}
	return nil
}

// statuses checks a usage page's statuses, newest first, all of the token.
func (w *walk) statuses(a string, want ...int) error {
	var page struct {
		Items []struct {
			TokenID string
			Status  int
		}
	}
	_ = json.Unmarshal([]byte(a), &page)
	var got []int
	for _, it := range page.Items {
		if it.TokenID != w.tokenID {
			return fmt.Errorf("a call of another token")
		}
		got = append(got, it.Status)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		return fmt.Errorf("statuses %v, want %v", got, want)
	}
	return nil
}

// actions checks an audit page's actions, newest first.
func (w *walk) actions(a string, want ...string) error {
	var page struct{ Items []struct{ Action string } }
	_ = json.Unmarshal([]byte(a), &page)
	var got []string
	for _, it := range page.Items {
		got = append(got, it.Action)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		return fmt.Errorf("actions %v, want %v", got, want)
	}
	return nil
}

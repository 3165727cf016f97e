package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/acmedata/tokenservice/pkg/handlers/operator"
	"github.com/acmedata/tokenservice/pkg/httpapi"
	"github.com/acmedata/tokenservice/pkg/local/stack"
	"github.com/acmedata/tokenservice/pkg/testkit/dynamotest"
)

func TestMain(m *testing.M) {
	code := dynamotest.Run(m)
	if closeBrowser != nil {
		closeBrowser()
	}
	os.Exit(code)
}

// Timeouts of a browser test. revocationWait covers the revocation delay
// (1 s by default) with room for a loaded machine; the tests poll, so a
// quick revocation passes quickly.
const (
	stepTimeout    = 15 * time.Second
	revocationWait = 15 * time.Second
)

// The sizes every screen is checked and photographed at.
var viewports = []struct {
	name          string
	width, height int64
	mobile        bool
}{
	{"1440x900", 1440, 900, false},
	{"375x812", 375, 812, true},
}

// ---- the browser: one Chromium for the test binary, a tab per test ----

var (
	browserOnce  sync.Once
	browserCtx   context.Context
	browserErr   error
	closeBrowser func()
)

// chromePath finds Chromium or Chrome: $CHROME_PATH, else the usual names
// on PATH. `make test` installs Debian's chromium when it can.
func chromePath() (string, error) {
	if p := os.Getenv("CHROME_PATH"); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no Chromium or Chrome found for the console's browser tests: " +
		"run `make test` as root on Debian (it installs the chromium package), " +
		"or install one yourself (Debian/Ubuntu: sudo apt-get install chromium) or set CHROME_PATH")
}

func startBrowser() {
	path, err := chromePath()
	if err != nil {
		browserErr = err
		return
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.WindowSize(1440, 900),
		chromedp.NoSandbox, // CI runs as root, where Chromium's sandbox cannot start
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "en-GB"),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		cancelAlloc()
		browserErr = fmt.Errorf("start %s: %w", path, err)
		return
	}
	browserCtx = ctx
	closeBrowser = func() { cancel(); cancelAlloc() }
}

// axeSource is axe-core's script, installed by `make test` from npm
// (AXE_CORE_JS names it) or found in the Makefile's cache.
var axeSource = sync.OnceValues(func() (string, error) {
	path := os.Getenv("AXE_CORE_JS")
	if path == "" {
		matches, _ := filepath.Glob(filepath.Join(repoRoot(), ".cache", "npm", "axe-core-*", "node_modules", "axe-core", "axe.min.js"))
		if len(matches) == 0 {
			return "", errors.New("axe-core not installed: run `make test` (it installs the pinned axe-core from npm), or set AXE_CORE_JS to axe.min.js")
		}
		path = matches[len(matches)-1]
	}
	b, err := os.ReadFile(path)
	return string(b), err
})

func repoRoot() string {
	dir, _ := os.Getwd()
	for d := dir; d != filepath.Dir(d); d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
	}
	return dir
}

// screenshotDir is where each screen's pictures go (git-ignored).
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("CONSOLE_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(repoRoot(), ".cache", "screenshots", "console")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// ---- the stack and an account on it ----

// site is the whole local stack behind a real HTTP server, with one
// account that subscribes to tmy and timeseries.
type site struct {
	url         string
	operatorKey string
	stack       *stack.Stack
	accountID   string
	apiKey      string
}

func newSite(t *testing.T) *site {
	t.Helper()
	s := &site{operatorKey: "opk_console_" + strings.ReplaceAll(t.Name(), "/", "_")}
	st, err := stack.Build(t.Context(), stack.Config{
		Client: dynamotest.Client(t), Tables: dynamotest.Tables(t), OperatorKey: s.operatorKey,
		UsageFlushInterval: 20 * time.Millisecond, SpoolDir: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	s.stack = st
	srv := httptest.NewServer(st)
	s.url = srv.URL
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := st.Close(ctx); err != nil {
			t.Errorf("close stack: %v", err)
		}
	})
	var created operator.CreatedAccount
	s.must(t, "POST", "/operator/accounts", s.operatorKey, map[string]any{"name": "Solar Maps Ltd", "services": []string{"tmy", "timeseries"}}, http.StatusCreated, &created)
	s.accountID, s.apiKey = created.Account.ID, created.APIKey
	return s
}

// call sends a request with a bearer credential and a JSON body (nil for none).
func (s *site) call(t *testing.T, method, path, credential string, body any) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, s.url+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if credential != "" {
		req.Header.Set("Authorization", "Bearer "+credential)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, b
}

// must is call that fails the test on another status and decodes into out.
func (s *site) must(t *testing.T, method, path, credential string, body any, status int, out any) {
	t.Helper()
	got, b := s.call(t, method, path, credential, body)
	if got != status {
		t.Fatalf("%s %s: status %d, want %d; body %s", method, path, got, status, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v; body %s", method, path, err, b)
		}
	}
}

// issue makes a token through the API (a precondition, not the screen under test).
func (s *site) issue(t *testing.T, service string, body map[string]any) httpapi.NewTokenView {
	t.Helper()
	var tok httpapi.NewTokenView
	s.must(t, "POST", "/admin/services/"+service+"/tokens", s.apiKey, body, http.StatusCreated, &tok)
	return tok
}

// data calls the demo data route with token and answers the status.
func (s *site) data(t *testing.T, service, token string) int {
	t.Helper()
	status, _ := s.call(t, "GET", "/data/"+service+"/hourly?token="+token, "", nil)
	return status
}

// eventuallyData polls the data route until it answers want, within the
// revocation delay (and some slack); a change needs no fixed sleep.
func (s *site) eventuallyData(t *testing.T, service, token string, want int) {
	t.Helper()
	deadline := time.Now().Add(revocationWait)
	for {
		got := s.data(t, service, token)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("data call answered %d for %s, want %d", got, revocationWait, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// flushUsage delivers the usage of every call answered so far.
func (s *site) flushUsage(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := s.stack.Flush(ctx); err != nil {
		t.Fatalf("deliver usage: %v", err)
	}
}

// ---- a console tab ----

// tab is one browser tab on the console, with what it has shown.
type tab struct {
	t    *testing.T
	ctx  context.Context
	site *site

	mu       sync.Mutex
	problems []string          // script errors and CSP violations
	network  []string          // failed requests the browser logged (a 404, a refused key's 401)
	names    map[string]string // download GUID -> suggested file name
	done     chan string       // GUIDs of completed downloads
	dir      string            // where downloads land
}

// openConsole opens a new tab on the site's console, failing the test on
// any script error or CSP violation the page reports.
func openConsole(t *testing.T, s *site) *tab {
	t.Helper()
	browserOnce.Do(startBrowser)
	if browserErr != nil {
		t.Fatal(browserErr)
	}
	ctx, cancel := chromedp.NewContext(browserCtx)
	t.Cleanup(cancel)
	tb := &tab{t: t, ctx: ctx, site: s, names: map[string]string{}, done: make(chan string, 8), dir: t.TempDir()}
	err := chromedp.Listen(ctx, func(ev any) {
		tb.mu.Lock()
		defer tb.mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			tb.problems = append(tb.problems, "script error: "+(&chromedp.ExceptionError{ExceptionDetails: ev.ExceptionDetails}).Error())
		case *cdplog.EventEntryAdded:
			// Network errors (a refused key's 401) are expected; a blocked
			// resource (CSP) or a script error is not.
			switch {
			case ev.Entry.Level != cdplog.EntryLevelError:
			case ev.Entry.Source == cdplog.EntrySourceNetwork:
				tb.network = append(tb.network, ev.Entry.URL+": "+ev.Entry.Text)
			default:
				tb.problems = append(tb.problems, fmt.Sprintf("%s: %s", ev.Entry.Source, ev.Entry.Text))
			}
		}
	})
	if err == nil {
		err = chromedp.ListenBrowser(ctx, func(ev any) {
			tb.mu.Lock()
			defer tb.mu.Unlock()
			switch ev := ev.(type) {
			case *browser.EventDownloadWillBegin:
				tb.names[ev.GUID] = ev.SuggestedFilename
			case *browser.EventDownloadProgress:
				if ev.State == browser.DownloadProgressStateCompleted {
					select {
					case tb.done <- ev.GUID:
					default:
					}
				}
			}
		})
	}
	if err != nil {
		t.Fatal(err)
	}
	tb.do("open the console",
		chromedp.Func(func(ctx context.Context, target *chromedp.Target) error {
			if _, err := cdp.Call(ctx, target, cdplog.Enable, cdp.Empty{}); err != nil {
				return err
			}
			if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
				Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: tb.dir, EventsEnabled: new(true),
			}); err != nil {
				return err
			}
			for _, name := range []string{"clipboard-read", "clipboard-write"} {
				if _, err := chromedp.CallBrowser(ctx, browser.SetPermission, browser.SetPermissionParams{
					Permission: &browser.PermissionDescriptor{Name: name}, Setting: browser.PermissionSettingGranted, Origin: s.url,
				}); err != nil {
					return err
				}
			}
			return nil
		}),
		chromedp.EmulateViewport(1440, 900),
		chromedp.Navigate(s.url+"/console/"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="apiKey"]`)),
	)
	t.Cleanup(func() {
		tb.mu.Lock()
		defer tb.mu.Unlock()
		for _, p := range tb.problems {
			t.Errorf("the page reported %s", p)
		}
	})
	return tb
}

// do runs actions with a step timeout, failing the test with what.
func (tb *tab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.t.Fatalf("%s: %v", what, err)
	}
}

// get runs one action that answers a value.
func get[T any](tb *tab, what string, action chromedp.Action[T]) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, action)
	if err != nil {
		tb.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// eval evaluates a JavaScript expression, awaiting a promise.
func eval[T any](tb *tab, expr string) T {
	tb.t.Helper()
	return get(tb, "evaluate "+expr, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
}

// waitFor waits until a JavaScript condition holds.
func (tb *tab) waitFor(what, cond string) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](cond, chromedp.WithPollingTimeout(stepTimeout-time.Second))); err != nil {
		shown, _ := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`location.hash + '\n' + document.body.innerText`))
		tb.t.Fatalf("wait for %s: %v; the page shows:\n%s", what, err, shown)
	}
}

// waitText waits until the page (or its open dialog) shows text.
func (tb *tab) waitText(text string) {
	tb.t.Helper()
	tb.waitFor(fmt.Sprintf("the text %q", text), fmt.Sprintf(`document.body.innerText.includes(%s)`, jsString(text)))
}

// text is what the page shows (the body's innerText).
func (tb *tab) text() string {
	tb.t.Helper()
	return eval[string](tb, `document.body.innerText`)
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// XPath queries for labels (every label here is plain text without quotes).
// A control's first text node is its visible label; screen-reader-only
// detail (which token it acts on) follows in a child element.
func button(label string) string  { return fmt.Sprintf(`//button[normalize-space(text())=%q]`, label) }
func link(label string) string    { return fmt.Sprintf(`//a[normalize-space(text())=%q]`, label) }
func inDialog(x string) string    { return `//dialog[@open]` + x }
func inToken(id, x string) string { return fmt.Sprintf(`//li[@data-token-id=%q]`, id) + x }
func inUser(id, x string) string  { return fmt.Sprintf(`//*[@data-user-id=%q]`, id) + x }
func inMain(x string) string      { return `//main` + x }

// click clicks the element an XPath names, as a person would.
func (tb *tab) click(xpath string) {
	tb.t.Helper()
	tb.do("click "+xpath, chromedp.Click(chromedp.Search(xpath), chromedp.NodeVisible))
}

// typeInto types text into the field a CSS selector names, after clearing it.
func (tb *tab) typeInto(selector, text string) {
	tb.t.Helper()
	tb.do("type into "+selector,
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%s).value = ''`, jsString(selector))),
		chromedp.SendKeys(chromedp.CSS(selector), text))
}

// choose picks an option of the select a CSS selector names, by value.
func (tb *tab) choose(selector, value string) {
	tb.t.Helper()
	tb.do("choose "+value+" in "+selector, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(
		`(s => { s.value = %s; s.dispatchEvent(new Event('change', {bubbles: true})) })(document.querySelector(%s))`, jsString(value), jsString(selector))))
}

// signIn signs in with the site's API key, by keyboard.
func (tb *tab) signIn() {
	tb.t.Helper()
	tb.typeInto(`input[name="apiKey"]`, tb.site.apiKey+kb.Enter)
	tb.waitFor("the API screen", `document.querySelector('main h1')?.textContent === 'API' && !!document.querySelector('.services')`)
}

// secretShown reads the secret the open dialog shows once.
func (tb *tab) secretShown() string {
	tb.t.Helper()
	tb.waitText("you will not see it again")
	return get(tb, "read the secret", chromedp.Value(chromedp.CSS(`dialog[open] .secret-value`)))
}

// closeDialog presses Done and checks that the secret left the page.
func (tb *tab) closeDialog(secret string) {
	tb.t.Helper()
	tb.click(inDialog(button("Done")))
	tb.waitFor("the dialog to close", `!document.querySelector('dialog')`)
	if eval[bool](tb, fmt.Sprintf(`document.documentElement.outerHTML.includes(%s) || [...document.querySelectorAll('input')].some(i => i.value === %[1]s)`, jsString(secret))) {
		tb.t.Fatal("the secret is still on the page after its dialog closed")
	}
}

// download waits for the next completed download and answers its
// suggested name and content.
func (tb *tab) download() (string, string) {
	tb.t.Helper()
	select {
	case guid := <-tb.done:
		b, err := os.ReadFile(filepath.Join(tb.dir, guid))
		if err != nil {
			tb.t.Fatal(err)
		}
		tb.mu.Lock()
		defer tb.mu.Unlock()
		return tb.names[guid], string(b)
	case <-time.After(stepTimeout):
		tb.t.Fatal("no download completed")
		return "", ""
	}
}

// networkErrors answers the failed requests the browser has logged so far.
func (tb *tab) networkErrors() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return append([]string(nil), tb.network...)
}

// axeViolation is one finding of axe-core.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// screen checks the screen with axe-core (no violation of any impact:
// minor and moderate ones are real too) and that no ID in a card or list
// of details breaks mid-word, and saves a screenshot at each viewport size.
func (tb *tab) screen(name string) {
	tb.t.Helper()
	src, err := axeSource()
	if err != nil {
		tb.t.Fatal(err)
	}
	dir := screenshotDir(tb.t)
	for _, vp := range viewports {
		opts := []chromedp.EmulateViewportOption{}
		if vp.mobile {
			opts = append(opts, chromedp.EmulateMobile, chromedp.EmulatePortrait)
		}
		tb.do("resize to "+vp.name, chromedp.EmulateViewport(vp.width, vp.height, opts...))
		// Two animation frames: the layout and any chart resize have run.
		eval[bool](tb, `new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))`)
		// Readable at this width: nothing makes the page scroll sideways.
		if w := eval[[]float64](tb, `[document.documentElement.scrollWidth, window.innerWidth]`); w[0] > float64(vp.width) {
			tb.t.Errorf("%s at %s: the page is %v px wide", name, vp.name, w[0])
		}
		if !eval[bool](tb, `typeof axe !== 'undefined'`) {
			get(tb, "inject axe-core", chromedp.Evaluate[chromedp.Void](src))
		}
		violations := eval[[]axeViolation](tb, `axe.run(document, {resultTypes: ['violations']}).then(r => r.violations
			.map(v => ({id: v.id, impact: v.impact ?? '', help: v.help, nodes: v.nodes.map(n => n.target.join(' '))})))`)
		for _, v := range violations {
			tb.t.Errorf("axe (%s at %s): %s %s: %s, on %v", name, vp.name, v.Impact, v.ID, v.Help, v.Nodes)
		}
		if broken := eval[[]string](tb, `[...document.querySelectorAll('.details code')].filter(c => c.getClientRects().length > 1).map(c => c.textContent)`); len(broken) > 0 {
			tb.t.Errorf("%s at %s: IDs broken across lines: %v", name, vp.name, broken)
		}
		shot := get(tb, "screenshot "+name, chromedp.CaptureScreenshot())
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-%s.png", name, vp.name)), shot, 0o644); err != nil {
			tb.t.Fatal(err)
		}
	}
	tb.do("restore the size", chromedp.EmulateViewport(1440, 900))
}

package console_test

import (
	csvpkg "encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/acmedata/tokenservice/pkg/httpapi"
)

func TestSignInKeepsTheKeyInSessionStorageOnlyAndSignOutForgetsIt(t *testing.T) {
	s := newSite(t)
	tb := openConsole(t, s)
	tb.screen("signin")

	// A wrong key shows the API's own message.
	wrong := "tka_" + strings.Repeat("Z", 40)
	_, body := s.call(t, "GET", "/admin/account", wrong, nil)
	tb.typeInto(`input[name="apiKey"]`, wrong+"\r")
	tb.waitFor("the refusal", `!!document.querySelector('main [role=alert]')`)
	if shown := eval[string](tb, `document.querySelector('main [role=alert]').innerText`); !strings.Contains(string(body), shown) || shown == "" {
		t.Fatalf("the console showed %q; the API answered %s", shown, body)
	}
	tb.screen("signin-refused")

	// Keyboard only: type the key, Tab to Sign in (its focus is visible), Enter.
	tb.typeInto(`input[name="apiKey"]`, s.apiKey+"\t")
	if style := eval[string](tb, `document.activeElement.tagName + ' ' + document.activeElement.textContent + ' ' + getComputedStyle(document.activeElement).outlineStyle`); style == "BUTTON Sign in none" || !strings.HasPrefix(style, "BUTTON Sign in") {
		t.Fatalf("after Tab the focus is on %q, want Sign in with a visible outline", style)
	}
	tb.do("press Enter", chromedp.KeyEvent(kb.Enter))
	tb.waitFor("the API screen", `!!document.querySelector('.services')`)

	stored := eval[map[string]any](tb, `({session: sessionStorage.getItem('tokenservice.apiKey'), local: localStorage.length, cookie: document.cookie, url: location.href})`)
	if stored["session"] != s.apiKey || stored["local"] != 0.0 || stored["cookie"] != "" || strings.Contains(stored["url"].(string), s.apiKey) {
		t.Fatalf("after sign-in: %v; want the key in sessionStorage only", stored)
	}
	for _, want := range []string{"TMY", "Users with access", "User tokens", "Userless tokens", "Manage"} {
		if !strings.Contains(tb.text(), want) {
			t.Errorf("the API screen does not show %q", want)
		}
	}
	tb.screen("api")

	tb.click(button("Sign out"))
	tb.waitFor("the sign-in screen", `!!document.querySelector('input[name=apiKey]')`)
	if n := eval[float64](tb, `sessionStorage.length + localStorage.length`); n != 0 {
		t.Fatalf("after Sign out the browser still stores %v items", n)
	}
	tb.waitText("You are signed out.")
}

func TestAnAdminGivesAUserAccessAndTheirNewTokensCallTheData(t *testing.T) {
	s := newSite(t)
	tb := openConsole(t, s)
	tb.signIn()

	// Users: create one.
	tb.click(link("Users"))
	tb.waitText("Create user")
	tb.typeInto(`input[name="email"]`, "ada@example.com")
	tb.typeInto(`input[name="name"]`, "Ada Lovelace")
	tb.click(button("Create user"))
	tb.waitText("User Ada Lovelace created")
	tb.screen("users")
	userID := eval[string](tb, `document.querySelector('tr[data-user-id]').dataset.userId`)

	// API -> Manage tmy -> Users and user tokens: switch access on, Save.
	tb.click(link("API"))
	tb.click(`//a[normalize-space(text())="Manage" and contains(@href, "/services/tmy")]`)
	tb.waitText("Default token")
	tb.waitText("No active token yet")
	// An empty service has no default token: the console does not ask, so
	// the browser logs no 404.
	if failed := tb.networkErrors(); len(failed) > 0 {
		t.Errorf("the empty service's General tab logged failed requests: %v", failed)
	}
	if gap := eval[float64](tb, `document.querySelector('.default-token').getBoundingClientRect().top - document.querySelector('.details.counts').getBoundingClientRect().bottom`); gap < 12 {
		t.Errorf("the Default token card sits %v px under the counts, want room between them", gap)
	}
	tb.screen("service-general-empty")
	tb.click(link("Users and user tokens"))
	tb.waitFor("the user's row", `!!document.querySelector('[data-user-id] input[type=checkbox]')`)
	generate := inUser(userID, button("Generate token"))
	if !eval[bool](tb, `document.querySelector('[data-user-id] .actions button').disabled`) {
		t.Fatal("Generate token is enabled for a user without access")
	}
	tb.click(inUser(userID, `//input[@type="checkbox"]`))
	if !eval[bool](tb, `document.querySelector('[data-user-id] .actions button').disabled`) {
		t.Fatal("Generate token is enabled before the access change is saved")
	}
	tb.click(button("Save"))
	tb.waitText("Access saved.")
	tb.waitFor("Generate token to be enabled", `!document.querySelector('[data-user-id] .actions button').disabled`)
	tb.screen("service-users")

	// Generate a user token: named, shown once, copied and downloaded.
	tb.click(generate)
	tb.waitFor("the dialog", `!!document.querySelector('dialog[open] input[name=name]')`)
	tb.typeInto(`dialog[open] input[name="name"]`, "Ada's laptop")
	tb.click(inDialog(button("Generate")))
	userToken := tb.secretShown()
	tb.screen("token-dialog")
	tb.click(inDialog(button("Copy")))
	tb.waitText("Copied to the clipboard.")
	if got := eval[string](tb, `navigator.clipboard.readText()`); got != userToken {
		t.Fatalf("the clipboard holds %q, want the token", got)
	}
	tb.click(inDialog(button("Download")))
	name, content := tb.download()
	if !strings.HasPrefix(name, "token-tmy-") || !strings.HasSuffix(name, ".txt") {
		t.Errorf("downloaded file name %q", name)
	}
	for _, want := range []string{"token: " + userToken, "service: tmy", "name: Ada's laptop", "id: tok"} {
		if !strings.Contains(content, want) {
			t.Errorf("the downloaded file lacks %q:\n%s", want, content)
		}
	}
	tb.closeDialog(userToken)
	if got := s.data(t, "tmy", userToken); got != http.StatusOK {
		t.Fatalf("data call with the generated user token: %d, want 200", got)
	}

	// The user's tokens, under their Manage link.
	tb.click(inUser(userID, link("Manage")))
	tb.waitText("Tokens of Ada Lovelace")
	tb.waitText("Ada's laptop")

	// A userless token, without a name.
	tb.click(link("Userless tokens"))
	tb.waitText("anyone holding one may call the service")
	tb.click(inMain(button("Generate token")))
	tb.click(inDialog(button("Generate")))
	userless := tb.secretShown()
	tb.closeDialog(userless)
	tb.waitFor("the userless token in the list", `document.querySelectorAll('li[data-token-id]').length === 1`)
	if got := s.data(t, "tmy", userless); got != http.StatusOK {
		t.Fatalf("data call with the generated userless token: %d, want 200", got)
	}
	tb.screen("service-userless")

	// General: the counts, and the earliest active token front and centre.
	tb.click(link("General"))
	tb.waitFor("the default token", `document.querySelector('.default-token')?.innerText.includes("Ada's laptop")`)
	tb.screen("service-general")
}

// tokenFixture is a userless token made through the API and used once, so
// that it has a last use.
func tokenFixture(t *testing.T, s *site, name string) httpapi.NewTokenView {
	t.Helper()
	tok := s.issue(t, "tmy", map[string]any{"name": name})
	if got := s.data(t, "tmy", tok.Token); got != http.StatusOK {
		t.Fatalf("data call: %d", got)
	}
	s.flushUsage(t)
	return tok
}

func TestTokensAreRenamedDisabledClonedWithGraceAndDeletedFromTheList(t *testing.T) {
	s := newSite(t)
	tok := tokenFixture(t, s, "Map widget")
	tb := openConsole(t, s)
	tb.signIn()
	tb.click(`//a[normalize-space(text())="Manage" and contains(@href, "/services/tmy")]`)
	tb.click(link("Userless tokens"))
	tb.waitText("Map widget")

	// Rename.
	tb.click(inToken(tok.ID, button("Rename")))
	tb.typeInto(`dialog[open] input[name="name"]`, "Public map")
	tb.click(inDialog(button("Save name")))
	tb.waitText("Token renamed to “Public map”.")

	// Disable: the data call is refused within the revocation delay.
	tb.click(inToken(tok.ID, button("Disable")))
	tb.waitText("Token “Public map” disabled.")
	tb.waitFor("the disabled badge", fmt.Sprintf(`document.querySelector('li[data-token-id=%q] .badge').textContent.startsWith('disabled')`, tok.ID))
	s.eventuallyData(t, "tmy", tok.Token, http.StatusUnauthorized)
	tb.screen("tokens-disabled")
	tb.click(inToken(tok.ID, button("Enable")))
	tb.waitText("Token “Public map” enabled.")
	s.eventuallyData(t, "tmy", tok.Token, http.StatusOK)

	// Status filter: disabled tokens only, then any again.
	tb.choose(`select[name="status"]`, "disabled")
	tb.waitText("No tokens match.")
	tb.choose(`select[name="status"]`, "")
	tb.waitText("Public map")

	// Clone with a grace period: the clone works, the source until the grace ends.
	tb.click(inToken(tok.ID, button("Clone")))
	tb.typeInto(`dialog[open] input[name="name"]`, "Public map 2")
	tb.choose(`dialog[open] select[name="grace"]`, "3600")
	tb.screen("token-clone")
	tb.click(inDialog(button("Clone")))
	clone := tb.secretShown()
	tb.closeDialog(clone)
	if got := s.data(t, "tmy", clone); got != http.StatusOK {
		t.Fatalf("data call with the clone: %d, want 200", got)
	}
	var source httpapi.TokenView
	s.must(t, "GET", "/admin/tokens/"+tok.ID, s.apiKey, nil, http.StatusOK, &source)
	if source.ExpiresAt == nil {
		t.Fatal("the source of a clone with a grace period has no expiry")
	}
	if until, err := time.Parse(time.RFC3339, *source.ExpiresAt); err != nil || time.Until(until) < 50*time.Minute || time.Until(until) > 61*time.Minute {
		t.Fatalf("the source expires at %s, want in about an hour", *source.ExpiresAt)
	}
	if got := s.data(t, "tmy", tok.Token); got != http.StatusOK {
		t.Fatalf("data call with the source during its grace: %d, want 200", got)
	}
	tb.waitText("Public map 2")

	// Delete, after a confirmation that names the token and its last use.
	tb.click(inToken(tok.ID, button("Delete")))
	tb.waitText("Delete the token “Public map” (…" + tok.Hint + ")?")
	tb.waitText("It was last used ")
	tb.screen("token-delete")
	tb.click(inDialog(button("Delete token")))
	tb.waitText("Token “Public map” deleted.")
	tb.waitFor("the token to leave the list", fmt.Sprintf(`!document.querySelector('li[data-token-id=%q]')`, tok.ID))
	s.eventuallyData(t, "tmy", tok.Token, http.StatusUnauthorized)
}

func TestRotatingTheAPIKeyStopsTheOldKeyAndItsTokensAndKeepsTheConsoleSignedIn(t *testing.T) {
	s := newSite(t)
	tok := tokenFixture(t, s, "Before rotation")
	tb := openConsole(t, s)
	tb.signIn()
	tb.click(link("Account"))
	tb.waitText("Solar Maps Ltd")
	tb.waitText("…" + s.apiKey[len(s.apiKey)-4:])
	tb.screen("account")

	tb.click(inMain(button("Rotate API key")))
	tb.waitText("disabled: the API key was replaced")
	tb.waitText("stops working now")
	tb.screen("rotate-confirm")
	tb.click(inDialog(button("Rotate API key")))
	newKey := tb.secretShown()
	if newKey == s.apiKey || !strings.HasPrefix(newKey, "tka_") {
		t.Fatalf("the dialog shows %q as the new key", newKey)
	}
	tb.closeDialog(newKey)

	if status, _ := s.call(t, "GET", "/admin/account", s.apiKey, nil); status != http.StatusUnauthorized {
		t.Fatalf("the old key answered %d after rotation, want 401", status)
	}
	s.eventuallyData(t, "tmy", tok.Token, http.StatusUnauthorized)
	// The console carries on with the new key: the account shows its hint.
	tb.waitText("…" + newKey[len(newKey)-4:])
	if got := eval[string](tb, `sessionStorage.getItem('tokenservice.apiKey')`); got != newKey {
		t.Fatal("the console did not keep the new key for this tab")
	}
	tb.click(link("API"))
	tb.waitFor("the API screen", `!!document.querySelector('.services')`)

	// The old key's token says why it stopped, in words, with the code.
	tb.userlessTokens("Before rotation")
	card := fmt.Sprintf(`document.querySelector('li[data-token-id=%q]').innerText`, tok.ID)
	tb.waitFor("the reason in words", card+`.includes('disabled: the API key was replaced')`)
	if got := eval[string](tb, card); !strings.Contains(got, "(api_key_replaced)") {
		t.Errorf("the card does not keep the reason's code:\n%s", got)
	}
	// Enabled again, it moves to the new key: the audit log says enabled,
	// not the internal key generation that changed with it.
	tb.click(inToken(tok.ID, button("Enable")))
	tb.waitText("Token “Before rotation” enabled.")
	tb.click(link("Audit log"))
	tb.waitFor("the enable's entry", fmt.Sprintf(`[...document.querySelectorAll('table.audit tbody tr')].some(r => r.innerText.includes(%q) && r.innerText.includes('enabled'))`, tok.ID))
	if strings.Contains(tb.text(), "keyGeneration") {
		t.Error("the audit log shows the internal field keyGeneration")
	}
}

func TestUsersAreRenamedAndDeletedWithTheirTokensAndListedAPageAtATime(t *testing.T) {
	s := newSite(t)
	var victim httpapi.UserView
	s.must(t, "POST", "/admin/users", s.apiKey, map[string]string{"email": "grace@example.com", "name": "Grace Hopper"}, http.StatusCreated, &victim)
	s.must(t, "PUT", "/admin/services/tmy/users/"+victim.ID, s.apiKey, map[string]bool{"active": true}, http.StatusOK, nil)
	tok := s.issue(t, "tmy", map[string]any{"userId": victim.ID, "name": "Grace's"})
	for i := range 21 { // one more than a page
		s.must(t, "POST", "/admin/users", s.apiKey, map[string]string{"email": fmt.Sprintf("u%02d@example.com", i), "name": fmt.Sprintf("User %02d", i)}, http.StatusCreated, nil)
	}
	tb := openConsole(t, s)
	tb.signIn()
	tb.click(link("Users"))
	tb.waitFor("a page of users", `document.querySelectorAll('tr[data-user-id]').length === 20`)
	tb.click(button("Next page"))
	tb.waitFor("the second page", `document.querySelectorAll('tr[data-user-id]').length === 2 && document.body.innerText.includes('Page 2')`)
	tb.click(button("Previous page"))
	tb.waitFor("the first page again", `document.querySelectorAll('tr[data-user-id]').length === 20`)
	for tb.text(); !eval[bool](tb, fmt.Sprintf(`!!document.querySelector('tr[data-user-id=%q]')`, victim.ID)); {
		tb.click(button("Next page"))
		tb.waitFor("the next page", `!!document.querySelector('tr[data-user-id]')`)
	}

	tb.click(inUser(victim.ID, button("Rename")))
	tb.typeInto(`dialog[open] input[name="name"]`, "Grace <b>B.</b> Hopper")
	tb.click(inDialog(button("Save")))
	tb.waitText("User Grace <b>B.</b> Hopper saved.")
	// What a person typed is shown as text, never parsed as markup.
	if n := eval[float64](tb, `document.querySelectorAll('main b').length`); n != 0 {
		t.Fatalf("a user's name became %v <b> elements", n)
	}

	tb.click(inUser(victim.ID, button("Delete")))
	tb.waitText("Their tokens for every service are deleted too")
	tb.screen("user-delete")
	tb.click(inDialog(button("Delete user")))
	tb.waitText("User Grace <b>B.</b> Hopper and their tokens deleted.")
	s.eventuallyData(t, "tmy", tok.Token, http.StatusUnauthorized)
}

func TestUsageHistoryListsCallsAPageAtATimeChartsThemAndDownloadsCSV(t *testing.T) {
	s := newSite(t)
	tok := tokenFixture(t, s, "Busy widget")
	for range 54 { // with the fixture's call, more than a page of 50
		if got := s.data(t, "tmy", tok.Token); got != http.StatusOK {
			t.Fatalf("data call: %d", got)
		}
	}
	other := s.issue(t, "tmy", map[string]any{"name": "Quiet widget"})
	s.must(t, "PATCH", "/admin/tokens/"+other.ID, s.apiKey, map[string]bool{"enabled": false}, http.StatusOK, nil)
	s.eventuallyData(t, "tmy", other.Token, http.StatusUnauthorized)
	s.flushUsage(t)

	// A user's call too: its row has the widest cells (a user ID).
	var user httpapi.UserView
	s.must(t, "POST", "/admin/users", s.apiKey, map[string]string{"email": "ada@example.com", "name": "Ada Lovelace"}, http.StatusCreated, &user)
	s.must(t, "PUT", "/admin/services/tmy/users/"+user.ID, s.apiKey, map[string]bool{"active": true}, http.StatusOK, nil)
	usersToken := s.issue(t, "tmy", map[string]any{"userId": user.ID, "name": "Ada's notebook"})
	if got := s.data(t, "tmy", usersToken.Token+"&includeRestricted=true"); got != http.StatusOK {
		t.Fatalf("data call: %d", got)
	}
	s.flushUsage(t)

	// What the chart must add up to, from the summary route itself.
	var summary struct {
		Items []map[string]any `json:"items"`
	}
	s.must(t, "GET", "/admin/usage/summary?interval=hour", s.apiKey, nil, http.StatusOK, &summary)
	counts := map[string]int{}
	for _, it := range summary.Items {
		for _, c := range []string{"2xx", "4xx", "5xx"} {
			counts[c] += int(it[c].(float64))
		}
	}
	if counts["2xx"] < 55 || counts["4xx"] < 1 {
		t.Fatalf("the summary counts %v, want at least 55 served and 1 refused", counts)
	}
	wantChart := fmt.Sprintf("%d calls: %d served (2xx), %d refused (4xx), %d failed (5xx).",
		counts["2xx"]+counts["4xx"]+counts["5xx"], counts["2xx"], counts["4xx"], counts["5xx"])

	tb := openConsole(t, s)
	tb.signIn()
	tb.click(link("Usage history"))
	tb.waitFor("a page of calls", `document.querySelectorAll('table.usage tbody tr').length === 50`)
	// At a common laptop width the whole table fits its box: no column is
	// hidden until one scrolls sideways.
	tb.do("resize to 1280x800", chromedp.EmulateViewport(1280, 800))
	if w := eval[[]float64](tb, `(b => [b.scrollWidth, b.clientWidth])(document.querySelector('.table-scroll'))`); w[0] > w[1] {
		t.Errorf("at 1280 px the calls table is %v px wide in a box of %v", w[0], w[1])
	}
	tb.do("restore the size", chromedp.EmulateViewport(1440, 900))
	eval[bool](tb, `(document.querySelector('.table-scroll').scrollIntoView(), true)`)
	tb.screen("usage-calls")
	eval[bool](tb, `(window.scrollTo(0, 0), true)`)
	tb.waitFor("the chart", `!!document.querySelector('.chart-box canvas') && document.querySelector('.chart-summary').textContent !== ''`)
	if got := eval[string](tb, `document.querySelector('.chart-summary').textContent`); got != wantChart {
		t.Fatalf("the chart says %q, want %q", got, wantChart)
	}
	if !eval[bool](tb, `!!Chart.getChart(document.querySelector('.chart-box canvas'))`) {
		t.Fatal("the canvas holds no Chart.js chart")
	}
	tb.screen("usage")

	tb.click(button("Download CSV"))
	name, csv := tb.download()
	lines := strings.Split(strings.TrimSpace(csv), "\n")
	if !strings.HasSuffix(name, ".csv") || len(lines) != 51 || !strings.Contains(lines[0], "requestId") || !strings.Contains(csv, tok.ID) {
		t.Fatalf("downloaded %q with %d lines, want a header and 50 calls:\n%.300s", name, len(lines), csv)
	}

	tb.click(button("Next page"))
	tb.waitFor("the second page", `document.body.innerText.includes('Page 2') && document.querySelectorAll('table.usage tbody tr').length >= 6`)

	// Filters: one token's calls only, and the refused ones show as 401.
	tb.typeInto(`input[name="tokenId"]`, other.ID)
	tb.click(button("Apply filters"))
	tb.waitFor("the filtered calls", fmt.Sprintf(`(rows => rows.length > 0 && rows.every(r => r.textContent.includes(%q)) && rows.some(r => r.textContent.includes('401')))([...document.querySelectorAll('table.usage tbody tr')])`, other.ID))
	tb.waitFor("the filtered chart", `/^\d+ calls: 0 served/.test(document.querySelector('.chart-summary').textContent)`)

	// The status filter: every token's refused calls, and only those, on
	// the screen and in the CSV.
	tb.typeInto(`input[name="tokenId"]`, "")
	tb.choose(`select[name="status"]`, "4xx")
	tb.click(button("Apply filters"))
	tb.waitFor("the refused calls", fmt.Sprintf(`(rows => rows.length === %d && rows.every(r => r.querySelector('.status').textContent.startsWith('4')))([...document.querySelectorAll('table.usage tbody tr')])`, counts["4xx"]))
	tb.click(button("Download CSV"))
	_, csv = tb.download()
	rows, err := csvpkg.NewReader(strings.NewReader(csv)).ReadAll()
	if err != nil || len(rows) != 1+counts["4xx"] {
		t.Fatalf("the CSV of refused calls: %v, %d rows:\n%.300s", err, len(rows), csv)
	}
	for _, row := range rows[1:] {
		if !strings.HasPrefix(row[8], "4") {
			t.Errorf("the CSV of refused calls holds a %s", row[8])
		}
	}
}

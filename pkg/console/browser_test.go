package console_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
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

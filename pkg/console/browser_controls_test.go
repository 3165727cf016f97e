package console_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/acmedata/tokenservice/pkg/httpapi"
)

// userlessTokens opens the tmy service's Userless tokens tab and waits
// for the token named name.
func (tb *tab) userlessTokens(name string) {
	tb.t.Helper()
	tb.click(link("API"))
	tb.click(`//a[normalize-space(text())="Manage" and contains(@href, "/services/tmy")]`)
	tb.click(link("Userless tokens"))
	tb.waitText(name)
}

func TestRestrictionsAreEditedOnTheTokenAndTheAPIsRefusalIsShown(t *testing.T) {
	s := newSite(t)
	tok := tokenFixture(t, s, "Map widget")
	tb := openConsole(t, s)
	tb.signIn()
	tb.userlessTokens("Map widget")
	if got := eval[string](tb, fmt.Sprintf(`document.querySelector('li[data-token-id=%q]').innerText`, tok.ID)); !containsAll(got, "Allowed origins", "Allowed IP ranges", "any") {
		t.Fatalf("the card of an unrestricted token shows:\n%s", got)
	}

	// A bad entry: the dialog shows the API's own 400 message and keeps
	// what was typed.
	tb.click(inToken(tok.ID, button("Restrictions")))
	tb.waitText("they do not stop a script or a server")
	tb.typeInto(`dialog[open] textarea[name="origins"]`, "maps.example.com")
	tb.click(inDialog(button("Save restrictions")))
	tb.waitFor("the refusal", `!!document.querySelector('dialog[open] [role=alert]')`)
	_, body := s.call(t, "PATCH", "/admin/tokens/"+tok.ID, s.apiKey, map[string]any{"restrictions": map[string]any{"origins": []string{"maps.example.com"}, "ipRanges": []string{}}})
	var refusal struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal(body, &refusal); err != nil || refusal.Error.Code != "invalid_restrictions" {
		t.Fatalf("the API answered %s", body)
	}
	if shown := eval[string](tb, `document.querySelector('dialog[open] [role=alert]').innerText`); shown != refusal.Error.Message {
		t.Fatalf("the dialog shows %q; the API's message is %q", shown, refusal.Error.Message)
	}
	if got := eval[string](tb, `document.querySelector('dialog[open] textarea[name=origins]').value`); got != "maps.example.com" {
		t.Fatalf("the dialog lost what was typed: %q", got)
	}
	tb.screen("token-restrictions-refused")

	// Good entries, one per line: saved, shown on the card, enforced.
	tb.typeInto(`dialog[open] textarea[name="origins"]`, "https://maps.example.com\n\nhttps://*.example.org ")
	tb.typeInto(`dialog[open] textarea[name="ipRanges"]`, "127.0.0.0/8\n::1/128")
	tb.click(inDialog(button("Save restrictions")))
	tb.waitText("Restrictions of “Map widget” saved.")
	tb.waitFor("the card's restrictions", fmt.Sprintf(`document.querySelector('li[data-token-id=%q]').innerText.includes('https://*.example.org')`, tok.ID))
	var got httpapi.TokenView
	s.must(t, "GET", "/admin/tokens/"+tok.ID, s.apiKey, nil, http.StatusOK, &got)
	if !slices.Equal(got.Restrictions.Origins, []string{"https://maps.example.com", "https://*.example.org"}) || !slices.Equal(got.Restrictions.IPRanges, []string{"127.0.0.0/8", "::1/128"}) {
		t.Fatalf("stored restrictions %+v", got.Restrictions)
	}
	// A call without an Origin from a listed IP is now refused.
	s.eventuallyData(t, "tmy", tok.Token, http.StatusForbidden)
	tb.screen("token-restrictions")

	// Emptying both lists lifts them.
	tb.click(inToken(tok.ID, button("Restrictions")))
	tb.typeInto(`dialog[open] textarea[name="origins"]`, "")
	tb.typeInto(`dialog[open] textarea[name="ipRanges"]`, "")
	tb.click(inDialog(button("Save restrictions")))
	tb.waitText("Restrictions of “Map widget” saved.")
	s.eventuallyData(t, "tmy", tok.Token, http.StatusOK)
}

func TestProtectedTokensShowWhyTheyCannotBeDeleted(t *testing.T) {
	s := newSite(t)
	tok := tokenFixture(t, s, "Production map")
	tb := openConsole(t, s)
	tb.signIn()
	tb.userlessTokens("Production map")

	tb.click(inToken(tok.ID, `//input[@role="switch"]`))
	tb.waitText("Token “Production map” protected: it cannot be deleted until unprotected.")
	tb.waitFor("the protected badge", fmt.Sprintf(`!!document.querySelector('li[data-token-id=%q] .badge.protected')`, tok.ID))
	var got httpapi.TokenView
	s.must(t, "GET", "/admin/tokens/"+tok.ID, s.apiKey, nil, http.StatusOK, &got)
	if !got.Protected {
		t.Fatal("the switch did not protect the token")
	}

	tb.click(inToken(tok.ID, button("Delete")))
	tb.waitText("is protected: it cannot be deleted.")
	tb.waitText("It was last used ")
	if eval[bool](tb, `[...document.querySelectorAll('dialog[open] button')].some(b => b.textContent.trim() === 'Delete token')`) {
		t.Fatal("the dialog of a protected token offers Delete token")
	}
	tb.screen("token-delete-protected")
	tb.click(inDialog(button("Close")))
	tb.waitFor("the dialog to close", `!document.querySelector('dialog')`)
	if status, _ := s.call(t, "GET", "/admin/tokens/"+tok.ID, s.apiKey, nil); status != http.StatusOK {
		t.Fatalf("the protected token is gone: %d", status)
	}

	// Off again: now Delete asks for the usual confirmation.
	tb.click(inToken(tok.ID, `//input[@role="switch"]`))
	tb.waitText("Token “Production map” no longer protected.")
	tb.click(inToken(tok.ID, button("Delete")))
	tb.waitText("Delete the token “Production map” (…" + tok.Hint + ")?")
	tb.click(inDialog(button("Delete token")))
	tb.waitText("Token “Production map” deleted.")
}

func TestAClonesCardLeadsToItsSourceAndListsSearchByName(t *testing.T) {
	s := newSite(t)
	source := tokenFixture(t, s, "Alpha source")
	var clone httpapi.NewTokenView
	s.must(t, "POST", "/admin/tokens/"+source.ID+"/clone", s.apiKey, map[string]any{"name": "alpha clone"}, http.StatusCreated, &clone)
	s.issue(t, "tmy", map[string]any{"name": "Beta"})
	tb := openConsole(t, s)
	tb.signIn()
	tb.userlessTokens("alpha clone")

	// Name search: a prefix in any case, as the person types.
	// The name search sits level with the status filter beside it.
	if d := eval[float64](tb, `document.querySelector('input[name=name]').getBoundingClientRect().top - document.querySelector('select[name=status]').getBoundingClientRect().top`); d > 1 || d < -1 {
		t.Errorf("the name search sits %v px below the status filter", d)
	}
	tb.typeInto(`input[name="name"]`, "ALPHA")
	tb.waitFor("the two alpha tokens", `(cards => cards.length === 2 && cards.every(c => c.innerText.toLowerCase().includes('alpha')))([...document.querySelectorAll('li[data-token-id]')])`)
	tb.screen("tokens-search")
	tb.typeInto(`input[name="name"]`, "gamma")
	tb.waitText("No tokens match.")
	// Emptied as a person would (typeInto("") fires no input event).
	eval[bool](tb, `(i => (i.value = '', i.dispatchEvent(new Event('input', {bubbles: true})), true))(document.querySelector('input[name=name]'))`)
	tb.waitFor("every token again", `document.querySelectorAll('li[data-token-id]').length === 3`)

	// Cloned from: the clone's card links to the source's own page.
	tb.click(inToken(clone.ID, `//a[contains(@href, "#/tokens/")]`))
	tb.waitFor("the source's page", fmt.Sprintf(`document.querySelector('main h1')?.textContent === 'Token “Alpha source”' && !!document.querySelector('li[data-token-id=%q]')`, source.ID))
	tb.screen("token-page")

	// The page's actions work; a deleted source's page says so.
	s.must(t, "DELETE", "/admin/tokens/"+source.ID, s.apiKey, nil, http.StatusNoContent, nil)
	tb.click(inToken(source.ID, button("Rename")))
	tb.typeInto(`dialog[open] input[name="name"]`, "Renamed")
	tb.click(inDialog(button("Save name")))
	tb.waitFor("the refusal", `!!document.querySelector('dialog[open] [role=alert]')`)
	tb.click(inDialog(button("Cancel")))
	tb.click(link("API"))
	tb.waitFor("the API screen", `!!document.querySelector('.services')`)
	eval[bool](tb, `(history.back(), true)`)
	tb.waitText("This token does not exist any more")
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

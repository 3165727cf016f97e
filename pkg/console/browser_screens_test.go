package console_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/acmedata/tokenservice/pkg/httpapi"
)

// A dialog belongs to the screen that opened it: the browser's Back button
// or a new address closes it, rather than leaving it over another screen.
func TestADialogClosesWhenThePersonLeavesItsScreen(t *testing.T) {
	s := newSite(t)
	tok := tokenFixture(t, s, "Map widget")
	tb := openConsole(t, s)
	tb.signIn()
	tb.userlessTokens("Map widget")

	tb.click(inToken(tok.ID, button("Clone")))
	tb.waitFor("the Clone dialog", `!!document.querySelector('dialog[open]')`)
	eval[bool](tb, `(history.back(), true)`)
	tb.waitFor("the previous screen without the dialog", `!document.querySelector('dialog') && !location.hash.endsWith('/userless')`)

	tb.click(link("Account"))
	tb.waitText("Solar Maps Ltd")
	tb.click(inMain(button("Rotate API key")))
	tb.waitFor("the Rotate dialog", `!!document.querySelector('dialog[open]')`)
	eval[bool](tb, `(location.hash = '#/usage', true)`)
	tb.waitFor("Usage history without the dialog", `!document.querySelector('dialog') && document.querySelector('main h1')?.textContent === 'Usage history'`)
	if status, _ := s.call(t, "GET", "/admin/account", s.apiKey, nil); status != http.StatusOK {
		t.Fatalf("the key answered %d: leaving the dialog rotated it", status)
	}
}

// A token's own page names its user as the lists do, says why it is
// disabled in words (keeping the code), and a userless card does not
// claim a user.
func TestATokensPageNamesItsUserAndWhyItIsDisabled(t *testing.T) {
	s := newSite(t)
	var user httpapi.UserView
	s.must(t, "POST", "/admin/users", s.apiKey, map[string]string{"email": "ada.lovelace@analytical-engines.example.com", "name": "Ada Lovelace"}, http.StatusCreated, &user)
	s.must(t, "PUT", "/admin/services/tmy/users/"+user.ID, s.apiKey, map[string]bool{"active": true}, http.StatusOK, nil)
	tok := s.issue(t, "tmy", map[string]any{"userId": user.ID, "name": "Ada's notebook"})
	s.must(t, "PATCH", "/admin/tokens/"+tok.ID, s.apiKey, map[string]bool{"enabled": false}, http.StatusOK, nil)
	userless := s.issue(t, "tmy", map[string]any{"name": "Public map"})

	tb := openConsole(t, s)
	tb.signIn()
	eval[bool](tb, fmt.Sprintf(`(location.hash = '#/tokens/%s', true)`, tok.ID))
	tb.waitFor("the token's page", fmt.Sprintf(`!!document.querySelector('li[data-token-id=%q]')`, tok.ID))
	card := eval[string](tb, fmt.Sprintf(`document.querySelector('li[data-token-id=%q]').innerText`, tok.ID))
	if !containsAll(card, "Ada Lovelace (ada.lovelace@analytical-engines.example.com)", "disabled: by an admin", "(disabled_by_admin)") || strings.Contains(card, user.ID) {
		t.Errorf("the token's page shows:\n%s\nwant the user's name and email, not their ID, and the reason in words", card)
	}
	tb.screen("token-page-user")

	tb.userlessTokens("Public map")
	terms := eval[[]string](tb, fmt.Sprintf(`[...document.querySelectorAll('li[data-token-id=%q] dt')].map(d => d.textContent)`, userless.ID))
	if slices.Contains(terms, "User") {
		t.Errorf("a userless token's card lists a user: %v", terms)
	}
	tb.screen("service-userless-tokens")
}

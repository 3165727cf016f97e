package console_test

import (
	"fmt"
	"testing"
)

func TestAuditLogShowsARenameWithItsBeforeAndAfter(t *testing.T) {
	s := newSite(t)
	tok := tokenFixture(t, s, "Map widget")
	tb := openConsole(t, s)
	tb.signIn()
	tb.userlessTokens("Map widget")
	tb.click(inToken(tok.ID, button("Rename")))
	tb.typeInto(`dialog[open] input[name="name"]`, "Public map")
	tb.click(inDialog(button("Save name")))
	tb.waitText("Token renamed to “Public map”.")

	tb.click(link("Audit log"))
	row := fmt.Sprintf(`[...document.querySelectorAll('table.audit tbody tr')].find(r => r.innerText.includes('token.update') && r.innerText.includes(%q))`, tok.ID)
	tb.waitFor("the rename's entry", `!!`+row)
	if got := eval[string](tb, row+`.innerText`); !containsAll(got, "API key", "name", "Map widget", "→", "Public map") {
		t.Fatalf("the rename's entry shows:\n%s", got)
	}
	tb.screen("audit")

	// Filters: only this token's updates; an action with none says so.
	tb.typeInto(`input[name="targetId"]`, tok.ID)
	tb.choose(`select[name="action"]`, "token.update")
	tb.click(button("Apply filters"))
	tb.waitFor("the filtered entries", `(rows => rows.length === 1 && rows[0].innerText.includes('token.update'))([...document.querySelectorAll('table.audit tbody tr')])`)
	tb.choose(`select[name="action"]`, "token.delete")
	tb.click(button("Apply filters"))
	tb.waitText("No changes match these filters.")
}

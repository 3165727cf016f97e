package id

import (
	"strings"
	"testing"
)

func TestNewIDsAreValidSortedAndDistinctByKind(t *testing.T) {
	prev := ""
	for range 100 {
		tok := New(Token)
		if !Valid(Token, tok) {
			t.Fatalf("Valid(Token, %q) = false", tok)
		}
		if Valid(User, tok) {
			t.Fatalf("a token ID %q passes as a user ID", tok)
		}
		if tok != strings.ToLower(tok) {
			t.Fatalf("ID %q is not lowercase", tok)
		}
		if tok <= prev {
			t.Fatalf("IDs not increasing: %q after %q", tok, prev)
		}
		prev = tok
	}
}

func TestValidRefusesMalformedIDs(t *testing.T) {
	good := New(Account)
	for _, in := range []string{"", "acc_", good[:len(good)-1], good + "0", "acc_" + strings.Repeat("!", 26), "usr_" + good[4:]} {
		if Valid(Account, in) {
			t.Errorf("Valid(Account, %q) = true", in)
		}
	}
}

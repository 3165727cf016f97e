package secret

// Finding secrets in text: the scanner's rule (FindTokens) and the input
// checks' rule (ContainsSecret). Both rest on the token's check, so a
// digest, a UUID without dashes or any other 32-hex string is ordinary
// text unless its last 8 characters happen to be the CRC-32 of the rest
// (one in 2^32).

// Byte classes for the scanners: what may be part of a word, and which of
// those are lowercase hex.
const (
	classOther    = iota // ends a word
	classLowerHex        // 0-9, a-f
	classAlnum           // any other ASCII letter
)

var byteClass = func() (t [256]uint8) {
	for c := '0'; c <= '9'; c++ {
		t[c] = classLowerHex
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = classAlnum
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = classLowerHex
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = classAlnum
	}
	return t
}()

// TokenPattern is the regular expression other secret scanners can use to
// find candidate tokens; a candidate is a token only if it passes the check
// (IsToken), which leaves near-zero false positives. FindTokens applies
// exactly this rule.
const TokenPattern = `(?:^|[^0-9A-Za-z])([0-9a-f]{32})(?:[^0-9A-Za-z]|$)`

// FindTokens calls found with the offset of every token in text, in order,
// until found returns false. A token here is a run of exactly 32 lowercase
// hex characters that starts and ends at a word boundary (the start or end
// of text, or a byte that is not an ASCII letter or digit) and passes the
// check: what a token looks like pasted into a file, a URL, a ticket or a
// log. It allocates nothing and reads text once.
func FindTokens(text []byte, found func(offset int) bool) {
	n := len(text)
	for i := 0; i < n; {
		if byteClass[text[i]] == classOther {
			i++
			continue
		}
		// A word: a maximal run of ASCII letters and digits.
		start, allHex := i, true
		for ; i < n && byteClass[text[i]] != classOther; i++ {
			allHex = allHex && byteClass[text[i]] == classLowerHex
		}
		if allHex && i-start == TokenLength && validCheck(text[start:i]) && !found(start) {
			return
		}
	}
}

// ContainsSecret reports whether s holds something that may be a secret of
// the service: any 32 consecutive hex characters, of either letter case,
// that pass the token check (wherever they sit, inside a longer run or
// glued to other text), or a run of 40 or more characters of an API key's
// alphabet (A–Z, 2–7: every API key's random part, whatever the
// deployment's prefix). It is stricter than FindTokens on purpose: it
// guards what the service would store and show again, where a false
// positive costs a caller one retyped field and a miss leaks a secret.
func ContainsSecret(s string) bool {
	return containsCheckedHex(s) || containsKeyBody(s)
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func containsCheckedHex(s string) bool {
	for i := 0; i < len(s); {
		if !isHex(s[i]) {
			i++
			continue
		}
		start := i
		for i < len(s) && isHex(s[i]) {
			i++
		}
		for k := start; k+TokenLength <= i; k++ {
			if validCheck([]byte(s[k : k+TokenLength])) {
				return true
			}
		}
	}
	return false
}

func isKeyChar(c byte) bool { return c >= 'A' && c <= 'Z' || c >= '2' && c <= '7' }

func containsKeyBody(s string) bool {
	run := 0
	for i := 0; i < len(s); i++ {
		if !isKeyChar(s[i]) {
			run = 0
			continue
		}
		if run++; run >= apiKeyBodyLength {
			return true
		}
	}
	return false
}

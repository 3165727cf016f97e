package secret

import (
	"encoding/hex"
	"regexp"
	"strings"
	"testing"
)

func mustCompile(t *testing.T, pattern string) *regexp.Regexp {
	t.Helper()
	re, err := regexp.Compile(pattern)
	if err != nil {
		t.Fatal(err)
	}
	return re
}

func hexString(b []byte) string { return hex.EncodeToString(b) }

// sampleText is n bytes of source-like text: lines of words, numbers,
// digests (32 and 64 hex) and, every 4 KiB or so, a token.
func sampleText(n int) []byte {
	var b strings.Builder
	lines := []string{
		"func main() { fmt.Println(\"hello, world\") } // 2026-12-06\n",
		"sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n",
		"etag = \"46a4eccec1414feab118287faafc5c80\"; count := 1024\n",
		"The quick brown fox jumps over the lazy dog, again and again.\n",
	}
	for i := 0; b.Len() < n; i++ {
		if i%64 == 63 {
			b.WriteString("TOKEN=" + NewToken() + "\n")
			continue
		}
		b.WriteString(lines[i%len(lines)])
	}
	return []byte(b.String()[:n])
}

package stack

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/acmedata/tokenservice/pkg/ghscan"
	"github.com/acmedata/tokenservice/pkg/httpapi"
	"github.com/acmedata/tokenservice/pkg/secret"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// githubKey is a P-256 key pair the test makes, published to the stack as
// GitHub's meta endpoint would publish its public half.
type githubKey struct {
	id   string
	priv *ecdsa.PrivateKey
}

func newGitHubKey(t *testing.T, id string) githubKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return githubKey{id: id, priv: priv}
}

// metaDocument is GitHub's public-keys document for keys.
func metaDocument(t *testing.T, keys ...githubKey) string {
	t.Helper()
	type key struct {
		ID      string `json:"key_identifier"`
		Key     string `json:"key"`
		Current bool   `json:"is_current"`
	}
	var doc struct {
		PublicKeys []key `json:"public_keys"`
	}
	for _, k := range keys {
		der, err := x509.MarshalPKIXPublicKey(&k.priv.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		doc.PublicKeys = append(doc.PublicKeys, key{k.id, string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), true})
	}
	b, _ := json.Marshal(doc)
	return string(b)
}

func (k githubKey) sign(t *testing.T, body []byte) string {
	t.Helper()
	digest := sha256.Sum256(body)
	sig, err := ecdsa.SignASN1(rand.Reader, k.priv, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

// postGitHub sends a report as GitHub does: the body, signed.
func (a *api) postGitHub(t *testing.T, keyID, signature string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "POST", a.url+"/leaks/github", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(ghscan.HeaderKeyID, keyID)
	req.Header.Set(ghscan.HeaderSignature, signature)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// TestGitHubReportsAreBelievedOnlyWithAConfiguredKeysSignature: a report
// signed with a configured key disables the live token among its matches
// and answers GitHub's feedback by token hash; one unsigned, signed by
// another key, under an unknown key ID, or whose body changed after
// signing is 401 and changes nothing.
func TestGitHubReportsAreBelievedOnlyWithAConfiguredKeysSignature(t *testing.T) {
	current, old, stranger := newGitHubKey(t, "gh-current"), newGitHubKey(t, "gh-old"), newGitHubKey(t, "gh-current")
	a := newAPIWith(t, func(c *Config) { c.GitHubPublicKeys = metaDocument(t, current, old) })
	acc := a.createAccount(t, "tmy")
	tok := a.issue(t, acc, "tmy", nil)
	unknown := secret.NewToken()
	const digest = "46a4eccec1414feab118287faafc5c80"
	body, _ := json.Marshal([]ghscan.Match{
		{Token: tok.Token, Type: "acmedata_token", URL: "https://github.com/acme/site/blob/abc/app.js", Source: "content"},
		{Token: unknown, Type: "acmedata_token", URL: "https://github.com/acme/site/blob/abc/app.js", Source: "content"},
		{Token: digest, Type: "acmedata_token", URL: "https://github.com/acme/other/commit/def", Source: "commit"},
	})

	for _, tc := range []struct {
		name, keyID, sig string
		body             []byte
	}{
		{"unsigned", "", "", body},
		{"signed by a stranger under a known ID", stranger.id, stranger.sign(t, body), body},
		{"an unknown key ID", "gh-nope", current.sign(t, body), body},
		{"not base64", current.id, "%%%", body},
		{"body changed after signing", current.id, current.sign(t, body), bytes.Replace(body, []byte("acme/site"), []byte("acme/evil"), 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, answer := a.postGitHub(t, tc.keyID, tc.sig, tc.body)
			if status != http.StatusUnauthorized {
				t.Fatalf("answered %d %s, want 401", status, answer)
			}
			wantErrorBody(t, "GitHub report", status, answer)
		})
	}
	if s := a.dataStatus(t, "tmy", tok.Token); s != http.StatusOK {
		t.Fatalf("an unverified report changed the token: %d", s)
	}

	status, answer := a.postGitHub(t, old.id, old.sign(t, body), body)
	if status != http.StatusOK {
		t.Fatalf("a signed report answered %d %s", status, answer)
	}
	if strings.Contains(string(answer), tok.Token) || strings.Contains(string(answer), unknown) {
		t.Fatalf("the feedback holds a token: %s", answer)
	}
	var feedback []ghscan.Feedback
	if err := json.Unmarshal(answer, &feedback); err != nil {
		t.Fatal(err)
	}
	wantFeedback := []ghscan.Feedback{
		{TokenHash: secret.Hash(tok.Token), TokenType: "acmedata_token", Label: ghscan.TruePositive},
		{TokenHash: secret.Hash(unknown), TokenType: "acmedata_token", Label: ghscan.FalsePositive},
		{TokenHash: secret.Hash(digest), TokenType: "acmedata_token", Label: ghscan.FalsePositive},
	}
	if len(feedback) != len(wantFeedback) {
		t.Fatalf("feedback %+v, want %+v", feedback, wantFeedback)
	}
	for i := range wantFeedback {
		if feedback[i] != wantFeedback[i] {
			t.Fatalf("feedback[%d] = %+v, want %+v", i, feedback[i], wantFeedback[i])
		}
	}
	if s := a.dataStatus(t, "tmy", tok.Token); s != http.StatusUnauthorized {
		t.Fatalf("a token GitHub reported answered %d", s)
	}
	view := a.getToken(t, acc, tok.ID)
	if view.DisabledReason == nil || *view.DisabledReason != string(tokens.DisabledExposed) {
		t.Fatalf("the reported token reads %+v", view)
	}
	audit := want[httpapi.List[httpapi.AuditEntryView]](t, a.call(t, "GET", "/admin/audit?action=token.expose", acc.Key, nil), http.StatusOK)
	if len(audit.Items) != 1 || audit.Items[0].Actor.Principal != "github-secret-scanning" || audit.Items[0].Report == nil ||
		audit.Items[0].Report.Source != "github" || audit.Items[0].Report.URL != "https://github.com/acme/site/blob/abc/app.js" {
		t.Fatalf("the audit log reads %+v", audit.Items)
	}
	a.assertNoSecretInLogs(t, tok.Token, unknown)
}

// TestGitHubReportsAreRefusedWhenNoKeyIsConfigured: without GitHub's keys
// the endpoint believes nothing.
func TestGitHubReportsAreRefusedWhenNoKeyIsConfigured(t *testing.T) {
	a := newAPI(t)
	k := newGitHubKey(t, "gh")
	body := []byte(`[{"token":"` + secret.NewToken() + `","type":"t","url":"https://github.com/a/b","source":"content"}]`)
	if status, answer := a.postGitHub(t, k.id, k.sign(t, body), body); status != http.StatusUnauthorized {
		t.Fatalf("answered %d %s, want 401", status, answer)
	}
}

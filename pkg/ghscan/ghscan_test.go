package ghscan

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"testing"
)

func pemOf(t *testing.T, pub any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func doc(t *testing.T, keys map[string]string) string {
	t.Helper()
	type key struct {
		ID  string `json:"key_identifier"`
		Key string `json:"key"`
	}
	var d struct {
		PublicKeys []key `json:"public_keys"`
	}
	for id, k := range keys {
		d.PublicKeys = append(d.PublicKeys, key{id, k})
	}
	b, _ := json.Marshal(d)
	return string(b)
}

func sign(t *testing.T, k *ecdsa.PrivateKey, body []byte) string {
	t.Helper()
	sum := sha256.Sum256(body)
	sig, err := ecdsa.SignASN1(rand.Reader, k, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

// TestVerifyBelievesOnlyTheNamedConfiguredKeyOverTheExactBody covers
// every way a request can fail to be GitHub's.
func TestVerifyBelievesOnlyTheNamedConfiguredKeyOverTheExactBody(t *testing.T) {
	k1, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	k2, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	v, err := ParseKeys(doc(t, map[string]string{"one": pemOf(t, &k1.PublicKey), "two": pemOf(t, &k2.PublicKey)}))
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`[{"token":"x","type":"t","url":"https://github.com/a/b","source":"content"}]`)
	for _, tc := range []struct {
		name, keyID, sig string
		body             []byte
		ok               bool
	}{
		{"first key", "one", sign(t, k1, body), body, true},
		{"second key", "two", sign(t, k2, body), body, true},
		{"the other key's signature", "one", sign(t, k2, body), body, false},
		{"unknown key ID", "three", sign(t, k1, body), body, false},
		{"no signature", "one", "", body, false},
		{"not base64", "one", "***", body, false},
		{"body changed", "one", sign(t, k1, body), append([]byte(" "), body...), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := v.Verify(tc.keyID, tc.sig, tc.body)
			if (err == nil) != tc.ok || err != nil && !errors.Is(err, ErrBadSignature) {
				t.Fatalf("Verify = %v, want ok=%v", err, tc.ok)
			}
		})
	}
	var none *Verifier
	if none.Verify("one", sign(t, k1, body), body) == nil {
		t.Fatal("a nil Verifier believed a request")
	}
}

func TestParseKeysRefusesWhatIsNotGitHubsDocument(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 1024)
	for _, tc := range []struct{ name, raw string }{
		{"not JSON", "{"},
		{"no keys", `{"public_keys":[]}`},
		{"no PEM", doc(t, map[string]string{"one": "hello"})},
		{"an RSA key", doc(t, map[string]string{"one": pemOf(t, &rsaKey.PublicKey)})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseKeys(tc.raw); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	if v, err := ParseKeys(""); v != nil || err != nil {
		t.Fatalf("ParseKeys(\"\") = %v, %v; want no verifier and no error", v, err)
	}
}

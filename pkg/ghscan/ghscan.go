// Package ghscan is the service's side of GitHub's secret scanning partner
// program: GitHub finds strings matching the token pattern in public
// repositories and POSTs them to the deployment's /leaks/github, signed
// with an ECDSA P-256 key whose public half GitHub publishes
// (https://api.github.com/meta/public_keys/secret_scanning). The
// deployment is configured with those public keys (EnvPublicKeys, the
// meta endpoint's JSON as it is); a request is believed only if its
// Github-Public-Key-Signature verifies over the exact body with the key
// its Github-Public-Key-Identifier names.
//
// The answer is GitHub's feedback format: per match, the SHA-256 of the
// token (token_hash, never the token), its type and a label saying
// whether it was one of the deployment's tokens.
package ghscan

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
)

// EnvPublicKeys holds GitHub's secret scanning public keys, as
// https://api.github.com/meta/public_keys/secret_scanning answers them.
// Unset, the deployment takes no reports from GitHub.
const EnvPublicKeys = "GITHUB_SECRET_SCANNING_KEYS"

// Headers GitHub signs its requests with.
const (
	HeaderKeyID     = "Github-Public-Key-Identifier"
	HeaderSignature = "Github-Public-Key-Signature"
)

// ErrBadSignature is a request whose signature does not verify with a
// configured key (or names none, or is not a signature at all).
var ErrBadSignature = errors.New("ghscan: the request is not signed by a configured GitHub key")

// Verifier checks GitHub's signatures against the configured public keys.
type Verifier struct {
	keys map[string]*ecdsa.PublicKey
}

// metaKeys is GitHub's public-keys document.
type metaKeys struct {
	PublicKeys []struct {
		KeyIdentifier string `json:"key_identifier"`
		Key           string `json:"key"`
	} `json:"public_keys"`
}

// ParseKeys reads GitHub's public-keys document (its JSON as the meta
// endpoint answers it). Every key must be an ECDSA public key in PEM; ""
// answers a nil Verifier: no keys, no reports.
func ParseKeys(raw string) (*Verifier, error) {
	if raw == "" {
		return nil, nil
	}
	var doc metaKeys
	if err := json.Unmarshal([]byte(raw), &doc); err != nil {
		return nil, fmt.Errorf("%s: not GitHub's public-keys document: %w", EnvPublicKeys, err)
	}
	v := &Verifier{keys: make(map[string]*ecdsa.PublicKey, len(doc.PublicKeys))}
	for i, k := range doc.PublicKeys {
		block, _ := pem.Decode([]byte(k.Key))
		if block == nil || k.KeyIdentifier == "" {
			return nil, fmt.Errorf("%s: public_keys[%d] has no identifier or no PEM key", EnvPublicKeys, i)
		}
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: public_keys[%d]: %w", EnvPublicKeys, i, err)
		}
		ec, ok := pub.(*ecdsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("%s: public_keys[%d] is not an ECDSA key", EnvPublicKeys, i)
		}
		v.keys[k.KeyIdentifier] = ec
	}
	if len(v.keys) == 0 {
		return nil, fmt.Errorf("%s: no public keys", EnvPublicKeys)
	}
	return v, nil
}

// Verify checks signature (base64 of an ASN.1 ECDSA signature, as GitHub
// sends it) over the SHA-256 of body with the key keyID names.
func (v *Verifier) Verify(keyID, signature string, body []byte) error {
	if v == nil {
		return ErrBadSignature
	}
	key, ok := v.keys[keyID]
	if !ok {
		return ErrBadSignature
	}
	sig, err := base64.StdEncoding.DecodeString(signature)
	if err != nil {
		return ErrBadSignature
	}
	digest := sha256.Sum256(body)
	if !ecdsa.VerifyASN1(key, digest[:], sig) {
		return ErrBadSignature
	}
	return nil
}

// Match is one string GitHub found: the token, the type it matched as,
// and where (url) in what (source: "content", "commit", ...).
type Match struct {
	Token  string `json:"token"`
	Type   string `json:"type"`
	URL    string `json:"url"`
	Source string `json:"source"`
}

// Labels of GitHub's feedback.
const (
	TruePositive  = "true_positive"
	FalsePositive = "false_positive"
)

// Feedback is GitHub's feedback for one match: by the token's SHA-256,
// never the token.
type Feedback struct {
	TokenHash string `json:"token_hash"`
	TokenType string `json:"token_type"`
	Label     string `json:"label"`
}

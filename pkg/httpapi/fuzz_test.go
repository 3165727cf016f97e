package httpapi

import (
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// everyKind has a field of each kind the routes' bodies use.
type everyKind struct {
	Name     *string         `json:"name"`
	Active   *bool           `json:"active"`
	Seconds  *int64          `json:"revokeSourceAfterSeconds"`
	Services *[]string       `json:"services"`
	Settings *map[string]any `json:"settings"`
}

// FuzzDecode: any body, base64 or not, decodes or is a 400/413 whose
// message never repeats a member name the caller chose.
func FuzzDecode(f *testing.F) {
	f.Add(`{"name":"a","active":true,"revokeSourceAfterSeconds":1,"services":["tmy"],"settings":{"a":1}}`, false, "tka_secretsecretsecret")
	f.Add(`{"name":"a","name":"b"}`, false, "Name")
	f.Add(`e30=`, true, "x")
	f.Add(`null`, false, "x")
	f.Add(" \n ", false, "x")
	f.Add(`bnVsbA==`, true, "x")
	f.Add("{\"name\":\"\xff\"}", false, "46a4eccec1414feab118287f5af26f03")
	f.Fuzz(func(t *testing.T, body string, isBase64 bool, member string) {
		for _, b := range []string{body, `{"` + member + `":1}`, `{"name":"a",` + `"` + member + `":{"x":[1,2]}}`} {
			var v everyKind
			err := Decode(events.APIGatewayProxyRequest{Body: b, IsBase64Encoded: isBase64 && b == body}, &v)
			if err == nil {
				continue
			}
			status, code, msg := Classify(err)
			if status != http.StatusBadRequest && status != http.StatusRequestEntityTooLarge || code == "" || msg == "" {
				t.Fatalf("Decode(%q) = %d %s %q", b, status, code, msg)
			}
			if len(member) >= 8 && !strings.Contains(everyKindNames, member) && strings.Contains(msg, member) {
				t.Fatalf("Decode(%q) repeats the member name: %s", b, msg)
			}
		}
	})
}

// everyKindNames is what a message may name: the fields of everyKind.
var everyKindNames = strings.Join(fieldNames(&everyKind{}), ", ") + " (names are case-sensitive)"

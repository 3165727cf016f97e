// Package functions holds one main package per Lambda function; this test
// guards the line between what those functions ship and the code that only
// runs on a laptop or in tests.
package functions

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/acmedata/tokenservice/"

// notShipped are the trees of pkg/ that exist for the local stack and the
// tests alone; a deployed function must never link them.
var notShipped = []string{module + "pkg/local/", module + "pkg/testkit/"}

func TestDeployedFunctionsLinkNoLocalOrTestPackages(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps ./functions/...: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps listed only %d packages: %q", len(deps), deps)
	}
	ours := 0
	for _, pkg := range deps {
		if !strings.HasPrefix(pkg, module) {
			continue
		}
		ours++
		for _, banned := range notShipped {
			if strings.HasPrefix(pkg, banned) {
				t.Errorf("a deployed function links %s", pkg)
			}
		}
	}
	if ours == 0 {
		t.Fatal("go list -deps found none of this module's packages: the test looks in the wrong place")
	}
}

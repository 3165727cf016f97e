package memstore_test

import (
	"testing"

	"github.com/acmedata/tokenservice/pkg/testkit/memstore"
	"github.com/acmedata/tokenservice/pkg/testkit/storesuite"
)

func TestStore(t *testing.T) {
	storesuite.Run(t, func(*testing.T) (storesuite.Store, storesuite.Faults) {
		s := memstore.New()
		return s, s
	})
}

package memstore_test

import (
	"testing"

	"github.com/acmedata/tokenservice/pkg/memstore"
	"github.com/acmedata/tokenservice/pkg/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(*testing.T) storetest.Store { return memstore.New() })
}

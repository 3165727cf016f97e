package authz_test

import (
	"github.com/acmedata/tokenservice/pkg/dynamostore"
	"github.com/acmedata/tokenservice/pkg/keyauth"
	"github.com/acmedata/tokenservice/pkg/testkit/memstore"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

// The stores the mains and the local stack hand to the authorizers fit the
// interfaces the authorizers declare.
var (
	_ tokens.CredentialStore = (*dynamostore.Store)(nil)
	_ tokens.CredentialStore = (*memstore.Store)(nil)
	_ keyauth.KeyOwnerReader = (*dynamostore.Store)(nil)
	_ keyauth.KeyOwnerReader = (*memstore.Store)(nil)
)

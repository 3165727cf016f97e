package stack

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/acmedata/tokenservice/pkg/routes"
	"github.com/acmedata/tokenservice/pkg/schema"
)

// Functions that serve no route.
const (
	keyAuthorizer = "keyauthorizer" // the API-key REQUEST authorizer
	recorder      = "recorder"      // the usage recorder behind the access log
	sweeper       = "sweeper"       // removes deleted users' token items, on a schedule
)

// access is what a function may do to a table.
type access int

const (
	read access = iota + 1
	readWrite
)

// grant is one table a function uses.
type grant struct {
	table  schema.Table
	access access
}

func (g grant) apply(t awsdynamodb.Table, to awsiam.IGrantable) {
	switch g.access {
	case read:
		t.GrantReadData(to)
	case readWrite:
		t.GrantReadWriteData(to)
	}
}

// planAccess is what a function may do to API Gateway's usage plans and
// API keys (the plans engine, pkg/apigwplans).
type planAccess int

const (
	planRead  planAccess = iota + 1 // GetUsage and the look-ups before it
	planWrite                       // and the reconciler's creates, updates and deletes
)

// function is one directory under functions/ and what it may touch.
type function struct {
	name      string
	grants    []grant
	plans     planAccess      // 0: no access to the plans engine
	memoryMiB float64         // 0: gofn's default
	timeout   awscdk.Duration // nil: gofn's default
}

// id is the construct ID: "keyauthorizer" becomes "KeyauthorizerFunction".
func (f function) id() string { return strings.ToUpper(f.name[:1]) + f.name[1:] + "Function" }

// functions lists every function the stack deploys besides the token
// authorizer (tokenauth deploys that one) with least-privilege grants.
var functions = []function{
	{name: string(routes.Issue), grants: []grant{{schema.Core, readWrite}}},
	{name: string(routes.Clone), grants: []grant{{schema.Core, readWrite}}},
	// Admins read their quota use (GetUsage); operators' plan changes are
	// reconciled inline, best effort.
	{name: string(routes.Manage), grants: []grant{{schema.Core, readWrite}}, plans: planRead},
	{name: string(routes.Operator), grants: []grant{{schema.Core, readWrite}}, plans: planWrite},
	{name: string(routes.Health), grants: []grant{{schema.Core, read}}},
	{name: string(routes.Usage), grants: []grant{{schema.Usage, read}}},
	// The demo backend trusts the authorizer's context and reads no table.
	{name: string(routes.Data)},
	// The console serves files embedded in its binary and reads no table.
	{name: string(routes.Console)},
	{name: keyAuthorizer, grants: []grant{{schema.Core, read}}},
	// The sweeper deletes the token items of deleted users (Query and
	// transactions on the core table), for up to 5 minutes a run,
	// and reconciles pending plan changes with API Gateway every minute.
	{name: sweeper, grants: []grant{{schema.Core, readWrite}}, plans: planWrite, timeout: awscdk.Duration_Minutes(jsii.Number(5))},
	// The recorder writes usage items and each token's lastUsedAt; a
	// 10,000-line batch needs more than an API call's time and memory.
	{
		name:      recorder,
		grants:    []grant{{schema.Usage, readWrite}, {schema.Core, readWrite}},
		memoryMiB: 512,
		timeout:   awscdk.Duration_Minutes(jsii.Number(2)),
	},
}

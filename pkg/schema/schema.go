// Package schema describes the service's DynamoDB tables once. The CDK stack
// (infra/) and the local stack (table creation on DynamoDB Local) both build
// their tables from these values, so the two can never drift apart.
//
// Every key attribute is a string. The item layouts that live in these
// tables are documented in docs/data-model.md and implemented by
// pkg/dynamostore.
package schema

// Index is a secondary index: a local one has no PartitionKey of its own.
type Index struct {
	Name         string
	PartitionKey string // empty for a local secondary index
	SortKey      string
}

// Table describes one table.
type Table struct {
	// ID is the table's logical name: the CDK construct ID and the suffix of
	// its local name.
	ID string
	// EnvVar is the environment variable that carries the physical table
	// name to functions and tools.
	EnvVar        string
	PartitionKey  string
	SortKey       string
	LocalIndexes  []Index
	GlobalIndexes []Index
	// TTLAttribute, if set, is the epoch-seconds attribute DynamoDB's native
	// TTL deletes items by.
	TTLAttribute string
}

// Index and attribute names of the core table.
const (
	CoreByService = "byService"
	CoreByUser    = "byUser"
	CoreByName    = "byName"
	// CoreByState and CoreByType list a service's tokens by state (on,
	// expiring, expired, off) and key generation, so that a status filter
	// reads a key range, never the tokens it leaves out
	// (docs/data-model.md, "Token listings").
	CoreByState = "byState"
	CoreByType  = "byType"
	// CoreExpiring holds the enabled tokens with an expiry that the sweep
	// has yet to move to the expired state, by expiry time: global,
	// because the sweep finds them across accounts.
	CoreExpiring = "expiring"
	// CoreAccounts and CoreAccountsByName list every account (operators'
	// search), newest first and by name: global, because accounts live
	// in partitions of their own.
	CoreAccounts       = "accounts"
	CoreAccountsByName = "accountsByName"
	// CoreAuditByTarget lists an account's audit entries about one
	// target (a token, a user, the account), newest first.
	CoreAuditByTarget = "auditByTarget"
	// CoreTTL is the epoch-seconds attribute native TTL deletes core items
	// by: only audit entries carry it (400 days after their time).
	CoreTTL = "ttl"
)

// Core holds accounts, users, email claims, tokens, the lookup items the
// authorizers read (by token hash, by API key hash, by token ID) and the
// accounts' audit logs, which commit in the same transactions as the
// changes they record.
var Core = Table{
	ID:           "Core",
	EnvVar:       "CORE_TABLE",
	PartitionKey: "pk",
	SortKey:      "sk",
	// Local indexes, unlike global ones, can be read with strong
	// consistency: a token appears in its service's listing the moment the
	// create call returns.
	LocalIndexes: []Index{
		{Name: CoreByService, SortKey: "svcSk"},
		{Name: CoreByUser, SortKey: "userSk"},
		{Name: CoreByName, SortKey: "nameSk"},
		{Name: CoreByState, SortKey: "stateSk"},
		{Name: CoreByType, SortKey: "typeSk"},
	},
	GlobalIndexes: []Index{
		{Name: CoreAccounts, PartitionKey: "listPk", SortKey: "listSk"},
		{Name: CoreAccountsByName, PartitionKey: "listPk", SortKey: "listNameSk"},
		{Name: CoreAuditByTarget, PartitionKey: "auditTargetPk", SortKey: "sk"},
		{Name: CoreExpiring, PartitionKey: "expiryPk", SortKey: "expirySk"},
	},
	TTLAttribute: CoreTTL,
}

// Index names of the usage table.
const (
	UsageByToken = "byToken"
	UsageByUser  = "byUser"
)

// Usage holds the seven-day usage history, deleted by native TTL, and the
// 90-day hourly counts. A record item packs the calls of one token in one
// minute of one delivery; its partition keys are the account (plus the
// token or user) and a write shard, its sort key the minute then the
// pack's ID, so each query reads one account's calls newest first within
// a time window. The layout, the cost and the sharding argument are in
// docs/usage.md and pkg/usagestore.
var Usage = Table{
	ID:           "Usage",
	EnvVar:       "USAGE_TABLE",
	PartitionKey: "pk",
	SortKey:      "sk",
	GlobalIndexes: []Index{
		{Name: UsageByToken, PartitionKey: "tokenPk", SortKey: "sk"},
		{Name: UsageByUser, PartitionKey: "userPk", SortKey: "sk"},
	},
	TTLAttribute: "expiresAt",
}

// All lists every table.
var All = []Table{Core, Usage}

// LocalName is a table's physical name on the local stack and in tests:
// prefix plus the logical ID (on AWS, CloudFormation generates names).
func LocalName(prefix string, t Table) string { return prefix + t.ID }

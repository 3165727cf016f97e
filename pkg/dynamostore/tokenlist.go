package dynamostore

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acmedata/tokenservice/pkg/paging"
	"github.com/acmedata/tokenservice/pkg/schema"
	"github.com/acmedata/tokenservice/pkg/tokens"
)

const (
	indexByState = schema.CoreByState
	indexByType  = schema.CoreByType
)

// allGenerations is a tokenRange's upper bound when it has none.
const allGenerations = math.MaxInt64

// tokenRange is one key range of a token listing index: the tokens of one
// scope and state (prefix) whose key generation is in [fromGen, toGen].
type tokenRange struct {
	prefix         string
	fromGen, toGen int64
}

// bounds are the range's first and last sort keys, narrowed to the order
// keys after (descending) or before (ascending) the cursor's, if any; ok
// is false when nothing is left of it.
func (r tokenRange) bounds(cursor string, forward bool) (lower, upper string, ok bool) {
	if r.toGen < r.fromGen {
		return "", "", false
	}
	lower, upper = r.prefix+fmt.Sprintf("%010d#", r.fromGen), r.prefix+"~"
	if r.toGen != allGenerations {
		upper = r.prefix + fmt.Sprintf("%010d#~", r.toGen)
	}
	switch at := r.prefix + cursor; {
	case cursor == "":
	case forward:
		lower = max(lower, at)
	default:
		upper = min(upper, at)
	}
	return lower, upper, lower <= upper
}

// tokenListing reads a token listing as a merge of key ranges of one index,
// in order-key order (newest first unless forward): a range costs the
// items it holds up to the page, so a status the account's dead tokens do
// not have never reads them. keep is the check in Go of what the key
// ranges only bound: the status at the listing's clock (an expiring token
// whose time passed since the last sweep is still in the expiring range).
type tokenListing struct {
	index, sortAttr string
	ranges          []tokenRange
	forward         bool
	keep            func(tokens.Token) bool
	// pageOnly: the caller wants the page alone (the default token), not
	// to learn whether another follows, which may cost one more read.
	pageOnly bool
	// scope binds cursors to the listing: the index, the ranges' scope
	// and the filters.
	scope []string
}

// cursorOrderKey is the shape of an order key (orderKey) in a cursor.
var cursorOrderKey = regexp.MustCompile(`^[0-9]{10}#[0-9A-Za-z_]{1,64}$`)

// tokensFor plans the listing of f: its index (the narrowest scope of the
// filters) and its key ranges (the states and key generations f.Status
// selects at f.KeyGeneration). A name search is not one of them (it reads
// byName in name order: nameListing).
func tokensFor(f tokens.TokenFilter) tokenListing {
	l := tokenListing{index: indexByState, sortAttr: attrStateSK, keep: func(tokens.Token) bool { return true }}
	scope := stateScope(f.Service)
	switch {
	case f.UserID != "":
		l.index, l.sortAttr, scope = indexByUser, attrUserSK, userScope(f.UserID, f.Service)
	case f.Type != "":
		l.index, l.sortAttr, scope = indexByType, attrTypeSK, typeScope(f.Service, f.Type)
	case f.Status == "":
		// Every token of the service: one range of byService.
		l.index, l.sortAttr = indexByService, attrSvcSK
		l.ranges = []tokenRange{{prefix: scope, toGen: allGenerations}}
	}
	l.scope = []string{l.index, scope, string(f.Type), string(f.Status)}
	if l.ranges != nil {
		return l
	}
	in := func(state string, from, to int64) tokenRange {
		return tokenRange{prefix: scope + state + "#", fromGen: from, toGen: to}
	}
	current, older := f.KeyGeneration, f.KeyGeneration-1
	switch f.Status {
	case tokens.StatusActive:
		l.ranges = []tokenRange{in(stateOn, current, allGenerations), in(stateExpiring, current, allGenerations)}
	case tokens.StatusExpired:
		l.ranges = []tokenRange{in(stateExpired, current, allGenerations), in(stateExpiring, current, allGenerations)}
	case tokens.StatusDisabled:
		// Disabled by an admin, or enabled under a replaced key (rule 7).
		l.ranges = []tokenRange{
			in(stateOff, 0, allGenerations), in(stateOn, 0, older), in(stateExpiring, 0, older), in(stateExpired, 0, older),
		}
	default:
		for _, state := range []string{stateOn, stateExpiring, stateExpired, stateOff} {
			l.ranges = append(l.ranges, in(state, 0, allGenerations))
		}
	}
	if f.Status != "" {
		l.keep = func(t tokens.Token) bool { return t.UnderKey(f.KeyGeneration).Status(f.Now) == f.Status }
	}
	return l
}

// listed is a token with its order key.
type listed struct {
	order string
	token tokens.Token
}

// rangeReader reads one key range lazily: its first Query asks for its
// share of the page, each later one for as many items as the page still
// lacks (and one more), so the ranges together read about a page ahead,
// not a page each.
type rangeReader struct {
	in      *dynamodb.QueryInput
	prefix  string
	cursor  string // the order key to skip: the previous page's last
	buf     []listed
	done    bool
	queried bool
}

// head is the range's next token that the listing keeps, or nil at its
// end; want is how many items the page (and its look-ahead) still lacks.
func (rr *rangeReader) head(ctx context.Context, s *Store, l tokenListing, want int) (*listed, error) {
	for len(rr.buf) == 0 && !rr.done {
		if rr.queried {
			rr.in.Limit = aws.Int32(int32(max(want, 1)))
		}
		rr.queried = true
		res, err := s.db.Query(ctx, rr.in)
		if err != nil {
			return nil, storeErr(err)
		}
		for _, raw := range res.Items {
			order := strings.TrimPrefix(stringAttr(raw[l.sortAttr]), rr.prefix)
			if order == rr.cursor {
				continue
			}
			var it tokenItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return nil, fmt.Errorf("decode token: %w", err)
			}
			t, err := it.token()
			if err != nil {
				return nil, err
			}
			if l.keep(t) {
				rr.buf = append(rr.buf, listed{order, t})
			}
		}
		rr.in.ExclusiveStartKey, rr.done = res.LastEvaluatedKey, res.LastEvaluatedKey == nil
	}
	if len(rr.buf) == 0 {
		return nil, nil
	}
	return &rr.buf[0], nil
}

// listTokens reads one page of l: each range from the cursor on, at most a
// page (and one more, to know whether another page follows) at a time,
// merged on the order key.
func (s *Store) listTokens(ctx context.Context, accountID string, l tokenListing, page paging.Request) (paging.Page[tokens.Token], error) {
	scope := paging.Scope(append([]string{accountID}, l.scope...)...)
	var cursor string
	if page.Cursor != "" {
		keys, err := paging.DecodeCursor(page.Cursor, scope, 1)
		if err != nil {
			return paging.Page[tokens.Token]{}, err
		}
		if cursor = keys[0]; !cursorOrderKey.MatchString(cursor) {
			return paging.Page[tokens.Token]{}, paging.ErrBadCursor
		}
	}
	limit := max(page.Limit, 1)
	keyCond := "#pk = :pk AND #" + l.sortAttr + " BETWEEN :lower AND :upper"
	var readers []*rangeReader
	share := (limit + len(l.ranges)) / max(len(l.ranges), 1) // (limit+1)/ranges, rounded up
	for _, r := range l.ranges {
		lower, upper, ok := r.bounds(cursor, l.forward)
		if !ok {
			continue
		}
		readers = append(readers, &rangeReader{prefix: r.prefix, cursor: cursor, in: &dynamodb.QueryInput{
			TableName: &s.table, IndexName: aws.String(l.index), ConsistentRead: aws.Bool(true),
			KeyConditionExpression: &keyCond, ExpressionAttributeNames: exprNames(nil, keyCond),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": str(accountPK(accountID)), ":lower": str(lower), ":upper": str(upper),
			},
			ScanIndexForward: aws.Bool(l.forward), Limit: aws.Int32(int32(share)),
		}})
	}
	var out paging.Page[tokens.Token]
	for {
		if len(out.Items) == limit && l.pageOnly {
			return out, nil
		}
		var next *rangeReader
		var nextHead *listed
		for _, rr := range readers {
			h, err := rr.head(ctx, s, l, limit+1-len(out.Items))
			if err != nil {
				return paging.Page[tokens.Token]{}, err
			}
			if h != nil && (nextHead == nil || (h.order < nextHead.order) == l.forward) {
				next, nextHead = rr, h
			}
		}
		if next == nil {
			return out, nil
		}
		if len(out.Items) == limit { // a further token: there is a next page
			last := out.Items[limit-1]
			out.NextCursor = paging.EncodeCursor(scope, orderKey(last))
			return out, nil
		}
		out.Items = append(out.Items, nextHead.token)
		next.buf = next.buf[1:]
	}
}

// activeNow is the listing of f.Service's active tokens, oldest first: the
// default token is its first.
func activeNow(f tokens.TokenFilter) tokenListing {
	f.Status, f.Type, f.UserID = tokens.StatusActive, "", ""
	l := tokensFor(f)
	l.forward, l.pageOnly = true, true
	return l
}

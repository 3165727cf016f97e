package usage

import (
	"bytes"
	"encoding/csv"
	"net/url"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/acmedata/tokenservice/pkg/httpapi"
	"github.com/acmedata/tokenservice/pkg/paging"
	"github.com/acmedata/tokenservice/pkg/usage"
)

// csvHeader is the header row of a CSV page: the fields of RecordView.
var csvHeader = []string{"time", "requestId", "tokenId", "userId", "service", "method", "path", "query", "status", "latencyMs", "sourceIp"}

// csvPage renders one page of records as RFC 4180 CSV (CRLF line ends,
// quoting by encoding/csv), with the next page's address in a Link header
// (RFC 8288), so a spreadsheet user or a script can follow it to the end.
func csvPage(req events.APIGatewayProxyRequest, p paging.Page[usage.Record]) httpapi.Text {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	_ = w.Write(csvHeader) // a bytes.Buffer does not fail
	for _, r := range p.Items {
		v := Record(r)
		user := ""
		if v.UserID != nil {
			user = *v.UserID
		}
		_ = w.Write([]string{
			v.Time, v.RequestID, v.TokenID, user, cell(v.Service), v.Method, cell(v.Path), cell(v.Query),
			strconv.Itoa(v.Status), strconv.FormatInt(v.LatencyMs, 10), v.SourceIP,
		})
	}
	w.Flush()
	t := httpapi.Text{
		ContentType: "text/csv; charset=utf-8; header=present",
		Headers:     map[string]string{"Content-Disposition": `attachment; filename="usage.csv"`},
		Body:        buf.String(),
	}
	if p.NextCursor != "" {
		t.Headers["Link"] = "<" + nextURL(req, p.NextCursor) + `>; rel="next"`
	}
	return t
}

// cell keeps a spreadsheet from reading a caller-chosen value as a
// formula (OWASP's CSV injection advice): a leading = + - @ tab or CR is
// preceded by an apostrophe.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// nextURL is the request's own address, stage included, with the cursor
// of the next page.
func nextURL(req events.APIGatewayProxyRequest, cursor string) string {
	q := url.Values{}
	for k, vs := range req.MultiValueQueryStringParameters {
		q[k] = vs
	}
	for k, v := range req.QueryStringParameters {
		if _, ok := q[k]; !ok {
			q.Set(k, v)
		}
	}
	q.Set("cursor", cursor)
	path := req.RequestContext.Path // holds the stage on an execute-api address
	if path == "" {
		path = req.Path
	}
	return path + "?" + q.Encode()
}

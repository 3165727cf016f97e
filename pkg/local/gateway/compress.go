package gateway

import (
	"compress/gzip"
	"net/http"
	"strconv"
	"strings"

	"github.com/acmedata/tokenservice/pkg/routes"
)

// compressing answers w as API Gateway answers with minimumCompressionSize
// set (routes.MinimumCompressionSize): a function's answer of at least that
// many bytes is gzipped when the request accepts gzip and the function did
// not encode it itself.
func compressing(w http.ResponseWriter, r *http.Request) http.ResponseWriter {
	if !acceptsGzip(r.Header.Values("Accept-Encoding")) {
		return w
	}
	return &gzipWriter{ResponseWriter: w, status: http.StatusOK}
}

// gzipWriter decides at the body's one Write (writeProxyResponse writes the
// whole answer at once), when the size is known.
type gzipWriter struct {
	http.ResponseWriter
	status int
}

func (g *gzipWriter) WriteHeader(status int) { g.status = status }

func (g *gzipWriter) Write(body []byte) (int, error) {
	h := g.ResponseWriter.Header()
	h.Add("Vary", "Accept-Encoding")
	if len(body) < routes.MinimumCompressionSize || h.Get("Content-Encoding") != "" {
		g.ResponseWriter.WriteHeader(g.status)
		return g.ResponseWriter.Write(body)
	}
	h.Set("Content-Encoding", "gzip")
	h.Del("Content-Length")
	g.ResponseWriter.WriteHeader(g.status)
	zw := gzip.NewWriter(g.ResponseWriter)
	if _, err := zw.Write(body); err != nil {
		return 0, err
	}
	return len(body), zw.Close()
}

// acceptsGzip reads Accept-Encoding: gzip (or *) with a q-value above 0.
func acceptsGzip(values []string) bool {
	for _, v := range values {
		for _, item := range strings.Split(v, ",") {
			coding, params, _ := strings.Cut(strings.TrimSpace(item), ";")
			coding = strings.ToLower(strings.TrimSpace(coding))
			if coding != "gzip" && coding != "*" {
				continue
			}
			if q, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
				if f, err := strconv.ParseFloat(q, 64); err != nil || f <= 0 {
					continue
				}
			}
			return true
		}
	}
	return false
}

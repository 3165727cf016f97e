package authz

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/acmedata/tokenservice/pkg/routes"
)

// EnvRouteServices names the environment variable that maps a deployer's
// own routes to the service they serve, as a JSON object keyed by
// "METHOD /resource/template": {"GET /reports/{proxy+}":"tmy"}.
const EnvRouteServices = "ROUTE_SERVICES"

// ServiceParam names the path parameter that carries the target service in
// the demo data routes.
const ServiceParam = "service"

// RoutesInCatalogue checks that every route of m maps to a service of the
// catalogue: a mapping to any other service could never allow a call.
func RoutesInCatalogue(m map[string]string, catalogue []string) error {
	var errs []error
	for route, service := range m {
		if !slices.Contains(catalogue, service) {
			errs = append(errs, fmt.Errorf("authz: route %q maps to %q, which is not in the catalogue", route, service))
		}
	}
	return errors.Join(errs...)
}

// ParseRouteServices reads the value of EnvRouteServices; "" is no routes.
func ParseRouteServices(raw string) (map[string]string, error) {
	if strings.TrimSpace(raw) == "" {
		return map[string]string{}, nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return nil, fmt.Errorf("%s: %w", EnvRouteServices, err)
	}
	return m, ValidateRouteServices(m)
}

// ValidateRouteServices checks a route-to-service map: every key is
// "METHOD /resource" and every value a service ID.
func ValidateRouteServices(m map[string]string) error {
	for route, service := range m {
		method, path, ok := strings.Cut(route, " ")
		if !ok || method == "" || method != strings.ToUpper(method) || !strings.HasPrefix(path, "/") {
			return fmt.Errorf("authz: route %q is not \"METHOD /resource\"", route)
		}
		if service == "" || strings.ContainsAny(service, "/*? ") {
			return fmt.Errorf("authz: route %q maps to an invalid service %q", route, service)
		}
	}
	return nil
}

// scopedRoute is a data route whose Allow can be written as a pattern that
// names the service: the resource ARN is stage + before + service + after.
type scopedRoute struct {
	resource      string // the template, e.g. /data/{service}/{proxy+}
	before, after string // before holds the method: GET/data/
}

// dataRoutes are the routes guarded by this authorizer whose Allow can be
// a pattern; derived from routes.All so the two never drift apart.
var dataRoutes = scopedRoutes(routes.All)

func scopedRoutes(all []routes.Route) []scopedRoute {
	var out []scopedRoute
	for _, r := range all {
		if r.Auth != routes.TokenAuth {
			continue
		}
		if s, ok := scope(r.Method, r.Path); ok {
			out = append(out, s)
		}
	}
	return out
}

// scope derives the pattern of a template made of literal segments, one
// {service} and at most a trailing greedy parameter. Any other parameter
// cannot be bounded by a pattern: in execute-api policies '*' and '?' also
// match '/', so /feed/*/tmy/* (or 32 '?' for the token) would match
// /feed/x/timeseries/tmy/... and let a cached Allow reach another service.
// Such routes are allowed by their exact method ARN instead.
func scope(method, template string) (scopedRoute, bool) {
	segs := strings.Split(strings.TrimPrefix(template, "/"), "/")
	var b strings.Builder
	b.WriteString(method)
	s := scopedRoute{resource: template}
	seenService := false
	for i, seg := range segs {
		b.WriteByte('/')
		switch {
		case seg == "{"+ServiceParam+"}" && !seenService:
			s.before, seenService = b.String(), true
			b.Reset()
		case strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "+}") && i == len(segs)-1 && seenService:
			b.WriteByte('*')
		case strings.ContainsAny(seg, "{}*?"):
			return scopedRoute{}, false
		default:
			b.WriteString(seg)
		}
	}
	s.after = b.String()
	return s, seenService
}

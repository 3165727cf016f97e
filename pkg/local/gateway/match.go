package gateway

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/acmedata/tokenservice/pkg/routes"
)

// resource is one node of the resource tree API Gateway builds from route
// templates: /admin, /admin/users, /admin/users/{userId}, ...
type resource struct {
	literal map[string]*resource
	param   *resource // a {name} child
	name    string    // the {name} of param, set on the child
	greedy  *resource // a {name+} child: the rest of the path, at least one segment
	methods map[string]routes.Route
	path    string // the template of this node
}

func newResource(path string) *resource {
	return &resource{literal: map[string]*resource{}, methods: map[string]routes.Route{}, path: path}
}

// add inserts rt below r, refusing templates API Gateway would refuse.
func (r *resource) add(rt routes.Route) error {
	if !strings.HasPrefix(rt.Path, "/") {
		return fmt.Errorf("route %s %s: path must start with /", rt.Method, rt.Path)
	}
	node := r
	segs := splitPath(rt.Path)
	for i, seg := range segs {
		path := "/" + strings.Join(segs[:i+1], "/")
		switch {
		case strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "+}"):
			if i != len(segs)-1 {
				return fmt.Errorf("route %s %s: a greedy parameter must be last", rt.Method, rt.Path)
			}
			name := seg[1 : len(seg)-2]
			if node.greedy == nil {
				node.greedy = newResource(path)
				node.greedy.name = name
			} else if node.greedy.name != name {
				return fmt.Errorf("route %s %s: conflicts with %s", rt.Method, rt.Path, node.greedy.path)
			}
			node = node.greedy
		case strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}"):
			name := seg[1 : len(seg)-1]
			if node.param == nil {
				node.param = newResource(path)
				node.param.name = name
			} else if node.param.name != name {
				// API Gateway allows one variable child per resource.
				return fmt.Errorf("route %s %s: conflicts with %s", rt.Method, rt.Path, node.param.path)
			}
			node = node.param
		case seg == "" || strings.ContainsAny(seg, "{}"):
			return fmt.Errorf("route %s %s: bad segment %q", rt.Method, rt.Path, seg)
		default:
			if node.literal[seg] == nil {
				node.literal[seg] = newResource(path)
			}
			node = node.literal[seg]
		}
	}
	if _, dup := node.methods[rt.Method]; dup {
		return fmt.Errorf("route %s %s: defined twice", rt.Method, rt.Path)
	}
	node.methods[rt.Method] = rt
	return nil
}

// match finds the resource for an escaped request path and the decoded
// values of its parameters. It returns nil if no resource matches.
func (r *resource) match(escapedPath string) (*resource, map[string]string) {
	segs := splitPath(escapedPath)
	decoded := make([]string, len(segs))
	for i, s := range segs {
		v, err := url.PathUnescape(s)
		if err != nil {
			return nil, nil
		}
		decoded[i] = v
	}
	params := map[string]string{}
	node := r.walk(decoded, params)
	return node, params
}

// walk tries the more specific children first, backtracking as API Gateway
// does: /a/literal beats /a/{param}, which beats /a/{proxy+}.
func (r *resource) walk(segs []string, params map[string]string) *resource {
	if len(segs) == 0 {
		return r
	}
	seg, rest := segs[0], segs[1:]
	if seg == "" {
		// A trailing slash names the resource itself (/console/ is
		// /console), as on API Gateway REST APIs. Other empty segments
		// (a//b) match nothing but a greedy parameter, which takes the
		// rest verbatim.
		if len(rest) == 0 {
			return r
		}
		return r.walkGreedy(segs, params)
	}
	if child := r.literal[seg]; child != nil {
		if found := child.walk(rest, params); found != nil {
			return found
		}
	}
	if r.param != nil {
		if found := r.param.walk(rest, params); found != nil {
			params[r.param.name] = seg
			return found
		}
	}
	return r.walkGreedy(segs, params)
}

func (r *resource) walkGreedy(segs []string, params map[string]string) *resource {
	if r.greedy == nil || len(segs) == 0 || segs[0] == "" {
		return nil
	}
	params[r.greedy.name] = strings.Join(segs, "/")
	return r.greedy
}

// splitPath splits "/a/b" into ["a", "b"]; "/" into none.
func splitPath(p string) []string {
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// Package openapi is the service's OpenAPI 3.1 description: openapi.yaml,
// written by hand beside this file and embedded here, so that the API
// serves the very document the tests validate every answer against and
// Redocly lints (make lint): the console function answers it at
// routes.OpenAPIDocument, on AWS and on the local stack alike.
//
// The document and pkg/routes describe the same routes: a test fails when
// a route is added to one and not the other. API Gateway's greedy path
// parameter {proxy+} has no OpenAPI spelling; the document names it
// {proxy} (see SpecPath).
package openapi

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"sigs.k8s.io/yaml"
)

//go:embed openapi.yaml
var document []byte

// YAML returns the document as written.
func YAML() []byte { return slices.Clone(document) }

// jsonDocument converts the document once; the embedded YAML is checked by
// the package's tests, so a failure here is a build defect.
var jsonDocument = sync.OnceValues(func() ([]byte, error) {
	b, err := yaml.YAMLToJSON(document)
	if err != nil {
		return nil, fmt.Errorf("openapi: openapi.yaml: %w", err)
	}
	return b, nil
})

// JSON returns the document as JSON, the form routes.OpenAPIDocument
// (GET /openapi.json) serves.
func JSON() ([]byte, error) {
	b, err := jsonDocument()
	return slices.Clone(b), err
}

// Operation is one method on one path of the document.
type Operation struct {
	Method string // upper case, as in net/http
	Path   string // the document's path template
}

func (o Operation) String() string { return o.Method + " " + o.Path }

// methods are the fields of a Path Item Object that are operations.
var methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// Operations lists the document's operations, sorted by path and method.
func Operations() ([]Operation, error) {
	b, err := jsonDocument()
	if err != nil {
		return nil, err
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("openapi: paths: %w", err)
	}
	var ops []Operation
	for path, item := range doc.Paths {
		for field := range item {
			if slices.Contains(methods, field) {
				ops = append(ops, Operation{Method: strings.ToUpper(field), Path: path})
			}
		}
	}
	slices.SortFunc(ops, func(a, b Operation) int { return strings.Compare(a.String(), b.String()) })
	return ops, nil
}

// SpecPath turns an API Gateway resource path into the document's
// template: a greedy {name+} becomes {name}, which the document says may
// hold several segments.
func SpecPath(apiGatewayPath string) string {
	return strings.ReplaceAll(apiGatewayPath, "+}", "}")
}

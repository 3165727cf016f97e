// Package cdktest helps the infra tests synthesise real stacks without the
// Makefile's binaries and read the resulting CloudFormation template.
package cdktest

import (
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/constructs-go/constructs/v10"
)

// Placeholders writes an empty bootstrap for every named function under
// dir, standing in for the Makefile's bin/<name>/bootstrap.
func Placeholders(dir string, names ...string) error {
	for _, name := range names {
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name, "bootstrap"), nil, 0o755); err != nil {
			return err
		}
	}
	return nil
}

// Resource is one resource of a template.
type Resource struct {
	Type           string         `json:"Type"`
	Properties     map[string]any `json:"Properties"`
	DeletionPolicy string         `json:"DeletionPolicy"`
}

// Resources decodes a synthesised template's resources by logical ID.
func Resources(t assertions.Template) (map[string]Resource, error) {
	raw, err := json.Marshal(t.ToJSON())
	if err != nil {
		return nil, err
	}
	var doc struct {
		Resources map[string]Resource `json:"Resources"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	return doc.Resources, nil
}

// OfType returns the resources of one CloudFormation type.
func OfType(all map[string]Resource, typ string) map[string]Resource {
	out := map[string]Resource{}
	for id, r := range all {
		if r.Type == typ {
			out[id] = r
		}
	}
	return out
}

// LogicalID is the template's ID for the CloudFormation resource behind an
// L2 construct.
func LogicalID(stack awscdk.Stack, c constructs.IConstruct) string {
	id := stack.Resolve(stack.GetLogicalId(c.Node().DefaultChild().(awscdk.CfnElement)))
	s, _ := id.(string)
	return s
}

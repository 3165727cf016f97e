// Package lambdaenv reads what the CDK stack gives each Lambda function,
// its environment variables and memory, from a real synthesis, so that the
// tests and benchmarks that run the functions' binaries locally
// (functions/, scripts/lambdabench) run them as they are deployed, not
// with a hand-kept copy of the stack's settings.
package lambdaenv

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"

	"github.com/acmedata/tokenservice/infra/stack"
	"github.com/acmedata/tokenservice/pkg/config"
)

// Function is what the stack configures for one function.
type Function struct {
	// Env is the function's environment, less the variables that name a
	// table, which are in Tables.
	Env map[string]string
	// Tables maps each variable that names a table to the table's schema
	// ID (schema.Core.ID, ...): the physical names are CloudFormation's.
	Tables map[string]string
	// DeployTime lists the other variables whose value CloudFormation
	// resolves at deploy (the REST API's ID, the unlimited usage key):
	// Local gives them stand-ins.
	DeployTime []string
	// MemoryMiB is the configured memory.
	MemoryMiB int
}

// Synthesise builds the stack of infra/stack with its default
// configuration (a few seconds of Node.js) and reads every function's
// environment and memory from the template CloudFormation would deploy,
// by function name (the directory under functions/).
func Synthesise(functionNames []string) (map[string]Function, error) {
	assets, err := os.MkdirTemp("", "rie-assets-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(assets)
	// Synthesis only copies the assets: empty files stand in for binaries.
	for _, n := range functionNames {
		if err := os.MkdirAll(filepath.Join(assets, n), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(assets, n, "bootstrap"), nil, 0o755); err != nil {
			return nil, err
		}
	}
	cfg := stack.DefaultConfig()
	cfg.AssetDir = assets
	s, err := stack.New(awscdk.NewApp(nil), "TokenService-rie", stack.Props{Config: cfg})
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(assertions.Template_FromStack(s.Stack, nil).ToJSON())
	if err != nil {
		return nil, err
	}
	var template struct {
		Resources map[string]struct {
			Properties struct {
				MemorySize  json.Number `json:"MemorySize"`
				Environment struct {
					Variables map[string]json.RawMessage `json:"Variables"`
				} `json:"Environment"`
			} `json:"Properties"`
		} `json:"Resources"`
	}
	if err := json.Unmarshal(raw, &template); err != nil {
		return nil, err
	}
	tables := map[string]string{} // logical ID -> schema ID
	for id, t := range s.Tables {
		tables[*s.Stack.GetLogicalId(t.Node().DefaultChild().(awscdk.CfnElement))] = id
	}
	out := map[string]Function{}
	for name, fn := range s.Functions {
		res, ok := template.Resources[*s.Stack.GetLogicalId(fn.Node().DefaultChild().(awscdk.CfnElement))]
		if !ok {
			return nil, fmt.Errorf("function %s is not in the template", name)
		}
		d := Function{Env: map[string]string{}, Tables: map[string]string{}}
		if d.MemoryMiB, err = strconv.Atoi(res.Properties.MemorySize.String()); err != nil {
			return nil, fmt.Errorf("function %s: MemorySize %q: %w", name, res.Properties.MemorySize, err)
		}
		for k, v := range res.Properties.Environment.Variables {
			var literal string
			if json.Unmarshal(v, &literal) == nil {
				d.Env[k] = literal
				continue
			}
			var ref struct{ Ref string }
			if json.Unmarshal(v, &ref) == nil && tables[ref.Ref] != "" {
				d.Tables[k] = tables[ref.Ref]
				continue
			}
			var intrinsic map[string]json.RawMessage
			if json.Unmarshal(v, &intrinsic) != nil || len(intrinsic) != 1 {
				return nil, fmt.Errorf("function %s: %s is %s, neither a string, a table's name nor a value resolved at deploy", name, k, v)
			}
			d.DeployTime = append(d.DeployTime, k)
		}
		out[name] = d
	}
	return out, nil
}

// EnvAPIGatewayEndpoint is the SDK's own variable for API Gateway's
// endpoint, which Local points at a closed local port.
const EnvAPIGatewayEndpoint = "AWS_ENDPOINT_URL_API_GATEWAY"

// Local is the environment Lambda would give the function, pointed at
// DynamoDB Local: the deployment's variables with tables' physical names
// (by schema ID), the variables Lambda itself sets (region, the role's
// credentials, which DynamoDB Local accepts as they are), and
// DYNAMODB_ENDPOINT, the one variable AWS never sets.
func (d Function) Local(tables map[string]string, endpoint string) map[string]string {
	env := map[string]string{
		"AWS_REGION":             "eu-west-1",
		"AWS_DEFAULT_REGION":     "eu-west-1",
		"AWS_ACCESS_KEY_ID":      "local",
		"AWS_SECRET_ACCESS_KEY":  "local",
		"AWS_SESSION_TOKEN":      "local",
		"TZ":                     ":UTC",
		"PATH":                   "/usr/local/bin:/usr/bin/:/bin",
		config.EnvDynamoEndpoint: endpoint,
	}
	maps.Copy(env, d.Env)
	for k, id := range d.Tables {
		env[k] = tables[id]
	}
	for _, k := range d.DeployTime {
		// A stand-in of letters and digits, as the real values are.
		env[k] = "localstandin" + strings.ToLower(strings.ReplaceAll(k, "_", ""))
	}
	if len(d.DeployTime) > 0 {
		// Whatever a stand-in makes a function call, nothing reaches
		// AWS: API Gateway's control plane is a closed local port.
		env[EnvAPIGatewayEndpoint] = "http://127.0.0.1:9"
	}
	return env
}

package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/acmedata/tokenservice/pkg/apigwplans"
)

// createPlans makes API Gateway enforce plans on the stage (the key source,
// the usage plan without limits and its key, through the same construct
// deployers use; the data methods require a key, see methodOptions), and
// lets the functions that drive the plans engine reach exactly the control
// plane's usage plans, API keys and this API's stages, with the API and
// stage in their environment.
func (s *TokenService) createPlans() {
	s.Plans = s.TokenAuthorizer.EnforcePlans(s.API)
	for _, f := range functions {
		if f.plans == 0 {
			continue
		}
		fn := s.Functions[f.name]
		fn.AddEnvironment(jsii.String(apigwplans.EnvRestAPIID), s.API.RestApiId(), nil)
		fn.AddEnvironment(jsii.String(apigwplans.EnvStage), jsii.String(s.cfg.Stage), nil)
		if s.cfg.PlanStages != "" {
			fn.AddEnvironment(jsii.String(apigwplans.EnvExtraStages), jsii.String(s.cfg.PlanStages), nil)
		}
		actions := []string{"apigateway:GET"}
		if f.plans == planWrite {
			actions = append(actions, "apigateway:POST", "apigateway:PATCH", "apigateway:DELETE")
		}
		fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings(actions...),
			Resources: s.planControlResources(),
		}))
	}
}

// planControlResources are the control plane's paths the plans engine
// calls: usage plans (their keys and usage below them), API keys, and
// this API's stage and the deployers' (PlanStages), which usage plans are
// associated with.
func (s *TokenService) planControlResources() *[]*string {
	arn := func(path string) *string {
		return awscdk.Fn_Join(jsii.String(""), &[]*string{
			jsii.String("arn:"), awscdk.Aws_PARTITION(), jsii.String(":apigateway:"), awscdk.Aws_REGION(), jsii.String("::"), jsii.String(path),
		})
	}
	stage := awscdk.Fn_Join(jsii.String(""), &[]*string{
		jsii.String("arn:"), awscdk.Aws_PARTITION(), jsii.String(":apigateway:"), awscdk.Aws_REGION(), jsii.String("::/restapis/"), s.API.RestApiId(), jsii.String("/stages/" + s.cfg.Stage),
	})
	out := []*string{arn("/usageplans"), arn("/usageplans/*"), arn("/apikeys"), arn("/apikeys/*"), stage}
	extra, _ := apigwplans.ParseStages(s.cfg.PlanStages) // Validate checked it
	for _, st := range extra {
		out = append(out, arn("/restapis/"+st.APIID+"/stages/"+st.Name))
	}
	return &out
}

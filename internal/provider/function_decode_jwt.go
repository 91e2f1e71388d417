package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/function"
)

var _ function.Function = (*decodeJWTFunction)(nil)

// NewDecodeJWTFunction is provider::natsping::decode_jwt, the inline form of the natsping_jwt
// data source for expressions such as preconditions and outputs.
func NewDecodeJWTFunction() function.Function { return &decodeJWTFunction{} }

type decodeJWTFunction struct{}

func (f *decodeJWTFunction) Metadata(_ context.Context, _ function.MetadataRequest, resp *function.MetadataResponse) {
	resp.Name = "decode_jwt"
}

func (f *decodeJWTFunction) Definition(_ context.Context, _ function.DefinitionRequest, resp *function.DefinitionResponse) {
	resp.Definition = function.Definition{
		Summary: "Decode a NATS JWT for review",
		MarkdownDescription: "Decodes a NATS JWT and returns a JSON object (use `jsondecode`) with `type`, `subject`, " +
			"`issuer`, `issuer_account` (present only when a signing key signed for an account), `name`, `issued_at` and " +
			"`expires_at` (RFC 3339, `null` when absent), `signature_valid` and `claims` (the whole claim set). A token " +
			"whose signature does not verify is still decoded, with `signature_valid = false`; a value that is not a NATS " +
			"JWT is an error. Needs Terraform 1.8 or OpenTofu 1.7 or later.",
		Parameters: []function.Parameter{
			function.StringParameter{
				Name:                "token",
				MarkdownDescription: "The NATS JWT (operator, account, user, activation, authorization request or response).",
			},
		},
		Return: function.StringReturn{},
	}
}

func (f *decodeJWTFunction) Run(ctx context.Context, req function.RunRequest, resp *function.RunResponse) {
	var token string
	resp.Error = function.ConcatFuncErrors(req.Arguments.Get(ctx, &token))
	if resp.Error != nil {
		return
	}
	dec, err := decodeNATSJWT(token)
	if err != nil {
		resp.Error = function.NewArgumentFuncError(0, err.Error())
		return
	}
	out, err := marshalJSON(dec, false)
	if err != nil {
		resp.Error = function.NewFuncError("cannot encode the decoded JWT: " + err.Error() + ". This is always a bug in the provider.")
		return
	}
	resp.Error = function.ConcatFuncErrors(resp.Result.Set(ctx, string(out)))
}

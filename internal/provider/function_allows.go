package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/natsping/terraform-provider-natsping/internal/access"
)

var _ function.Function = (*allowsFunction)(nil)

const accessFunctionsNote = " Decides as nats-server 2.15 does: deny wins over allow, a subscription to a wildcard " +
	"subject needs an allow entry covering every subject it could receive, and an absent publish allow list admits " +
	"everything unless `allow_responses` is set. Needs Terraform 1.8 or OpenTofu 1.7 or later."

var queueParameter = function.StringParameter{
	Name: "queue",
	MarkdownDescription: "Optional queue group, for `sub` only: checks a queue subscription, which queue entries in " +
		"`sub_allow` (`\"orders.> workers\"`) restrict.",
}

// NewAllowsFunction is provider::natsping::allows, so a precondition or check block can
// state an access policy ("readers cannot publish orders.created") and fail the plan when a
// change breaks it.
func NewAllowsFunction() function.Function { return &allowsFunction{} }

type allowsFunction struct{}

func (f *allowsFunction) Metadata(_ context.Context, _ function.MetadataRequest, resp *function.MetadataResponse) {
	resp.Name = "allows"
}

func (f *allowsFunction) Definition(_ context.Context, _ function.DefinitionRequest, resp *function.DefinitionResponse) {
	resp.Definition = function.Definition{
		Summary: "Whether permissions allow a publish or subscribe",
		MarkdownDescription: "Returns `true` when `permissions` let a client `pub` or `sub` on `subject` (optionally in a " +
			"queue group). `permissions` is either the provider's permissions object (`pub_allow`, `pub_deny`, " +
			"`sub_allow`, `sub_deny`, `response`; attributes may be left out) or a JWT's (`pub`, `sub`, `resp`, as in " +
			"`claims.nats` of a user decoded with `decode_jwt`, or an account's `default_permissions`); `decode_jwt`'s " +
			"whole result for a user JWT is accepted too. A role-signed user JWT carries no permissions of its own, " +
			"and entries holding templates (`{{name()}}`) are refused: use `role_allows` for roles." + accessFunctionsNote,
		Parameters: []function.Parameter{
			function.DynamicParameter{
				Name:                "permissions",
				MarkdownDescription: "The permissions, in the provider's or a JWT's form.",
			},
			function.StringParameter{Name: "op", MarkdownDescription: "`pub` or `sub`."},
			function.StringParameter{Name: "subject", MarkdownDescription: "The subject to publish to (one literal subject) or subscribe to (wildcards allowed)."},
		},
		VariadicParameter: queueParameter,
		Return:            function.BoolReturn{},
	}
}

func (f *allowsFunction) Run(ctx context.Context, req function.RunRequest, resp *function.RunResponse) {
	var (
		perms       types.Dynamic
		op, subject string
		queue       []string
	)
	if resp.Error = function.ConcatFuncErrors(req.Arguments.Get(ctx, &perms, &op, &subject, &queue)); resp.Error != nil {
		return
	}
	p, err := permissionsArg(ctx, perms)
	if err != nil {
		resp.Error = function.NewArgumentFuncError(0, err.Error())
		return
	}
	resp.Error = decide(ctx, resp, p, 1, op, subject, queue)
}

// decide checks op on subject; argument errors point at op, subject or queue, which
// start at opIndex.
func decide(ctx context.Context, resp *function.RunResponse, p access.Permissions, opIndex int64, op, subject string, queue []string) *function.FuncError {
	o, q, at, err := opArg(op, queue)
	if err != nil {
		return function.NewArgumentFuncError(opIndex+at, err.Error())
	}
	if o == access.Publish && hasWildcardToken(subject) {
		// The server would check the literal subject, which a '*' allow entry covers even where
		// deeper subjects are refused; a review asking "may they publish under orders?" would
		// get a misleading yes.
		return function.NewArgumentFuncError(opIndex+1, fmt.Sprintf("publish subjects are literal; %q names no "+
			"subject set, so ask about one subject such as \"orders.created\"", subject))
	}
	// A plain check first, so a refused subject and a refused queue name their own argument.
	d, err := p.Check(o, subject, "")
	if err != nil {
		return function.NewArgumentFuncError(opIndex+1, err.Error())
	}
	if q != "" {
		if d, err = p.Check(o, subject, q); err != nil {
			return function.NewArgumentFuncError(opIndex+2, err.Error())
		}
	}
	return resp.Result.Set(ctx, d.Allowed)
}

func hasWildcardToken(subject string) bool {
	for _, t := range strings.Split(subject, ".") {
		if t == "*" || t == ">" {
			return true
		}
	}
	return false
}

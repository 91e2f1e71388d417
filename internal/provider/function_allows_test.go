package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
)

// tfValue builds the value Terraform passes for an HCL literal: objects for maps, tuples for
// lists, so the tests see what a configuration sends.
func tfValue(v any) attr.Value {
	switch v := v.(type) {
	case nil:
		return types.DynamicNull()
	case string:
		return types.StringValue(v)
	case bool:
		return types.BoolValue(v)
	case int:
		return types.NumberValue(big.NewFloat(float64(v)))
	case float64:
		return types.NumberValue(big.NewFloat(v))
	case []string:
		elems := make([]any, len(v))
		for i, s := range v {
			elems[i] = s
		}
		return tfValue(elems)
	case []any:
		typs := make([]attr.Type, len(v))
		vals := make([]attr.Value, len(v))
		for i, e := range v {
			vals[i] = tfValue(e)
			typs[i] = vals[i].Type(context.Background())
		}
		return types.TupleValueMust(typs, vals)
	case map[string]any:
		typs := map[string]attr.Type{}
		vals := map[string]attr.Value{}
		for k, e := range v {
			vals[k] = tfValue(e)
			typs[k] = vals[k].Type(context.Background())
		}
		return types.ObjectValueMust(typs, vals)
	}
	panic(fmt.Sprintf("tfValue: %T", v))
}

// call runs a function as Terraform would, with the trailing queue arguments as the
// variadic tuple, and returns the result or the error with its argument index.
func call(t *testing.T, f function.Function, args ...any) (bool, *function.FuncError) {
	t.Helper()
	var def function.DefinitionResponse
	f.Definition(context.Background(), function.DefinitionRequest{}, &def)
	n := len(def.Definition.Parameters)
	vals := make([]attr.Value, 0, n+1)
	for i := 0; i < n; i++ {
		v := tfValue(args[i])
		if _, dyn := def.Definition.Parameters[i].(function.DynamicParameter); dyn {
			v = types.DynamicValue(v)
		}
		vals = append(vals, v)
	}
	var qt []attr.Type
	var qv []attr.Value
	for _, q := range args[n:] {
		qt = append(qt, types.StringType)
		qv = append(qv, types.StringValue(q.(string)))
	}
	vals = append(vals, types.TupleValueMust(qt, qv))
	resp := &function.RunResponse{Result: function.NewResultData(types.BoolUnknown())}
	f.Run(context.Background(), function.RunRequest{Arguments: function.NewArgumentsData(vals)}, resp)
	if resp.Error != nil {
		return false, resp.Error
	}
	b, ok := resp.Result.Value().(types.Bool)
	if !ok || b.IsUnknown() || b.IsNull() {
		t.Fatalf("no result: %v", resp.Result.Value())
	}
	return b.ValueBool(), nil
}

type allowsCase struct {
	args []any
	want bool
}

func runAllows(t *testing.T, f function.Function, cases []allowsCase) {
	t.Helper()
	for _, c := range cases {
		got, err := call(t, f, c.args...)
		if err != nil {
			t.Errorf("%v: %v", c.args[1:], err)
			continue
		}
		if got != c.want {
			t.Errorf("%v = %v, want %v", c.args[1:], got, c.want)
		}
	}
}

type errCase struct {
	args  []any
	index int64
	text  string
}

func runErrors(t *testing.T, f function.Function, cases []errCase) {
	t.Helper()
	for _, c := range cases {
		_, err := call(t, f, c.args...)
		switch {
		case err == nil:
			t.Errorf("%v: no error, want %q at argument %d", c.args, c.text, c.index)
		case err.FunctionArgument == nil || *err.FunctionArgument != c.index:
			t.Errorf("%v: error %q names argument %v, want %d", c.args, err.Text, err.FunctionArgument, c.index)
		case !strings.Contains(err.Text, c.text):
			t.Errorf("%v: error %q, want it to contain %q", c.args, err.Text, c.text)
		}
	}
}

var readerPermissions = map[string]any{
	"sub_allow": []string{"orders.>", "_INBOX.>"},
	"pub_allow": []string{"_INBOX.>", "$JS.API.CONSUMER.INFO.ORDERS.>"},
	"pub_deny":  nil,
	"sub_deny":  nil,
	"response":  nil,
}

func TestFunctionAllows_providerForm(t *testing.T) {
	f := NewAllowsFunction()
	runAllows(t, f, []allowsCase{
		{[]any{readerPermissions, "pub", "orders.created"}, false},
		{[]any{readerPermissions, "sub", "orders.created"}, true},
		{[]any{readerPermissions, "sub", "orders.>"}, true},
		{[]any{readerPermissions, "pub", "_INBOX.abc"}, true},
		{[]any{readerPermissions, "pub", "$JS.API.CONSUMER.INFO.ORDERS.c1"}, true},
		{[]any{readerPermissions, "sub", ">"}, false},
		// Attributes may be left out, as in an HCL literal.
		{[]any{map[string]any{"pub_allow": []string{"orders.>"}, "pub_deny": []string{"orders.secret"}}, "pub", "orders.secret"}, false},
		{[]any{map[string]any{"pub_allow": []string{"orders.>"}, "pub_deny": []string{"orders.secret"}}, "pub", "orders.open"}, true},
		// No rules admit everything; allow_responses alone admits only replies.
		{[]any{map[string]any{}, "pub", "anything"}, true},
		{[]any{map[string]any{"response": map[string]any{"max_msgs": 1}}, "pub", "anything"}, false},
		{[]any{map[string]any{"response": map[string]any{"ttl": "5s"}}, "sub", "anything"}, true},
		// A subscription to a wildcard needs an allow entry covering all it could receive.
		{[]any{map[string]any{"sub_allow": []string{"orders.*"}}, "sub", "orders.>"}, true},
		{[]any{map[string]any{"sub_allow": []string{"orders.created"}}, "sub", "orders.*"}, false},
		// Queue entries restrict queue subscriptions.
		{[]any{map[string]any{"sub_allow": []string{"orders.> workers"}}, "sub", "orders.created", "workers"}, true},
		{[]any{map[string]any{"sub_allow": []string{"orders.> workers"}}, "sub", "orders.created", "others"}, false},
		{[]any{map[string]any{"sub_allow": []string{"orders.>"}}, "sub", "orders.created", "others"}, true},
	})
}

// signedUser is a user JWT with the reader's permissions, decoded as decode_jwt's output is
// after jsondecode.
func decodedReader(t *testing.T) map[string]any {
	t.Helper()
	akp := mustOK(nkeys.CreateAccount())
	ukp := mustOK(nkeys.CreateUser())
	uc := jwt.NewUserClaims(mustOK(ukp.PublicKey()))
	uc.Name = "svc"
	uc.Sub.Allow.Add("orders.>", "_INBOX.>")
	uc.Pub.Allow.Add("_INBOX.>", "$JS.API.CONSUMER.INFO.ORDERS.>")
	uc.Resp = &jwt.ResponsePermission{MaxMsgs: 2, Expires: 3 * time.Second}
	token := mustOK(uc.Encode(akp))
	dec := mustOK(decodeNATSJWT(token))
	var out map[string]any
	if err := json.Unmarshal(mustOK(marshalJSON(dec, false)), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestFunctionAllows_jwtForm(t *testing.T) {
	f := NewAllowsFunction()
	whole := decodedReader(t)
	nats := whole["claims"].(map[string]any)["nats"].(map[string]any)
	for _, perms := range []map[string]any{whole, nats} {
		runAllows(t, f, []allowsCase{
			{[]any{perms, "pub", "orders.created"}, false},
			{[]any{perms, "sub", "orders.created"}, true},
			{[]any{perms, "pub", "_INBOX.x"}, true},
			{[]any{perms, "sub", "payments.x"}, false},
		})
	}
}

func TestFunctionAllows_errors(t *testing.T) {
	f := NewAllowsFunction()
	ok := map[string]any{"pub_allow": []string{"orders.>"}}
	runErrors(t, f, []errCase{
		{[]any{ok, "publish", "orders.x"}, 1, `use "pub" or "sub"`},
		{[]any{ok, "pub", "orders..x"}, 2, "orders..x"},
		{[]any{ok, "pub", ""}, 2, "empty"},
		{[]any{ok, "pub", "orders.>"}, 2, "publish subjects are literal"},
		{[]any{ok, "pub", "orders.*.x"}, 2, "publish subjects are literal"},
		{[]any{ok, "pub", "orders.x", "workers"}, 3, "subscriptions only"},
		{[]any{ok, "sub", "orders.x", "a", "b"}, 3, "at most one queue group"},
		{[]any{ok, "sub", "orders.x", ""}, 3, "queue group is empty"},
		{[]any{map[string]any{"pub_alow": []string{"a"}}, "pub", "a"}, 0, `unknown permissions attribute "pub_alow"`},
		{[]any{map[string]any{"pub_allow": []string{"orders.{{name()}}"}}, "pub", "a"}, 0, "use role_allows"},
		{[]any{map[string]any{"pub_allow": []string{"orders..x"}}, "pub", "a"}, 0, "pub_allow"},
		{[]any{map[string]any{"pub_allow": []string{"a"}, "sub": map[string]any{}}, "pub", "a"}, 0, "use one form"},
		{[]any{map[string]any{"pub_allow": "orders.>"}, "pub", "a"}, 0, "pub_allow must be a list of strings"},
		{[]any{map[string]any{"response": map[string]any{"ttl": "soon"}}, "pub", "a"}, 0, "response.ttl"},
		{[]any{map[string]any{"pub": map[string]any{"allow": []string{"a"}, "permit": []string{"b"}}}, "pub", "a"}, 0, "pub.permit"},
		{[]any{"orders.>", "pub", "a"}, 0, "must be an object"},
		{[]any{map[string]any{"type": "account", "claims": map[string]any{"nats": map[string]any{}}}, "pub", "a"}, 0, "decoded account JWT"},
	})
}

// roleAccount is an ORDERS account with a templated role, a role without rules and account
// default permissions, as its JWT and as the configuration object that describes it.
func roleAccount(t *testing.T) (token string, config map[string]any) {
	t.Helper()
	okp := mustOK(nkeys.CreateOperator())
	akp := mustOK(nkeys.CreateAccount())
	rkp := mustOK(nkeys.CreateAccount())
	dkp := mustOK(nkeys.CreateAccount())
	ac := jwt.NewAccountClaims(mustOK(akp.PublicKey()))
	ac.Name = "ORDERS"
	ac.Tags.Add("region:eu")
	ac.DefaultPermissions.Sub.Allow.Add("public.>")
	member := jwt.NewUserScope()
	member.Key = mustOK(rkp.PublicKey())
	member.Role = "member"
	member.Template.Pub.Allow.Add("orders.{{name()}}.>", "teams.{{tag(team)}}.>", "{{account-tag(region)}}.in")
	member.Template.Pub.Deny.Add("orders.{{tag(level)}}.admin")
	member.Template.Sub.Allow.Add("orders.>")
	ac.SigningKeys.AddScopedSigner(member)
	plain := jwt.NewUserScope()
	plain.Key = mustOK(dkp.PublicKey())
	plain.Role = "plain"
	ac.SigningKeys.AddScopedSigner(plain)
	token = mustOK(ac.Encode(okp))
	config = map[string]any{
		"name": "ORDERS",
		"tags": []string{"region:eu"},
		"default_permissions": map[string]any{
			"sub_allow": []string{"public.>"}, "pub_allow": nil, "pub_deny": nil, "sub_deny": nil, "response": nil,
		},
		"roles": []any{
			map[string]any{
				"name": "member", "description": "members",
				"permissions": map[string]any{
					"pub_allow": []string{"orders.{{name()}}.>", "teams.{{tag(team)}}.>", "{{account-tag(region)}}.in"},
					"pub_deny":  []string{"orders.{{tag(level)}}.admin"},
					"sub_allow": []string{"orders.>"},
				},
			},
			map[string]any{"name": "plain", "permissions": nil},
		},
	}
	return token, config
}

func TestFunctionRoleAllows(t *testing.T) {
	f := NewRoleAllowsFunction()
	token, config := roleAccount(t)
	alice := map[string]any{"name": "alice", "tags": []string{"team:red", "level:basic"}}
	bob := map[string]any{"name": "bob", "tags": []string{"level:basic"}}
	// The JWT and the configuration must give the same answers.
	for _, account := range []any{token, config} {
		runAllows(t, f, []allowsCase{
			{[]any{account, "member", alice, "pub", "orders.alice.created"}, true},
			{[]any{account, "member", alice, "pub", "orders.bob.created"}, false},
			{[]any{account, "member", alice, "pub", "teams.red.x"}, true},
			{[]any{account, "member", alice, "pub", "eu.in"}, true},
			{[]any{account, "member", alice, "pub", "orders.basic.admin"}, false},
			{[]any{account, "member", alice, "sub", "orders.>"}, true},
			// bob has no team tag: that allow entry is dropped, the rest stays.
			{[]any{account, "member", bob, "pub", "teams.red.x"}, false},
			{[]any{account, "member", bob, "pub", "orders.bob.x"}, true},
			// A role without rules gives the account's defaults, not "allow all".
			{[]any{account, "plain", bob, "sub", "public.news"}, true},
			{[]any{account, "plain", bob, "sub", "private.news"}, false},
		})
	}
}

func TestFunctionRoleAllows_errors(t *testing.T) {
	f := NewRoleAllowsFunction()
	token, config := roleAccount(t)
	alice := map[string]any{"name": "alice", "tags": []string{"team:red", "level:basic"}}
	noLevel := map[string]any{"name": "carol", "tags": []string{"team:red"}}
	withSeed := map[string]any{"name": "ORDERS", "roles": config["roles"], "role_signers": map[string]any{"member": "secret"}}
	runErrors(t, f, []errCase{
		{[]any{token, "admin", alice, "pub", "x"}, 1, `no role "admin"; its roles are member, plain`},
		{[]any{config, "admin", alice, "pub", "x"}, 1, `no role "admin"; its roles are member, plain`},
		// A deny entry with a missing tag makes the server refuse the connection.
		{[]any{token, "member", noLevel, "pub", "x"}, 2, "refuses the connection"},
		{[]any{config, "member", noLevel, "pub", "x"}, 2, "level"},
		{[]any{token, "member", map[string]any{"tags": []string{"team:red"}}, "pub", "x"}, 2, "needs a name"},
		{[]any{token, "member", map[string]any{"name": "a", "tags": []string{"red"}}, "pub", "x"}, 2, `"key:value"`},
		{[]any{token, "member", map[string]any{"name": "a", "groups": []string{"g"}}, "pub", "x"}, 2, `unknown identity attribute "groups"`},
		{[]any{token, "member", alice, "push", "x"}, 3, `use "pub" or "sub"`},
		{[]any{token, "member", alice, "sub", "orders..x"}, 4, "orders..x"},
		{[]any{token, "member", alice, "pub", "orders.alice.>"}, 4, "publish subjects are literal"},
		{[]any{token, "member", alice, "sub", "orders.x", "q w"}, 5, "q w"},
		{[]any{"eyJub3Q.a.jwt", "member", alice, "pub", "x"}, 0, "not a validly signed account JWT"},
		{[]any{token[:len(token)-4] + "AAAA", "member", alice, "pub", "x"}, 0, "not a validly signed account JWT"},
		{[]any{withSeed, "member", alice, "pub", "x"}, 0, `unknown account attribute "role_signers"`},
		{[]any{map[string]any{"roles": config["roles"]}, "member", alice, "pub", "x"}, 0, "needs a name"},
		{[]any{map[string]any{"name": "A", "roles": []any{map[string]any{"name": "r", "permissions": map[string]any{"pub_allow": []string{"a.{{nope()}}"}}}}}, "r", alice, "pub", "x"}, 0, `role "r" permissions`},
	})
}

func TestFunctionAccessDefinitions(t *testing.T) {
	// Argument indexes in errors follow the parameter order; pin it.
	for _, c := range []struct {
		f    function.Function
		want string
	}{
		{NewAllowsFunction(), "permissions op subject ...queue"},
		{NewRoleAllowsFunction(), "account role identity op subject ...queue"},
	} {
		var def function.DefinitionResponse
		c.f.Definition(context.Background(), function.DefinitionRequest{}, &def)
		var names []string
		for _, p := range def.Definition.Parameters {
			names = append(names, p.GetName())
		}
		names = append(names, "..."+def.Definition.VariadicParameter.GetName())
		if got := strings.Join(names, " "); got != c.want {
			t.Errorf("parameters %q, want %q", got, c.want)
		}
	}
}

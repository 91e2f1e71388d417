package provider

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

func callAccessView(t *testing.T, accounts, mappings any) (string, *function.FuncError) {
	t.Helper()
	args := function.NewArgumentsData([]attr.Value{types.DynamicValue(tfValue(accounts)), types.DynamicValue(tfValue(mappings))})
	resp := &function.RunResponse{Result: function.NewResultData(types.StringUnknown())}
	NewAccessViewFunction().Run(context.Background(), function.RunRequest{Arguments: args}, resp)
	if resp.Error != nil {
		return "", resp.Error
	}
	return resp.Result.Value().(types.String).ValueString(), nil
}

func TestFunctionAccessView(t *testing.T) {
	token, config := roleAccount(t)
	mappings := []any{
		map[string]any{"name": "z-members", "account_name": "ORDERS", "role": "member", "groups": []string{"b|c", "a"},
			"claims": map[string]any{"amr": []string{"mfa"}}, "allowed_connection_types": []string{"MQTT"}},
		map[string]any{"name": "a_plain", "account_name": "ORDERS", "role": "plain", "priority": 5},
	}
	want := strings.Join([]string{
		"| Mapping | Who | Account | Role | Publish | Subscribe | Limits |",
		"|---|---|---|---|---|---|---|",
		"| z-members | groups `a`, `b\\|c`; claim `amr` in `mfa` | ORDERS | member | allow `orders.{{name()}}.>`, `teams.{{tag(team)}}.>`, `{{account-tag(region)}}.in`; deny `orders.{{tag(level)}}.admin` | allow `orders.>` | types `MQTT` |",
		"| a\\_plain (priority 5) | anyone the trust admits | ORDERS | plain (account defaults) | any | allow `public.>` | none |",
		"",
	}, "\n")
	// Sorted by account, role, mapping: member before plain whatever the input order.
	for _, account := range []any{token, config} {
		got, err := callAccessView(t, []any{account}, mappings)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("got\n%s\nwant\n%s", got, want)
		}
	}
}

func TestFunctionAccessView_errors(t *testing.T) {
	token, config := roleAccount(t)
	ok := map[string]any{"name": "m", "account_name": "ORDERS", "role": "member"}
	for _, c := range []struct {
		accounts, mappings any
		index              int64
		text               string
	}{
		{[]any{token}, []any{map[string]any{"name": "m", "role": "member", "signer": "x"}}, 1, `"signer" holds the role's signing seed`},
		{[]any{token}, []any{map[string]any{"name": "m", "role": "member", "rule": "x"}}, 1, `"rule" holds the role's signing seed`},
		{[]any{token}, []any{map[string]any{"name": "m", "role": "member", "resolved_group": "x"}}, 1, `unknown mapping attribute "resolved_group"`},
		{[]any{token}, []any{map[string]any{"name": "m", "role": "member"}}, 1, "mappings[0].account: give the mapping's account"},
		{[]any{token}, []any{map[string]any{"name": "m", "account_name": "PAYMENTS", "role": "member"}}, 1, `no account in accounts is named "PAYMENTS"`},
		{[]any{token}, []any{map[string]any{"name": "m", "account": "ABAD", "role": "member"}}, 1, "no account in accounts has public key ABAD"},
		{[]any{token}, []any{map[string]any{"name": "m", "account_name": "ORDERS", "role": "admin"}}, 1, `no role "admin"`},
		{[]any{token}, []any{ok, ok}, 1, `mapping "m" is listed twice`},
		{[]any{token}, []any{map[string]any{"account_name": "ORDERS", "role": "member"}}, 1, "needs name and role"},
		{[]any{token}, ok, 1, "must be a list of objects"},
		{[]any{token, config}, []any{ok}, 0, "listed twice"},
		{[]any{42}, []any{ok}, 0, "must be an account JWT or an object"},
		{token, []any{ok}, 0, "accounts must be a list"},
	} {
		_, err := callAccessView(t, c.accounts, c.mappings)
		switch {
		case err == nil:
			t.Errorf("%q: no error", c.text)
		case err.FunctionArgument == nil || *err.FunctionArgument != c.index || !strings.Contains(err.Text, c.text):
			t.Errorf("error %q at %v, want %q at %d", err.Text, err.FunctionArgument, c.text, c.index)
		}
	}
}

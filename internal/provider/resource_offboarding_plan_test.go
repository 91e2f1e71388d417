package provider

import (
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
)

func TestOffboardingCutoffDiagnostics(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	doc := &calloutconfig.Document{Issuer: calloutconfig.Issuer{MaxTokenLifetime: calloutconfig.Duration(2 * time.Hour)}}
	for _, c := range []struct {
		cutoff string
		doc    *calloutconfig.Document
		want   diag.Severity // 0: no diagnostic
		text   string
	}{
		{"2026-12-01T11:00:00Z", doc, 0, ""},
		{"2026-12-02T11:00:00Z", doc, 0, ""},
		{"2027-12-01T12:00:00Z", doc, diag.SeverityError, "in the future"},
		{"2026-12-01T09:00:00Z", doc, diag.SeverityWarning, "max_token_lifetime is 2h"},
		{"2026-12-01T09:00:00Z", nil, 0, ""}, // trust not known yet: no lifetime to compare with
	} {
		var diags diag.Diagnostics
		checkCutoff(types.StringValue(c.cutoff), c.doc, now, &diags)
		switch {
		case c.want == 0 && len(diags) != 0:
			t.Errorf("%s: unexpected %v", c.cutoff, diags)
		case c.want != 0 && (len(diags) != 1 || diags[0].Severity() != c.want || !strings.Contains(diags[0].Detail(), c.text)):
			t.Errorf("%s: got %v, want one %v saying %q", c.cutoff, diags, c.want, c.text)
		}
	}
	var diags diag.Diagnostics
	checkCutoff(types.StringNull(), doc, now, &diags)
	if len(diags) != 0 {
		t.Fatalf("an unset cutoff: %v", diags)
	}
}

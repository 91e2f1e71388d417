package provider

import (
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

// The plan warns with every step, naming the key's owner, the old and the new key, and when
// the old key goes; these are the texts a reviewer reads.
func TestPlanRotationSlot_warnings(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	acc, _, _ := natsjwt.NewKey(natsjwt.KindAccount)
	old, _, _ := natsjwt.NewKey(natsjwt.KindAccount)
	_, nextSeed, _ := natsjwt.NewKey(natsjwt.KindAccount)
	next, _ := natsjwt.NewSigner(acc, "reader", nextSeed, natsjwt.KindAccount)
	prior := &rotationStatusModel{Key: types.StringValue(old), CreatedAt: types.StringValue("2030-01-01T00:00:00Z"),
		NextKey: types.StringValue(next.PublicKey), PreviousKey: types.StringNull(), PreviousKeyDroppedAt: types.StringNull(),
		NextRotationAt: types.StringValue("2030-01-31T00:00:00Z")}
	slot := rotationSlot{label: `role "reader" of account ORDERS`, attr: path.Root("roles"),
		policy: natsjwt.RotationPolicy{Period: 720 * time.Hour, Grace: 24 * time.Hour}, prior: prior, prepared: next}

	var diags diag.Diagnostics
	sp := planRotationSlot(slot, t0.Add(720*time.Hour), &diags)
	if !sp.rotates || sp.rotateTo != next || sp.status.Key.ValueString() != next.PublicKey || sp.status.PreviousKey.ValueString() != old {
		t.Fatalf("rotation plan = %+v", sp)
	}
	text := warningText(t, diags)
	for _, want := range []string{`role "reader" of account ORDERS rotates`, next.PublicKey, "already trust it", old,
		"until about 2030-02-01T00:00:00Z (grace period 24h0m0s)", "next rotation is due about 2030-03-02T00:00:00Z"} {
		if !strings.Contains(text, want) {
			t.Errorf("rotation warning lacks %q:\n%s", want, text)
		}
	}

	// The grace is over.
	inGrace := *prior
	inGrace.PreviousKey = types.StringValue(old)
	slot.prior = &inGrace
	diags = nil
	sp = planRotationSlot(slot, t0.Add(24*time.Hour), &diags)
	if sp.rotates || !sp.changes || !sp.status.PreviousKey.IsNull() {
		t.Fatalf("drop plan = %+v", sp)
	}
	if text := warningText(t, diags); !strings.Contains(text, "drops its previous key") || !strings.Contains(text, old) ||
		!strings.Contains(text, "grace period of 24h0m0s ended at 2030-01-02T00:00:00Z") {
		t.Errorf("drop warning: %s", text)
	}

	// Emergency: the old key goes with the rotation.
	slot.prior, slot.policy.Emergency = prior, true
	slot.keepers = mustKeepers(t, "incident", "7")
	diags = nil
	sp = planRotationSlot(slot, t0.Add(time.Hour), &diags)
	if !sp.rotates || !sp.status.PreviousKey.IsNull() {
		t.Fatalf("emergency plan = %+v", sp)
	}
	if text := warningText(t, diags); !strings.Contains(text, "emergency") || !strings.Contains(text, "is dropped now") {
		t.Errorf("emergency warning: %s", text)
	}

	// An xkey seals rather than signs, and the warnings say so.
	slot.policy.Emergency, slot.xkey, slot.note = false, true, "Deploy the new account_jwt."
	diags = nil
	planRotationSlot(slot, t0.Add(time.Hour), &diags)
	if text := warningText(t, diags); !strings.Contains(text, "has servers seal requests to") ||
		!strings.Contains(text, "held by the callout since the last apply") || !strings.Contains(text, "Deploy the new account_jwt.") {
		t.Errorf("xkey warning: %s", text)
	}
	slot.xkey, slot.note = false, ""

	// Nothing due: no warning, the status kept with its dates.
	slot.policy.Emergency, slot.keepers = false, types.MapNull(types.StringType)
	diags = nil
	sp = planRotationSlot(slot, t0.Add(time.Hour), &diags)
	if sp.changes || len(diags) != 0 || sp.status.NextRotationAt.ValueString() != "2030-01-31T00:00:00Z" {
		t.Fatalf("idle plan = %+v, %v", sp, diags)
	}
}

func mustKeepers(t *testing.T, k, v string) types.Map {
	t.Helper()
	m, d := types.MapValueFrom(t.Context(), types.StringType, map[string]string{k: v})
	if d.HasError() {
		t.Fatal(d)
	}
	return m
}

func warningText(t *testing.T, diags diag.Diagnostics) string {
	t.Helper()
	if diags.HasError() || len(diags) == 0 {
		t.Fatalf("want warnings only, got %v", diags)
	}
	var b strings.Builder
	for _, d := range diags {
		b.WriteString(d.Summary() + ": " + d.Detail() + "\n")
	}
	return b.String()
}

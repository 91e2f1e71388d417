package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

// Key rotation with overlap, shared by the account's role keys and signing key and by the
// trust's callout keys. The schedule itself (when to rotate, when to drop) is
// natsjwt.DecideRotation; this file turns it into planned values and warnings.

type keyRotationModel struct {
	Period      types.String `tfsdk:"period"`
	Keepers     types.Map    `tfsdk:"keepers"`
	GracePeriod types.String `tfsdk:"grace_period"`
	Emergency   types.Bool   `tfsdk:"emergency"`
}

type rotationStatusModel struct {
	Key                  types.String `tfsdk:"key"`
	CreatedAt            types.String `tfsdk:"created_at"`
	NextRotationAt       types.String `tfsdk:"next_rotation_at"`
	NextKey              types.String `tfsdk:"next_key"`
	PreviousKey          types.String `tfsdk:"previous_key"`
	PreviousKeyDroppedAt types.String `tfsdk:"previous_key_dropped_at"`
}

var rotationStatusAttrTypes = map[string]attr.Type{
	"key": types.StringType, "created_at": types.StringType, "next_rotation_at": types.StringType,
	"next_key": types.StringType, "previous_key": types.StringType, "previous_key_dropped_at": types.StringType,
}

var rotationStatusType = types.ObjectType{AttrTypes: rotationStatusAttrTypes}

func keyRotationAttribute(what, graceDoc string) schema.SingleNestedAttribute {
	return schema.SingleNestedAttribute{
		Optional: true,
		MarkdownDescription: "Rotates " + what + " with overlap (see the key rotation guide). The successor key is " +
			"generated one apply ahead and listed beside the current one, so servers trust it before anything is " +
			"signed with it; at the rotation it becomes the signing key, and the old key stays listed for " +
			"`grace_period`, then the next plan drops it. Give `period`, `keepers` or both.",
		Attributes: map[string]schema.Attribute{
			"period": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Rotate once the key is this old, as a Go duration (e.g. `\"720h\"`), at least `\"" +
					natsjwt.MinRotationPeriod.String() + "\"`; like `time_rotating`, time alone then makes a plan an " +
					"update. The plan shows when the next rotation is due in `next_rotation_at`.",
				Validators: []validator.String{checkString("Invalid rotation period", "must be a Go duration of at least "+
					natsjwt.MinRotationPeriod.String(), func(s string) error {
					d, err := parseGoDuration(s)
					if err != nil {
						return err
					}
					return natsjwt.CheckRotationPeriod(d)
				})},
			},
			"keepers": schema.MapAttribute{
				ElementType: types.StringType, Optional: true,
				MarkdownDescription: "Arbitrary key/value pairs; changing any of them rotates the key (like `keepers` " +
					"of the random provider, e.g. `{ generation = \"2\" }`).",
			},
			"grace_period": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "How long the previous key stays listed after a rotation, as a Go duration. " +
					"Default `\"" + natsjwt.DefaultRotationGrace.String() + "\"`, at most `\"" + natsjwt.MaxRotationGrace.String() +
					"\"` and never longer than `period`. " + graceDoc,
				Validators: []validator.String{checkString("Invalid grace period", "must be a Go duration of at most "+
					natsjwt.MaxRotationGrace.String(), func(s string) error {
					d, err := parseGoDuration(s)
					if err != nil {
						return err
					}
					return natsjwt.CheckRotationGrace(d)
				})},
			},
			"emergency": schema.BoolAttribute{
				Optional: true,
				MarkdownDescription: "Drop the previous key at once instead of after the grace period: at a rotation, " +
					"and on the next plan for a previous key still listed. nats-server then closes the connections of " +
					"every user the dropped key signed. Default `false`.",
			},
		},
	}
}

func rotationStatusAttribute(desc string) schema.SingleNestedAttribute {
	return schema.SingleNestedAttribute{Computed: true, MarkdownDescription: desc, Attributes: rotationStatusAttributes()}
}

func rotationStatusAttributes() map[string]schema.Attribute {
	s := func(desc string) schema.Attribute {
		return schema.StringAttribute{Computed: true, MarkdownDescription: desc}
	}
	return map[string]schema.Attribute{
		"key":                     s("Public key of the current signing key."),
		"created_at":              s("When the current key became the signing key (RFC 3339)."),
		"next_rotation_at":        s("When the next rotation is due (RFC 3339); null without `period`."),
		"next_key":                s("Public key of the successor, already listed so servers trust it before the rotation."),
		"previous_key":            s("Public key of the previous key while it is still listed (grace period), otherwise null."),
		"previous_key_dropped_at": s("When the next plan drops the previous key (RFC 3339); null without one."),
	}
}

// policy reads a configured rotation; known is false while any of its values is unknown.
func (m keyRotationModel) policy() (p natsjwt.RotationPolicy, known bool) {
	if m.Period.IsUnknown() || m.GracePeriod.IsUnknown() || m.Emergency.IsUnknown() || !m.Keepers.IsNull() && !valueFullyKnown(context.Background(), m.Keepers) {
		return p, false
	}
	p.Grace = natsjwt.DefaultRotationGrace
	if !m.GracePeriod.IsNull() {
		p.Grace, _ = time.ParseDuration(m.GracePeriod.ValueString())
	}
	if !m.Period.IsNull() {
		p.Period, _ = time.ParseDuration(m.Period.ValueString())
	}
	p.Emergency = m.Emergency.ValueBool()
	return p, true
}

func keyRotationFrom(ctx context.Context, v types.Object, diags *diag.Diagnostics) *keyRotationModel {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	var m keyRotationModel
	diags.Append(v.As(ctx, &m, basetypes.ObjectAsOptions{})...)
	return &m
}

func rotationStatusFrom(ctx context.Context, v attr.Value, diags *diag.Diagnostics) *rotationStatusModel {
	obj, ok := v.(types.Object)
	if !ok || obj.IsNull() || obj.IsUnknown() {
		return nil
	}
	var m rotationStatusModel
	diags.Append(obj.As(ctx, &m, basetypes.ObjectAsOptions{})...)
	return &m
}

func (s rotationStatusModel) value(diags *diag.Diagnostics) types.Object {
	v, d := types.ObjectValueFrom(context.Background(), rotationStatusAttrTypes, s)
	diags.Append(d...)
	return v
}

func unknownRotationStatus() rotationStatusModel {
	u := types.StringUnknown()
	return rotationStatusModel{Key: u, CreatedAt: u, NextRotationAt: u, NextKey: u, PreviousKey: u, PreviousKeyDroppedAt: u}
}

func rfc3339(t time.Time) types.String { return types.StringValue(t.UTC().Format(time.RFC3339)) }

// withTimes derives next_rotation_at and previous_key_dropped_at from created_at and the
// policy, so a changed period or grace shows its new dates in the plan.
func (s rotationStatusModel) withTimes(p natsjwt.RotationPolicy) rotationStatusModel {
	created, err := time.Parse(time.RFC3339, s.CreatedAt.ValueString())
	if s.CreatedAt.IsUnknown() || err != nil {
		if s.NextRotationAt = types.StringNull(); p.Period != 0 {
			s.NextRotationAt = types.StringUnknown()
		}
		if !s.PreviousKey.IsNull() {
			s.PreviousKeyDroppedAt = types.StringUnknown()
		}
		return s
	}
	s.NextRotationAt = types.StringNull()
	if _, at := natsjwt.RotationDue(p, created, created); p.Period != 0 {
		s.NextRotationAt = rfc3339(at)
	}
	s.PreviousKeyDroppedAt = types.StringNull()
	if !s.PreviousKey.IsNull() && !s.PreviousKey.IsUnknown() {
		s.PreviousKeyDroppedAt = rfc3339(natsjwt.PreviousKeyDropAt(p, created))
	}
	return s
}

// rotationSlot is one rotating key as a plan sees it.
type rotationSlot struct {
	// label names the key in warnings, e.g. `role "reader" of account ORDERS`.
	label string
	// attr is where warnings point.
	attr path.Path
	// policy and keepers are configured; priorKeepers are those of the last apply.
	policy         natsjwt.RotationPolicy
	keepers        types.Map
	priorKeepers   types.Map
	prior          *rotationStatusModel
	currentPlanned types.String // the key the plan keeps when nothing rotates
	prepared       *natsjwt.Signer
	// note says what the user must deploy before the old key goes, for keys whose users
	// do not expire on their own.
	note string
	// xkey words the warnings for a key that seals rather than signs.
	xkey bool
}

// slotPlan is what the plan does to the slot.
type slotPlan struct {
	status rotationStatusModel
	// rotateTo is the successor that becomes the signing key; nil when nothing rotates or
	// the successor is only known at apply (then the key is unknown in the plan).
	rotateTo *natsjwt.Signer
	rotates  bool
	changes  bool
}

// planRotationSlot decides the slot at now and warns with every step, naming the keys.
func planRotationSlot(s rotationSlot, now time.Time, diags *diag.Diagnostics) slotPlan {
	if s.prior == nil {
		// Rotation newly declared (or a new key): the successor is generated at apply.
		st := unknownRotationStatus()
		st.Key, st.PreviousKey, st.PreviousKeyDroppedAt = s.currentPlanned, types.StringNull(), types.StringNull()
		return slotPlan{status: st.withTimes(s.policy), changes: true}
	}
	created, err := time.Parse(time.RFC3339, s.prior.CreatedAt.ValueString())
	if err != nil {
		diags.AddError("Corrupt rotation status in state", s.label+": created_at: "+err.Error()+". This is always a bug in the provider.")
		return slotPlan{}
	}
	step := natsjwt.DecideRotation(s.policy, natsjwt.KeySchedule{CreatedAt: created, HasPrevious: !s.prior.PreviousKey.IsNull()},
		!keepersEqual(s.keepers, s.priorKeepers), now)
	st := *s.prior
	out := slotPlan{changes: step.Changes()}
	switch {
	case step.Rotate:
		out.rotates = true
		if s.prepared != nil && s.prepared.PublicKey == s.prior.NextKey.ValueString() {
			out.rotateTo = s.prepared
			st.Key = types.StringValue(s.prepared.PublicKey)
		} else {
			st.Key = types.StringUnknown()
		}
		st.CreatedAt, st.NextKey = types.StringUnknown(), types.StringUnknown()
		st.PreviousKey = types.StringNull()
		if step.KeepPrevious {
			st.PreviousKey = s.prior.Key
		}
		warnRotation(s, step, st.Key, now, diags)
	case step.DropPrevious:
		st.PreviousKey = types.StringNull()
		effect := "is removed from the JWT because %s. nats-server closes the connections of any user still signed by it; " +
			"with a grace period of at least the longest session there are none."
		if s.xkey {
			effect = "leaves callout_config because %s. A server that still seals requests to it (one with an older " +
				"callout account JWT) gets every connect refused."
		}
		diags.AddAttributeWarning(s.attr, "Key rotation: "+s.label+" drops its previous key",
			fmt.Sprintf("The previous key %s of %s "+effect+"%s", s.prior.PreviousKey.ValueString(), s.label, step.Why, noteSuffix(s.note)))
	}
	out.status = st.withTimes(s.policy)
	return out
}

func warnRotation(s rotationSlot, step natsjwt.RotationStep, to types.String, now time.Time, diags *diag.Diagnostics) {
	newKey := "a key generated at apply"
	uses, held, kept, dropped := "signs with", "listed in the JWT since the last apply, so servers already trust it",
		"Users it signed stay connected until they expire.", "nats-server closes the connections of every user it signed."
	if s.xkey {
		uses, held = "has servers seal requests to", "held by the callout since the last apply, so it opens requests sealed to it"
		kept, dropped = "The callout keeps opening requests sealed to it.", "servers still sealing to it get every connect refused."
	}
	if !to.IsUnknown() {
		newKey = to.ValueString() + " (prepared and " + held + ")"
	}
	old := s.prior.Key.ValueString()
	detail := fmt.Sprintf("%s rotates because %s: it %s %s from now on. ", s.label, step.Why, uses, newKey)
	if step.KeepPrevious {
		detail += fmt.Sprintf("The old key %s stays, unchanged, until about %s (grace period %s); the first plan "+
			"after that drops it. %s ", old, now.Add(s.policy.Grace).UTC().Format(time.RFC3339), s.policy.Grace, kept)
	} else {
		detail += fmt.Sprintf("The old key %s is dropped now: %s ", old, dropped)
	}
	if step.DropPrevious {
		detail += fmt.Sprintf("The key before it, %s, is dropped as well. ", s.prior.PreviousKey.ValueString())
	}
	if s.policy.Period != 0 {
		detail += fmt.Sprintf("The next rotation is due about %s.", now.Add(s.policy.Period).UTC().Format(time.RFC3339))
	}
	detail += noteSuffix(s.note)
	diags.AddAttributeWarning(s.attr, "Key rotation: "+s.label+" rotates its signing key", detail)
}

// applyRotationStatus fills what the plan left unknown except the current key, which the
// caller sets once it is known: the successor (generated now and stored with the prepared
// keys), when the current key started, and the derived dates.
func applyRotationStatus(st rotationStatusModel, p natsjwt.RotationPolicy, slot string, prepared preparedKeys,
	kind natsjwt.KeyKind, now time.Time) (rotationStatusModel, error) {
	if st.CreatedAt.IsUnknown() {
		st.CreatedAt = rfc3339(now)
	}
	if st.NextKey.IsUnknown() || prepared[slot] == "" {
		pub, seed, err := natsjwt.NewKey(kind)
		if err != nil {
			return st, err
		}
		prepared[slot] = seed
		st.NextKey = types.StringValue(pub)
	}
	return st.withTimes(p), nil
}

func noteSuffix(note string) string {
	if note == "" {
		return ""
	}
	return " " + note
}

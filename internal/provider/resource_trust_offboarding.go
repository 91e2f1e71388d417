package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

// trustOffboardingModel is the trust's offboarding attribute.
type trustOffboardingModel struct {
	Bucket   types.String `tfsdk:"bucket"`
	Replicas types.Int64  `tfsdk:"replicas"`
}

func offboardingAttribute() schema.SingleNestedAttribute {
	return schema.SingleNestedAttribute{
		Optional: true,
		MarkdownDescription: "Turns on offboarding (`natsping_offboarding`): the callout account gets JetStream limits " +
			"for one key-value bucket, and `callout_config` names that bucket. The callout then watches the bucket, " +
			"answers no request until it has read it (fail closed; `/readyz` says so), and refuses the tokens it " +
			"revokes. The servers must run JetStream (`jetstream {}`), with at least `replicas` JetStream servers. " +
			"Setting or removing it re-signs the callout account JWT (push it, or restart servers on a MEMORY resolver) " +
			"and needs a restart of the callout. See the offboarding guide.",
		Attributes: map[string]schema.Attribute{
			"bucket": schema.StringAttribute{
				Optional: true, Computed: true, Default: stringdefault.StaticString(calloutconfig.DefaultOffboardingBucket),
				MarkdownDescription: "Key-value bucket in the callout account. Default `\"" + calloutconfig.DefaultOffboardingBucket + "\"`.",
				Validators: []validator.String{checkString("Invalid bucket name",
					"must be a JetStream key-value bucket name", calloutconfig.CheckOffboardingBucket)},
			},
			"replicas": schema.Int64Attribute{
				Optional: true, Computed: true, Default: int64default.StaticInt64(3),
				MarkdownDescription: fmt.Sprintf("Replicas of the bucket's stream, %d to %d: `3` on a 3-node cluster (the bucket "+
					"survives a node), `1` on a single server. Used when the bucket is created (by the callout or by "+
					"`natsping_offboarding`, whichever comes first); changing it later does not move an existing bucket. Default `3`.",
					calloutconfig.OffboardingReplicaBounds.Min, calloutconfig.OffboardingReplicaBounds.Max),
				Validators: []validator.Int64{replicasCheck{}},
			},
		},
	}
}

type replicasCheck struct{}

func (replicasCheck) Description(context.Context) string {
	return fmt.Sprintf("must be between %d and %d", calloutconfig.OffboardingReplicaBounds.Min, calloutconfig.OffboardingReplicaBounds.Max)
}
func (v replicasCheck) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }
func (replicasCheck) ValidateInt64(_ context.Context, req validator.Int64Request, resp *validator.Int64Response) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if err := calloutconfig.CheckOffboardingReplicas(int(req.ConfigValue.ValueInt64())); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Replicas out of range", sentence(err.Error()))
	}
}

// offboardingDocument is the document's offboarding section, nil when off.
func (m *trustModel) offboardingDocument(ctx context.Context) *calloutconfig.Offboarding {
	if m.Offboarding.IsNull() || m.Offboarding.IsUnknown() {
		return nil
	}
	var o trustOffboardingModel
	if diags := m.Offboarding.As(ctx, &o, basetypes.ObjectAsOptions{}); diags.HasError() {
		return nil
	}
	bucket := o.Bucket.ValueString()
	if o.Bucket.IsNull() || o.Bucket.IsUnknown() {
		bucket = calloutconfig.DefaultOffboardingBucket
	}
	replicas := int64(3)
	if !o.Replicas.IsNull() && !o.Replicas.IsUnknown() {
		replicas = o.Replicas.ValueInt64()
	}
	return &calloutconfig.Offboarding{Bucket: bucket, Replicas: int(replicas)}
}

// offboardingJetStream is the callout account's JetStream: only with offboarding on.
func (m *trustModel) offboardingJetStream() *natsjwt.JetStreamSpec {
	if m.Offboarding.IsNull() {
		return nil
	}
	return natsjwt.CalloutOffboardingJetStream()
}

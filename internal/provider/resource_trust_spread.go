package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/float64default"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
)

var expirySpreadDoc = fmt.Sprintf("How much of each session, at most, the callout may cut from its end, in percent, so "+
	"that clients admitted together (a deploy, a network blip, a fleet started at once) do not all reconnect in the "+
	"same second when their tokens expire together. Each user JWT expires at a point chosen per connection between "+
	"its cap (the token's `exp` or the mapping's `max_session`, whichever comes first) and up to this percentage of "+
	"the remaining session earlier: never later than the cap, at most %s earlier, and never leaving less than %s (a "+
	"session with less left is not shortened). The trade-off: sessions end on average half this percentage early, so "+
	"clients reconnect, and present a token, slightly more often; in return the reconnections of a cohort arrive "+
	"over the window instead of as one spike at the callout and at Ping. `0` turns spreading off. Audit lines show "+
	"the chosen `user_expires` beside the unspread `session_cap`. Between `0` and `%v`. Default `%v`.",
	calloutconfig.ShortDuration(calloutconfig.ExpirySpreadMaxWindow), calloutconfig.ShortDuration(calloutconfig.ExpirySpreadFloor),
	calloutconfig.MaxExpirySpreadPercent, calloutconfig.DefaultExpirySpreadPercent)

func expirySpreadAttribute() schema.Float64Attribute {
	return schema.Float64Attribute{
		Optional: true, Computed: true, Default: float64default.StaticFloat64(calloutconfig.DefaultExpirySpreadPercent),
		MarkdownDescription: expirySpreadDoc,
		Validators:          []validator.Float64{expirySpreadCheck{}},
	}
}

// expirySpreadCheck applies calloutconfig.CheckExpirySpreadPercent at plan time.
type expirySpreadCheck struct{}

func (expirySpreadCheck) Description(context.Context) string {
	return fmt.Sprintf("must be between 0 and %v", calloutconfig.MaxExpirySpreadPercent)
}
func (v expirySpreadCheck) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }
func (expirySpreadCheck) ValidateFloat64(_ context.Context, req validator.Float64Request, resp *validator.Float64Response) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if err := calloutconfig.CheckExpirySpreadPercent(req.ConfigValue.ValueFloat64()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Expiry spread out of range", sentence(err.Error()))
	}
}

// expirySpreadDocument is the document's expiry_spread_percent: absent at the default, which
// the callout reads as the default, so documents of existing trusts keep their bytes and a
// callout older than the field still loads them; any other value, 0 included, is written.
func expirySpreadDocument(v types.Float64) *float64 {
	if v.IsNull() || v.IsUnknown() || v.ValueFloat64() == calloutconfig.DefaultExpirySpreadPercent {
		return nil
	}
	return new(v.ValueFloat64())
}

package provider

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/natsping/terraform-provider-natsping/internal/pingone"
)

var (
	_ datasource.DataSource              = (*pingGroupsDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*pingGroupsDataSource)(nil)
)

// NewPingGroupsDataSource lists PingOne groups, so role mappings can be written against what
// really exists and a renamed or deleted group shows up in the next plan.
func NewPingGroupsDataSource() datasource.DataSource { return &pingGroupsDataSource{} }

type pingGroupsDataSource struct {
	data *ProviderData
}

type pingGroupsDataSourceModel struct {
	Filter types.String     `tfsdk:"filter"`
	Groups []pingGroupModel `tfsdk:"groups"`
}

type pingGroupModel struct {
	ID           types.String `tfsdk:"id"`
	Name         types.String `tfsdk:"name"`
	Description  types.String `tfsdk:"description"`
	ExternalID   types.String `tfsdk:"external_id"`
	PopulationID types.String `tfsdk:"population_id"`
}

func (d *pingGroupsDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_ping_groups"
}

func (d *pingGroupsDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = pingGroupsDataSourceSchema()
}

func pingGroupsDataSourceSchema() schema.Schema {
	return schema.Schema{
		MarkdownDescription: "Lists the groups of the PingOne environment configured in the provider's `pingone` block, " +
			"read live from the PingOne Management API on every plan. Use it to write role mappings against groups " +
			"that exist and to see renamed or deleted groups as a diff. The worker application needs a role that can " +
			"read groups (for example Identity Data Read Only). For a private PingOne endpoint whose certificate is " +
			"issued by your own CA, set `PINGONE_CA_BUNDLE_FILE` to a PEM bundle of that CA.",
		Attributes: map[string]schema.Attribute{
			"filter": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "PingOne SCIM filter; omit it to list every group. Attributes: `name`, `externalId`, " +
					"`displayName` (operators `eq`, `sw`) and `id`, `population.id`, `sourceId` (`eq` only); values are " +
					"double-quoted, e.g. `name sw \"eng\"` or `population.id eq \"<population id>\"`. PingOne may " +
					"compare names without regard to case.",
				Validators: []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"groups": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "Matching groups, sorted by name (then id) so that the order never causes a diff.",
				NestedObject: schema.NestedAttributeObject{
					Attributes: map[string]schema.Attribute{
						"id":   schema.StringAttribute{Computed: true, MarkdownDescription: "Group id (a UUID)."},
						"name": schema.StringAttribute{Computed: true, MarkdownDescription: "Group name, as it appears in tokens mapped with `${user.memberOfGroupNames}`."},
						"description": schema.StringAttribute{Computed: true,
							MarkdownDescription: "Description; null when the group has none."},
						"external_id": schema.StringAttribute{Computed: true,
							MarkdownDescription: "External id (`externalId`), set by provisioning from another directory; null when absent."},
						"population_id": schema.StringAttribute{Computed: true,
							MarkdownDescription: "Id of the population the group belongs to; null for an environment-level group."},
					},
				},
			},
		},
	}
}

func (d *pingGroupsDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *pingGroupsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var model pingGroupsDataSourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &model)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if d.data == nil || d.data.PingOne == nil {
		resp.Diagnostics.AddError("PingOne is not configured", pingOneNotConfigured("The natsping_ping_groups data source"))
		return
	}
	client, err := newPingOneClient(d.data.PingOne)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("pingone"), "Invalid PingOne settings", err.Error())
		return
	}
	filter := model.Filter.ValueString()
	groups, err := client.ListGroups(ctx, filter)
	if err != nil {
		if isPingOneFilterError(err) {
			resp.Diagnostics.AddAttributeError(path.Root("filter"), "Invalid PingOne group filter",
				"PingOne rejected the filter `"+filter+"`: "+err.Error()+". Fix the filter, for example "+
					`name eq "Managers" or name sw "eng", or remove it to list every group.`)
			return
		}
		resp.Diagnostics.AddError("Cannot list PingOne groups", err.Error())
		return
	}
	tflog.Debug(ctx, "listed PingOne groups", map[string]any{"filter": filter, "count": len(groups)})

	slices.SortFunc(groups, func(a, b pingone.Group) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	model.Groups = make([]pingGroupModel, len(groups))
	for i, g := range groups {
		model.Groups[i] = pingGroupModel{
			ID:           types.StringValue(g.ID),
			Name:         types.StringValue(g.Name),
			Description:  stringOrNull(g.Description),
			ExternalID:   stringOrNull(g.ExternalID),
			PopulationID: stringOrNull(g.PopulationID),
		}
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &model)...)
}

// isPingOneFilterError reports PingOne's 400 for a filter it cannot parse or does not support.
func isPingOneFilterError(err error) bool {
	var apiErr *pingone.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadRequest {
		return false
	}
	return slices.ContainsFunc(apiErr.Details, func(d pingone.ErrorDetail) bool {
		return d.Code == "INVALID_FILTER" || d.Target == "filter"
	})
}

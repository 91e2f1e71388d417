# The same table as data.natsping_access_view, computed while planning from the same
# non-secret inputs (see the data source's example for local.review_accounts and
# local.review_mappings).
output "access_review_in_plan" {
  value = provider::natsping::access_view(local.review_accounts, local.review_mappings)
}

# Every group of the PingOne environment configured in the provider's pingone block.
data "natsping_ping_groups" "all" {}

# Only the engineering groups of one population.
data "natsping_ping_groups" "engineering" {
  filter = "name sw \"Engineering\" and population.id eq \"88888888-0001-4000-8000-000000000001\""
}

# Group names by id, e.g. to review what a role mapping refers to.
output "engineering_groups" {
  value = { for g in data.natsping_ping_groups.engineering.groups : g.id => g.name }
}

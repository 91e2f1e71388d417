output "server_config" {
  description = "nats-server configuration: write it to a file and start nats-server with -c."
  value       = data.natsping_server_config.main.config
}

output "callout_config" {
  description = "Configuration of natsping-callout (secrets inside): `tofu output -raw callout_config > callout.json`."
  value       = natsping_trust.ping.callout_config
  sensitive   = true
}

output "orders_account" {
  value = natsping_account.orders.public_key
}

output "access_review" {
  description = "Who gets which role with which permissions, as a markdown table for the pull request."
  value       = provider::natsping::access_view(local.review_accounts, local.review_mappings)
}

locals {
  sentinel = jsondecode(provider::natsping::decode_jwt(var.sentinel_jwt))
}

# Refuse a sentinel that is not a bearer token before it reaches a server config.
resource "terraform_data" "sentinel_check" {
  lifecycle {
    precondition {
      condition     = local.sentinel.type == "user" && local.sentinel.signature_valid && try(local.sentinel.claims.nats.bearer_token, false)
      error_message = "The default sentinel must be a validly signed bearer user JWT."
    }
  }
}

terraform {
  required_providers {
    natsping = {
      source = "natsping/natsping"
    }
  }
}

# Offline: operators, accounts, roles and configs need no credentials.
provider "natsping" {}

# With a PingOne worker application, mapped groups are checked against PingOne while planning.
# Every attribute falls back to the PINGONE_* environment variable the PingOne provider reads
# (PINGONE_REGION_CODE, PINGONE_API_SERVICE_HOSTNAME, ...); keep the secret there.
provider "natsping" {
  alias = "checked"
  pingone = {
    region_code    = "EU"
    environment_id = "00000000-0000-4000-8000-000000000000"
    client_id      = "11111111-1111-4111-8111-111111111111"
    # client_secret from PINGONE_CLIENT_SECRET
  }
}

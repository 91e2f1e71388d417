variable "ping_issuer" {
  type        = string
  description = "Issuer of your Ping tokens: https://auth.pingone.<tld>/<environment id>/as for PingOne, the base URL for PingFederate."
}

variable "ping_audience" {
  type        = string
  description = "Audience of the tokens NATS clients present (the PingOne custom resource's audience)."
  default     = "https://nats.example.com"
}

variable "ping_ca_bundle_pem" {
  type        = string
  description = "Extra CA certificates (PEM) for reaching the issuer, e.g. a PingFederate behind a private CA."
  default     = null
}

variable "reader_groups" {
  type        = list(string)
  description = "Ping groups (names or ids) whose members may read orders."
  default     = ["nats-readers"]
}

variable "writer_groups" {
  type        = list(string)
  description = "Ping groups (names or ids) whose members may publish orders."
  default     = ["nats-writers"]
}

variable "nats_host" {
  type    = string
  default = "127.0.0.1"
}

variable "nats_port" {
  type    = number
  default = 4222
}

variable "jetstream_store_dir" {
  type    = string
  default = "./jetstream"
}

variable "jwks_min_refresh_interval" {
  type        = string
  description = "Least time between JWKS refetches caused by unknown key ids (protects Ping from token storms)."
  default     = "30s"
}

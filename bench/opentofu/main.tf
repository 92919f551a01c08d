# The benchmark's peer: N webhooks of the local API stand-in managed by OpenTofu with Mastercard's
# generic REST provider (`restapi_object`), as a platform team would write it. python -m bench runs
# it with a CLI config whose dev_overrides point at the provider binary it is given.

terraform {
  required_providers {
    restapi = {
      source = "Mastercard/restapi"
    }
  }
}

variable "api_url" {
  type = string
}

variable "api_token" {
  type      = string
  sensitive = true
}

variable "n" {
  type = number
}

variable "suffix" {
  type    = string
  default = "v1"
}

provider "restapi" {
  uri          = var.api_url
  id_attribute = "webhookId"
  # POST /webhooks answers the created webhook with its id, and a PUT's answer is taken as the
  # object written: no read after a create or an update (the fastest setting that plans right).
  create_returns_object = true
  write_returns_object  = true
  headers = {
    Authorization  = "Bearer ${var.api_token}"
    "Content-Type" = "application/json"
  }
}

resource "restapi_object" "hook" {
  count = var.n
  path  = "/webhooks"
  data = jsonencode({
    endpoint    = "https://bench.example.com/${var.suffix}/${count.index}"
    authType    = "bearer"
    token       = "bench-token"
    isAlertHook = false
  })
  # Reads mask the token and add the id and unset fields: without this every plan would update.
  ignore_changes_to = ["token", "password", "userName", "webhookId"]
}

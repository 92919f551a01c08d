# The benchmark's peer: N webhooks of the local API stand-in managed by OpenTofu with Mastercard's
# generic REST provider (`restapi_object`), as a platform team would write it. python -m bench runs
# it with a CLI config whose dev_overrides point at the provider binary it is given.
#
# The defaults are the fastest configuration that still plans right (an update applied, no change
# on a second plan, the token never shown); `python -m bench.peer_configs` times the others
# (docs/benchmarks.md).

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

variable "hook_token" {
  type      = string
  sensitive = true # the hooks' `data` is shown as (sensitive value) in plans
  default   = "bench-token"
}

variable "n" {
  type = number
}

variable "suffix" {
  type    = string
  default = "v1"
}

variable "server_changes" {
  description = "what plans ignore of what the server says: listed (the fields in ignore_changes_to), additions (also fields it adds), all"
  type        = string
  default     = "listed"
}

variable "write_returns_object" {
  description = "true: a PUT's answer is taken as the object written; false: a read follows each PUT"
  type        = bool
  default     = true
}

provider "restapi" {
  uri                   = var.api_url
  id_attribute          = "webhookId"
  create_returns_object = true # the POST answers the webhook with its id (without it, no id is learnt)
  write_returns_object  = var.write_returns_object
  update_method         = "PUT"
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
    token       = var.hook_token
    isAlertHook = false
  })
  # Reads mask the token and add the id and unset fields: without this every plan would update.
  ignore_changes_to         = var.server_changes == "all" ? null : ["token", "password", "userName", "webhookId"]
  ignore_server_additions   = var.server_changes == "additions"
  ignore_all_server_changes = var.server_changes == "all" # plans then miss the program's own changes too
}

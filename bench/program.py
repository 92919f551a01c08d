"""The benchmark's Pulumi program: `count` bearer webhooks, endpoints under `suffix`."""

import pulumi

from pulumi_webhooks import Webhook, WebhookProvider

config = pulumi.Config()
if config.get_bool("secretProvider"):
    # The SDK default, kept measurable: __provider encrypted in state as a secret.
    WebhookProvider.serialize_as_secret_always = True
token = config.require_secret("hookToken")
suffix = config.get("suffix") or "v1"
for i in range(config.require_int("count")):
    Webhook(f"hook-{i:04d}", endpoint=f"https://bench.example.com/{suffix}/{i}", auth_type="bearer", token=token)

"""The benchmark's Pulumi program: `count` bearer webhooks, endpoints under `suffix`, declared as
one `WebhookFleet` (config `program: fleet`) or as one `Webhook` each (`program: hooks`)."""

import pulumi

from pulumi_webhooks import Webhook, WebhookFleet, WebhookProvider

config = pulumi.Config()
if config.get_bool("secretProvider"):
    # The SDK default, kept measurable: __provider encrypted in state as a secret.
    WebhookProvider.serialize_as_secret_always = True
suffix = config.get("suffix") or "v1"
count = config.require_int("count")
if config.get("program") == "fleet":
    catalog = [
        {
            "team": "bench",
            "name": f"hook-{i:04d}",
            "endpoint": f"https://bench.example.com/{suffix}/{i}",
            "auth_type": "bearer",
            "token_secret": "hookToken",
        }
        for i in range(count)
    ]
    WebhookFleet("fleet", catalog)
else:
    token = config.require_secret("hookToken")
    for i in range(count):
        Webhook(f"hook-{i:04d}", endpoint=f"https://bench.example.com/{suffix}/{i}", auth_type="bearer", token=token)

"""Every webhook of catalog.yaml, across teams, as one WebhookFleet."""

from pathlib import Path

import pulumi

from pulumi_webhooks import WebhookFleet

fleet = WebhookFleet("fleet", Path(__file__).with_name("catalog.yaml"))
pulumi.export("webhook_ids", fleet.webhook_ids)

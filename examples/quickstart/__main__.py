"""Three webhooks, one per family of auth type, with their secrets from stack config."""

import pulumi

from pulumi_webhooks import AuthType, Webhook

config = pulumi.Config()

status_page = Webhook(
    "status-page",
    endpoint="https://status.example.com/hooks/deploys",
    auth_type=AuthType.NONE,
)

ops = Webhook(
    "ops-basic",
    endpoint="https://ops.example.com/hooks/incoming",
    auth_type=AuthType.BASIC,
    user_name=config.get("opsUserName") or "ops",
    password=config.require_secret("opsPassword"),
)

alerts = Webhook(
    "alerts",
    endpoint="https://alerts.example.com/hooks/pager",
    auth_type=AuthType.BEARER,
    token=config.require_secret("alertsToken"),
    is_alert_hook=True,
)

pulumi.export(
    "webhook_ids",
    {
        "status-page": status_page.webhook_id,
        "ops-basic": ops.webhook_id,
        "alerts": alerts.webhook_id,
    },
)

"""Webhooks of the vendor API as Pulumi resources."""

from .provider import WebhookProvider
from .resource import Webhook, WebhookArgs
from .spec import AuthType

__all__ = ["AuthType", "Webhook", "WebhookArgs", "WebhookProvider"]

"""Webhooks of the vendor API as Pulumi resources."""

from .catalog import CatalogError
from .fleet import WebhookFleet
from .provider import WebhookProvider
from .resource import Webhook, WebhookArgs
from .spec import AuthType

__all__ = ["AuthType", "CatalogError", "Webhook", "WebhookArgs", "WebhookFleet", "WebhookProvider"]

"""Webhooks of the vendor API as Pulumi resources."""

__version__ = "0.1.0"  # the one place the version is written; pyproject.toml reads it

from .catalog import CatalogError
from .fleet import WebhookFleet
from .provider import WebhookProvider
from .resource import Webhook, WebhookArgs
from .spec import AuthType

__all__ = ["AuthType", "CatalogError", "Webhook", "WebhookArgs", "WebhookFleet", "WebhookProvider"]

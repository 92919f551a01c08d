"""Webhooks of the vendor API as Pulumi resources."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"  # the one place the version is written; pyproject.toml reads it

__all__ = ["AuthType", "CatalogError", "Webhook", "WebhookArgs", "WebhookFleet", "WebhookProvider"]

# Loaded on first use: the command line (`pulumi-webhooks list`, ...) needs none of the
# Pulumi SDK, which costs it half its start-up time.
_HOMES = {
    "AuthType": "spec",
    "CatalogError": "catalog",
    "Webhook": "resource",
    "WebhookArgs": "resource",
    "WebhookFleet": "fleet",
    "WebhookProvider": "provider",
}

if TYPE_CHECKING:
    from .catalog import CatalogError
    from .fleet import WebhookFleet
    from .provider import WebhookProvider
    from .resource import Webhook, WebhookArgs
    from .spec import AuthType


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f".{_HOMES[name]}", __name__), name)

"""Webhooks of the vendor API as Pulumi resources."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"  # the one place the version is written; pyproject.toml reads it

__all__ = ["AuthType", "CatalogError", "Webhook", "WebhookArgs", "WebhookFleet", "WebhookProvider"]

# Loaded on first use: the command line (`pulumi-webhooks list`, ...) needs none of the
# Pulumi SDK, which costs it half its start-up time.
_HOMES = {
    "AuthType": "model.spec",
    "CatalogError": "model.catalog",
    "Webhook": "program.resource",
    "WebhookArgs": "program.resource",
    "WebhookFleet": "program.fleet",
    "WebhookProvider": "provider",
}

if TYPE_CHECKING:
    from .model.catalog import CatalogError
    from .model.spec import AuthType
    from .program.fleet import WebhookFleet
    from .program.resource import Webhook, WebhookArgs
    from .provider import WebhookProvider


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f".{_HOMES[name]}", __name__), name)

"""`WebhookFleet`: every hook of a catalog as a `Webhook`, under one component."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pulumi

from ..errors import WebhooksError
from ..model import catalog
from ..model.spec import PYTHON_NAMES
from ..provider.webhook import WebhookProvider
from ..sdk_internals import exit_as_told
from .callsite import user_call_site
from .resource import Webhook


class UndeployableFleet(WebhooksError, pulumi.RunError):
    """A fleet's catalog or its secret keys are wrong; the SDK's runner shows a `RunError` as its message alone."""


class WebhookFleet(pulumi.ComponentResource):
    """The hooks of a catalog (file path, or parsed data), each a child `Webhook`.

    Resource names are `<fleet>-<team>-<hook>`, so adding, removing or reordering
    catalog entries touches only those entries. Secrets come from stack config
    by the keys the catalog names. Every catalog problem, including a missing
    secret key, is reported at once, before any resource is registered.

    Args:
        name: The component's name; each hook is named `<name>-<team>-<hook>`.
        source: A catalog file (`.yaml`, `.yml`, `.json` or `.toml`), or its parsed data
            (docs/fleets.md gives the format).
        opts: Pulumi resource options of the component.
        provider: The API connection of every hook (default: `WebhookProvider()`).
        config: Where the catalog's secret keys are read (default: the project's config).
        teams: Deploy only these teams' hooks: one catalog split across stacks, each stack
            naming its teams. An unknown name or an empty list is an error, never an empty
            fleet (which would delete the stack's hooks).

    Attributes:
        webhook_ids: The API's id of each hook, keyed `team/name`.
        endpoints: The endpoint of each hook, keyed `team/name`.
        hooks: The `Webhook` resources, keyed `team/name`.
    """

    webhook_ids: pulumi.Output[dict[str, str]]
    endpoints: pulumi.Output[dict[str, str]]

    def __init__(
        self,
        name: str,
        source: str | Path | Sequence[Mapping[str, Any]] | Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
        *,
        provider: WebhookProvider | None = None,
        config: pulumi.Config | None = None,
        teams: Sequence[str] | None = None,
    ) -> None:
        config = config or pulumi.Config()
        try:
            hooks = catalog.load(source, teams)
            missing = sorted({key for hook in hooks for key in hook.secret_keys() if config.get_secret(key) is None})
            if missing:
                raise catalog.CatalogError(
                    [
                        f"stack config: secret key '{key}' is not set: run `pulumi config set --secret {key} ...`"
                        for key in missing
                    ]
                )
        except catalog.CatalogError as error:
            if not exit_as_told():
                raise
            site = user_call_site()
            where = f"{site}: " if site else ""
            # Shown by the SDK's runner as the message alone, with no traceback.
            raise UndeployableFleet(f"{where}WebhookFleet '{name}' cannot be deployed: {error}") from None
        super().__init__("webhooks:index:WebhookFleet", name, None, opts)

        child = pulumi.ResourceOptions(parent=self)
        self.hooks: dict[str, Webhook] = {
            hook.key: Webhook(
                f"{name}-{hook.resource_suffix}",
                opts=child,
                **_arguments(hook, config),
                provider=provider,
            )
            for hook in hooks
        }
        self.webhook_ids = _by_key({k: h.webhook_id for k, h in self.hooks.items()})
        self.endpoints = _by_key({k: h.endpoint for k, h in self.hooks.items()})
        self.register_outputs({"webhook_ids": self.webhook_ids, "endpoints": self.endpoints})


def _arguments(hook: catalog.Hook, config: pulumi.Config) -> dict[str, Any]:
    """The hook's `Webhook` keyword arguments: its fields, its secrets from stack config, its adopt_id."""
    arguments: dict[str, Any] = {PYTHON_NAMES[field]: value for field, value in hook.fields.items()}
    arguments |= {PYTHON_NAMES[secret]: config.require_secret(key) for secret, key in hook.secrets.items()}
    return arguments | {"adopt_id": hook.adopt_id}


def _by_key(outputs: dict[str, pulumi.Output[str]]) -> pulumi.Output[dict[str, str]]:
    if not outputs:
        return pulumi.Output.from_input({})
    return pulumi.Output.all(**outputs)  # type: ignore[return-value]

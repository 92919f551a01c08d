"""`WebhookFleet`: every hook of a catalog, deployed as one resource."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pulumi
from pulumi import dynamic

from ..errors import WebhooksError
from ..model import catalog
from ..model.fleet import ADOPT_KEY, HOOKS, SECRET_MAP, VERSION_KEY, WEBHOOK_IDS
from ..provider import FleetProvider, WebhookProvider
from ..sdk_internals import exit_as_told, register_at, restore_sdk_pickler
from .callsite import user_call_site


class UndeployableFleet(WebhooksError, pulumi.RunError):
    """A fleet's catalog or its secret keys are wrong; the SDK's runner shows a `RunError` as its message alone."""


class WebhookFleet(dynamic.Resource, module="webhooks", name="WebhookFleet"):
    """The hooks of a catalog (a file, or its parsed data), deployed as one resource.

    Each hook is known by its key, `team/name`, so adding, removing or reordering catalog
    entries touches only those hooks. Secrets come from stack config by the keys the catalog
    names. Every catalog problem, including a missing secret key, is reported at once, before
    anything is registered. The engine takes one step for the whole fleet, and its provider
    works through the hooks many at a time (`webhooks:maxConcurrentRequests`); a hook that
    fails is named, and the others are kept.

    Args:
        name: The fleet's name in the stack.
        source: A catalog file (`.yaml`, `.yml`, `.json` or `.toml`), or its parsed data
            (docs/fleets.md gives the format).
        opts: Pulumi resource options of the fleet.
        provider: The API connection of every hook (default: `WebhookProvider()`).
        config: Where the catalog's secret keys are read (default: the project's config).
        teams: Deploy only these teams' hooks: one catalog split across stacks, each stack
            naming its teams. An unknown name or an empty list is an error, never an empty
            fleet (which would delete the stack's hooks).

    Attributes:
        webhook_ids: The API's id of each hook, keyed `team/name`.
        endpoints: The endpoint of each hook, keyed `team/name`.
        hooks: Each hook as the API holds it (its `webhookId` and fields, no secret), keyed `team/name`.
    """

    hooks: pulumi.Output[dict[str, dict[str, Any]]]
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
        site = user_call_site()
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
            where = f"{site}: " if site else ""
            # Shown by the SDK's runner as the message alone, with no traceback.
            raise UndeployableFleet(f"{where}WebhookFleet '{name}' cannot be deployed: {error}") from None

        props: dict[str, Any] = {
            HOOKS: {hook.key: _inputs(hook) for hook in hooks},
            SECRET_MAP: pulumi.Output.secret(_secrets(hooks, config)),
            "webhook_ids": None,  # an output only (webhookIds in state): unknown until the hooks are made
        }
        connection = FleetProvider((provider or WebhookProvider()).connection)
        registration = (connection, name, props, opts)
        with restore_sdk_pickler():
            if site is None:
                super().__init__(*registration)
            else:  # state records the user's line as the position, and no other frame
                register_at(site, super().__init__, *registration)
        self.endpoints = self.hooks.apply(lambda held: {key: hook["endpoint"] for key, hook in held.items()})

    def translate_input_property(self, prop: str) -> str:
        return WEBHOOK_IDS if prop == "webhook_ids" else prop

    def translate_output_property(self, prop: str) -> str:
        return "webhook_ids" if prop == WEBHOOK_IDS else prop


def _inputs(hook: catalog.Hook) -> dict[str, Any]:
    adopt = {ADOPT_KEY: hook.adopt_id} if hook.adopt_id else {}
    version = {VERSION_KEY: hook.secrets_version} if hook.secrets_version is not None else {}
    return {**hook.fields, **adopt, **version}


def _secrets(hooks: list[catalog.Hook], config: pulumi.Config) -> dict[str, dict[str, pulumi.Output[str]]]:
    """Each hook's secrets, read from stack config by the keys its catalog entry names."""
    return {
        hook.key: {secret: config.require_secret(key) for secret, key in hook.secrets.items()}
        for hook in hooks
        if hook.secrets
    }

"""Which webhooks the stacks of a backend hold, read from their `pulumi stack export`s.

`drift --stack` matches a catalog's hooks by the ids their stack's state records, and says of
each live webhook no hook claims whether a resource of some stack holds it, or none does. Only
the state's JSON is read: no provider is unpickled, so the Pulumi SDK is never loaded.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ..api.settings import ACCOUNT, another_account
from ..errors import WebhooksError
from ..model.fleet import HOOKS
from ..model.live import ID
from .stack import Stack

WEBHOOK_TYPES = ("webhooks:Webhook", "webhooks:index:Webhook")
"""The ends of a `Webhook`'s type: the dynamic provider's (`pulumi-python:dynamic/webhooks:Webhook`), the plugin's."""
FLEET_TYPES = ("webhooks:WebhookFleet", "webhooks:index:WebhookFleet")
EXPORTS_AT_ONCE = 4
"""Other stacks' exports run this many at a time: each is a `pulumi` process of its own."""


@dataclass(frozen=True)
class Holder:
    """The resource of a stack that holds a webhook: a `Webhook`, or a hook (`key`) of a fleet."""

    stack: str
    resource: str
    key: str | None = None

    def __str__(self) -> str:
        return f"stack {self.stack}, {self.resource}" + (f"[{self.key}]" if self.key else "")


@dataclass
class Holdings:
    """What `drift --stack` knows from state: the webhooks of the account each stack holds."""

    stack: str
    held: dict[str, Holder] = field(default_factory=dict)
    """Webhook id -> its holder; the named stack's own come first and win."""
    stacks_read: list[str] = field(default_factory=list)
    unreadable: dict[str, str] = field(default_factory=dict)
    """Stacks whose state could not be read -> why: the webhooks they hold show as no stack's."""

    def ids_by_key(self, keys: Iterable[str]) -> dict[str, str]:
        """The named stack's ids of a catalog's hooks, by hook key: those of its fleet that holds
        most of `keys` (a stack may have several fleets, one per catalog)."""
        wanted = set(keys)
        own = [(holder, webhook_id) for webhook_id, holder in self.held.items() if holder.stack == self.stack]
        shares = Counter(holder.resource for holder, _ in own if holder.key in wanted)
        if not shares:
            return {}
        fleet = shares.most_common(1)[0][0]
        return {str(holder.key): webhook_id for holder, webhook_id in own if holder.resource == fleet}


def read(stack: Stack, account: Mapping[str, Any]) -> Holdings:
    """The webhooks in `account` that `stack` holds, then those every other stack of its backend
    (that the CLI lists, with resources) holds. A stack whose state cannot be read is noted."""
    holdings = Holdings(stack.name)
    holdings.held.update(held(stack.name, json.loads(stack.pulumi("stack", "export")), account))
    holdings.stacks_read.append(stack.name)
    listed = json.loads(stack.in_backend("stack", "ls", "--all", "--json") or "[]")
    others = [str(s["name"]) for s in listed if s.get("resourceCount") and not stack.is_named(str(s["name"]))]

    def export(name: str) -> dict[str, Any] | str:
        try:
            return dict(json.loads(Stack(name, stack.cwd).pulumi("stack", "export")))
        except (WebhooksError, ValueError) as error:
            return str(error)

    with ThreadPoolExecutor(EXPORTS_AT_ONCE) as pool:
        for name, exported in zip(others, pool.map(export, others), strict=True):
            if isinstance(exported, str):
                holdings.unreadable[name] = exported
                continue
            holdings.stacks_read.append(name)
            for webhook_id, holder in held(name, exported, account).items():
                holdings.held.setdefault(webhook_id, holder)
    return holdings


def held(stack: str, export: Mapping[str, Any], account: Mapping[str, Any]) -> dict[str, Holder]:
    """Each webhook that a stack's state holds in `account`, by id. Resources that state records as
    made in another account are left out: their ids name other webhooks."""
    deployment = export.get("deployment", export)
    found: dict[str, Holder] = {}
    for resource in deployment.get("resources") or []:
        outputs = resource.get("outputs") or {}
        if another_account(outputs.get(ACCOUNT), account):
            continue
        name = str(resource.get("urn", "")).rsplit("::", 1)[-1]
        if is_fleet(resource):
            for key, hook in (outputs.get(HOOKS) or {}).items():
                if hook.get(ID):
                    found[str(hook[ID])] = Holder(stack, name, key)
        elif is_webhook(resource) and resource.get("id"):
            found[str(resource["id"])] = Holder(stack, name)
    return found


def ids_of(resource: Mapping[str, Any]) -> set[str]:
    """The webhooks a resource of state holds: a webhook's id, or a fleet's hooks' ids."""
    if is_fleet(resource):
        hooks = (resource.get("outputs") or {}).get(HOOKS) or {}
        return {str(hook[ID]) for hook in hooks.values() if hook.get(ID)}
    return {str(resource["id"])} if resource.get("id") else set()


def is_webhook(resource: Mapping[str, Any]) -> bool:
    return str(resource.get("type", "")).endswith(WEBHOOK_TYPES)


def is_fleet(resource: Mapping[str, Any]) -> bool:
    return str(resource.get("type", "")).endswith(FLEET_TYPES)

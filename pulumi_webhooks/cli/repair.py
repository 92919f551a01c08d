"""Recovery after an interrupted deployment: pending creates that reached the API.

A `pulumi up` killed mid-way leaves "pending creates" in state: webhooks whose
create was sent but whose answer never reached the engine. Some exist in the
API, orphaned, and the next `up` would create them again. `repair` matches
each pending webhook create to a live webhook that no resource in state owns
and turns it into a resource of the stack with that id; the pending creates
that match nothing never reached the API and are dropped, so the next `up`
creates them once. A fleet's pending create or update is resolved hook by hook
the same way: the hooks it had made join the fleet's state, the rest are left
for the next `up`.

    pulumi cancel --yes      # a killed run leaves its lock behind (file backends)
    pulumi stack export | python -m pulumi_webhooks recover | pulumi stack import
    pulumi refresh --yes --skip-preview && pulumi up --yes

(Only webhooks that no resource of the stack owns are matched, but a look-alike
created outside the stack in the same account cannot be told apart: the
summary lists every id taken, to check before `pulumi stack import`.

(`pulumi refresh --import-pending-creates URN ID` would be the CLI's own way,
but the engine of the pinned version drops those imports instead of reading
them.)
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass, field
from typing import Any

from ..model import spec
from ..model.fleet import ADOPT_KEY, HOOKS, SECRET_MAP, WEBHOOK_IDS
from ..model.live import ID, LiveWebhook
from ..provider.connection import connection_of
from ..sdk_internals import PROVIDER_KEY
from .holdings import ids_of, is_fleet, is_webhook


@dataclass
class Recovery:
    imported: dict[str, str] = field(default_factory=dict)  # URN (a fleet's: URN[team/name]) -> webhook id
    never_created: list[str] = field(default_factory=list)
    ambiguous: dict[str, list[str]] = field(default_factory=dict)  # URN -> the look-alike ids
    already_in_state: list[str] = field(default_factory=list)  # created since, by a bare `up`

    def summary(self) -> str:
        taken = ", ".join(_listed(self.imported))
        said = (
            f"{len(self.imported)} interrupted create(s) had reached the API and are now in state"
            f"{f' ({taken})' if taken else ''}; {len(self.never_created)} had not and are left for the next "
            "`pulumi up` to create"
        )
        for urn, ids in self.ambiguous.items():
            said += (
                f"; {_name(urn)}: webhooks {', '.join(ids)} all look like it, so none was taken (the next "
                "`pulumi up` stops there and names them: take the right one over with adopt_id)"
            )
        if self.already_in_state:
            said += f"; {len(self.already_in_state)} were already in state and were only cleared"
        return said

    def merge(self, other: Recovery) -> None:
        self.imported.update(other.imported)
        self.never_created.extend(other.never_created)
        self.ambiguous.update(other.ambiguous)
        self.already_in_state.extend(other.already_in_state)


def _name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def _listed(imported: dict[str, str]) -> list[str]:
    """`name=id` for each webhook taken; a fleet's as `fleet: N hooks`, since it may hold thousands."""
    fleets: dict[str, int] = {}
    listed = []
    for urn, webhook_id in imported.items():
        if urn.endswith("]") and "[" in urn:
            fleet = _name(urn.rsplit("[", 1)[0])
            fleets[fleet] = fleets.get(fleet, 0) + 1
        else:
            listed.append(f"{_name(urn)}={webhook_id}")
    return listed + [f"{fleet}: {count} of its hooks" for fleet, count in fleets.items()]


def repair(
    export: dict[str, Any], live: list[LiveWebhook], connection: str | None = None
) -> tuple[dict[str, Any], Recovery]:
    """A copy of a `pulumi stack export` with the interrupted work of `connection` (whose account
    `live` lists; see `resource_connection`) resolved: pending webhook creates, and the hooks a
    fleet's pending create or update had made. Other connections' are left for their own run."""
    repaired = copy.deepcopy(export)
    deployment = repaired.get("deployment", repaired)
    resources = deployment.setdefault("resources", [])

    def ours(resource: dict[str, Any]) -> bool:
        return (is_webhook(resource) or is_fleet(resource)) and resource_connection(resource) == connection

    by_urn = {r.get("urn"): r for r in resources}
    owned = {webhook_id for r in resources if ours(r) for webhook_id in ids_of(r)}
    recovery = Recovery()
    taker = _Taker([w for w in live if w.id not in owned], recovery)
    remaining = []
    for operation in deployment.get("pending_operations") or []:
        resource, kind = operation.get("resource", {}), operation.get("type")
        urn = resource.get("urn")
        if not ours(resource) or kind not in ("creating", "updating") or (is_webhook(resource) and kind != "creating"):
            remaining.append(operation)  # an update or delete of a webhook is safe to run again
        elif urn in by_urn and kind == "creating":
            # The engine keeps a pending create after a bare `up` made (or adopted) the resource.
            recovery.already_in_state.append(urn)
        elif is_webhook(resource):
            inputs = resource.get("inputs") or {}
            webhook_id = taker.take(urn, _plain(inputs))
            if webhook_id is not None:
                # The create that committed sent exactly these inputs: they are its outputs too.
                resources.append({**resource, "id": webhook_id, "outputs": {**inputs, ID: webhook_id}})
        else:
            fleet = by_urn.get(urn)
            if fleet is None:  # a fleet's first create: the fleet joins the stack with the hooks it made
                fleet = {**resource, "id": uuid.uuid4().hex, "outputs": _empty_fleet(resource.get("inputs") or {})}
                resources.append(fleet)
            _take_fleet_hooks(taker, fleet, resource.get("inputs") or {})
    deployment["pending_operations"] = remaining
    return repaired, recovery


class _Taker:
    """Gives each interrupted create the one free webhook that looks like it, or nothing."""

    def __init__(self, free: list[LiveWebhook], recovery: Recovery) -> None:
        self.free = free
        self.recovery = recovery

    def take(self, what: str, body: dict[str, Any]) -> str | None:
        matches = [w for w in self.free if w.looks_like(body)]
        if not matches:
            self.recovery.never_created.append(what)
            return None
        if len(matches) > 1:
            # Which one this create made cannot be told: never guess, since the other may be
            # someone else's. The create is dropped; the next `up`'s guard names them all.
            self.recovery.ambiguous[what] = [w.id for w in matches]
            return None
        [match] = matches
        self.free.remove(match)
        self.recovery.imported[what] = match.id
        return match.id


def _take_fleet_hooks(taker: _Taker, fleet: dict[str, Any], inputs: dict[str, Any]) -> None:
    """Adds to the fleet's outputs each hook of its pending operation that it does not hold yet
    and that the API has; the next `up` makes the rest. An adopted hook is left for `up` to
    adopt again: whether its update went through cannot be told."""
    outputs = fleet.setdefault("outputs", {})
    held = outputs.setdefault(HOOKS, {})
    for key, hook in sorted((inputs.get(HOOKS) or {}).items()):
        if key in held or hook.get(ADOPT_KEY):
            continue
        fields = {name: value for name, value in hook.items() if name != ADOPT_KEY}
        webhook_id = taker.take(f"{fleet['urn']}[{key}]", {**fields, **_secrets_set(fields)})
        if webhook_id is not None:
            held[key] = {ID: webhook_id, **fields}
            outputs.setdefault(WEBHOOK_IDS, {})[key] = webhook_id


def _empty_fleet(inputs: dict[str, Any]) -> dict[str, Any]:
    # The secrets the pending create sent, encrypted as they are: they hold the taken hooks' too.
    outputs = {HOOKS: {}, SECRET_MAP: inputs.get(SECRET_MAP) or {}, WEBHOOK_IDS: {}}
    if PROVIDER_KEY in inputs:  # the dynamic provider's fleet; the plugin's names its provider resource
        outputs[PROVIDER_KEY] = inputs[PROVIDER_KEY]
    return outputs


def _secrets_set(fields: dict[str, Any]) -> dict[str, bool]:
    """Which secrets a valid hook has: exactly the ones its auth type takes (state holds them encrypted)."""
    takes = spec.CREDENTIALS_BY_AUTH_TYPE.get(spec.AuthType(fields["authType"]), frozenset())
    return {spec.API_NAMES[name]: True for name in spec.SECRET_FIELDS if name in takes}


def resource_connection(resource: dict[str, Any]) -> str | None:
    """Whose settings made `resource`: a dynamic resource's connection name (None: the default
    one), a plugin resource's provider resource, by URN (`urn:...:pulumi:providers:webhooks::NAME`)."""
    inputs = resource.get("inputs") or {}
    if PROVIDER_KEY not in inputs and resource.get("provider"):
        return plugin_provider(resource)
    serialized = inputs.get(PROVIDER_KEY)
    return connection_of(serialized, default=None) if isinstance(serialized, str) else None


def plugin_provider(resource: dict[str, Any]) -> str:
    """The URN of a plugin resource's provider: its reference is `URN::ID`."""
    return str(resource["provider"]).rsplit("::", 1)[0]


def is_plugin_provider(connection: str | None) -> bool:
    return connection is not None and connection.startswith("urn:")


def _plain(inputs: dict[str, Any]) -> dict[str, Any]:
    """Inputs for matching: an encrypted secret still says that one is set."""
    return {k: (True if isinstance(v, dict) else v) for k, v in inputs.items() if k != PROVIDER_KEY}

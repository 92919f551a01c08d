"""Recovery after an interrupted deployment: pending creates that reached the API.

A `pulumi up` killed mid-way leaves "pending creates" in state: webhooks whose
create was sent but whose answer never reached the engine. Some exist in the
API, orphaned, and the next `up` would create them again. `repair` matches
each pending webhook create to a live webhook that no resource in state owns
and turns it into a resource of the stack with that id; the pending creates
that match nothing never reached the API and are dropped, so the next `up`
creates them once.

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
from dataclasses import dataclass, field
from typing import Any

from ..model.live import ID, LiveWebhook
from ..provider.webhook import connection_of
from ..sdk_internals import PROVIDER_KEY

WEBHOOK_TYPE_SUFFIX = "webhooks:Webhook"


@dataclass
class Recovery:
    imported: dict[str, str] = field(default_factory=dict)  # URN -> webhook id
    never_created: list[str] = field(default_factory=list)
    ambiguous: dict[str, list[str]] = field(default_factory=dict)  # URN -> the look-alike ids
    already_in_state: list[str] = field(default_factory=list)  # created since, by a bare `up`

    def summary(self) -> str:
        taken = ", ".join(f"{_name(urn)}={webhook_id}" for urn, webhook_id in self.imported.items())
        said = (
            f"{len(self.imported)} interrupted create(s) had reached the API and are now in state"
            f"{f' ({taken})' if taken else ''}; {len(self.never_created)} had not and were dropped, "
            "for the next `pulumi up` to create"
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


def repair(
    export: dict[str, Any], live: list[LiveWebhook], connection: str | None = None
) -> tuple[dict[str, Any], Recovery]:
    """A copy of a `pulumi stack export` with the pending webhook creates of `connection`
    (whose account `live` lists) resolved; other connections' are left for their own run."""
    repaired = copy.deepcopy(export)
    deployment = repaired.get("deployment", repaired)
    resources = deployment.setdefault("resources", [])

    def ours(resource: dict[str, Any]) -> bool:
        return is_webhook(resource) and resource_connection(resource) == connection

    owned = {str(r.get("id")) for r in resources if ours(r) and r.get("id")}
    in_state = {r.get("urn") for r in resources}
    free = [w for w in live if w.id not in owned]
    recovery = Recovery()
    remaining = []
    for operation in deployment.get("pending_operations") or []:
        resource = operation.get("resource", {})
        if operation.get("type") != "creating" or not ours(resource):
            remaining.append(operation)
            continue
        if resource.get("urn") in in_state:
            # The engine keeps a pending create after a bare `up` made (or adopted) the webhook.
            recovery.already_in_state.append(resource["urn"])
            continue
        inputs = resource.get("inputs") or {}
        matches = [w for w in free if w.looks_like(_plain(inputs))]
        if not matches:
            recovery.never_created.append(resource["urn"])
            continue
        if len(matches) > 1:
            # Which one this create made cannot be told: never guess, since the other may be
            # someone else's. The create is dropped; the next `up`'s guard names them all.
            recovery.ambiguous[resource["urn"]] = [w.id for w in matches]
            continue
        [match] = matches
        free.remove(match)
        webhook_id = match.id
        recovery.imported[resource["urn"]] = webhook_id
        # The create that committed sent exactly these inputs: they are its outputs too.
        resources.append({**resource, "id": webhook_id, "outputs": {**inputs, ID: webhook_id}})
    deployment["pending_operations"] = remaining
    return repaired, recovery


def is_webhook(resource: dict[str, Any]) -> bool:
    return str(resource.get("type", "")).endswith(WEBHOOK_TYPE_SUFFIX)


def resource_connection(resource: dict[str, Any]) -> str | None:
    serialized = (resource.get("inputs") or {}).get(PROVIDER_KEY)
    return connection_of(serialized, default=None) if isinstance(serialized, str) else None


def _plain(inputs: dict[str, Any]) -> dict[str, Any]:
    """Inputs for matching: an encrypted secret still says that one is set."""
    return {k: (True if isinstance(v, dict) else v) for k, v in inputs.items() if k != PROVIDER_KEY}

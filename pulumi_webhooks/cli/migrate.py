"""Fleets deployed by release 0.1.0 become the one resource a `WebhookFleet` is now, in state only.

Release 0.1.0 deployed a fleet as a component (`webhooks:index:WebhookFleet`) with one `Webhook`
child per hook. This release's `WebhookFleet` is one resource; deployed over the old state, the
engine would create the new resource (whose hooks the create guard refuses: the old ones look
just like them) and then delete the children, and with them the webhooks. `migrate` rewrites the
state instead: the component and its children become one fleet resource holding the same
webhooks, by the keys (`team/name`) the component recorded, with the same secrets, still
encrypted. No webhook is created or deleted, and the next `up` finds nothing to change.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass, field
from typing import Any

from ..errors import CannotRecover
from ..model import spec
from ..model.fleet import HOOKS, SECRET_MAP, WEBHOOK_IDS
from ..model.live import ID
from ..provider import FleetProvider
from ..sdk_internals import PROVIDER_KEY, serialize_provider
from . import holdings, repair

OLD_FLEET_TYPE = "webhooks:index:WebhookFleet"
FLEET_TYPE = "pulumi-python:dynamic/webhooks:WebhookFleet"
VISIBLE = tuple(spec.API_NAMES[name] for name in spec.WebhookSpec.model_fields if name not in spec.SECRET_FIELDS)
SECRETS = tuple(spec.API_NAMES[name] for name in spec.SECRET_FIELDS)


@dataclass
class Migration:
    fleets: dict[str, int] = field(default_factory=dict)
    """The new fleet's URN -> how many hooks moved into it."""

    def summary(self) -> str:
        moved = ", ".join(f"{urn.rsplit('::', 1)[-1]} ({count} hooks)" for urn, count in self.fleets.items())
        return (
            f"moved the fleet(s) of release 0.1.0 into one resource each, in state only: {moved}; "
            "no webhook was created or deleted"
        )


def migrate(export: dict[str, Any]) -> tuple[dict[str, Any], Migration]:
    """A copy of a `pulumi stack export` with every 0.1.0 fleet made one fleet resource."""
    migrated = copy.deepcopy(export)
    deployment = migrated.get("deployment", migrated)
    resources: list[dict[str, Any]] = deployment.get("resources") or []
    migration = Migration()
    # The plugin's fleet has the old component's type, but is a custom resource: never migrated.
    for component in [r for r in resources if r.get("type") == OLD_FLEET_TYPE and not r.get("custom")]:
        children = [r for r in resources if r.get("parent") == component["urn"] and holdings.is_webhook(r)]
        fleet = _fleet(component, children)
        _refuse_if_referenced(resources, component, children)
        gone = {component["urn"], *(child["urn"] for child in children)}
        index = resources.index(component)
        resources[:] = [r for r in resources if r.get("urn") not in gone]
        resources.insert(min(index, len(resources)), fleet)
        migration.fleets[fleet["urn"]] = len(children)
    return migrated, migration


def _fleet(component: dict[str, Any], children: list[dict[str, Any]]) -> dict[str, Any]:
    """The one resource that holds a 0.1.0 fleet's children, keyed as its outputs recorded them."""
    keys = {
        str(webhook_id): key for key, webhook_id in ((component.get("outputs") or {}).get("webhook_ids") or {}).items()
    }
    name = component["urn"].rsplit("::", 1)[-1]
    hooks_in: dict[str, Any] = {}
    hooks_out: dict[str, Any] = {}
    secrets: dict[str, Any] = {}
    connection: str | None = None
    for child in children:
        key = keys.get(str(child.get("id")))
        if key is None:
            raise CannotRecover(
                f"{name}: the fleet of release 0.1.0 did not record hook {child['urn'].rsplit('::', 1)[-1]} "
                "(its last `pulumi up` did not finish): run `pulumi up` once more with release 0.1.0, then upgrade"
            )
        inputs = child.get("inputs") or {}
        connection = repair.resource_connection(child)
        fields = {k: inputs[k] for k in VISIBLE if inputs.get(k) not in (None, "")}
        fields.setdefault(spec.API_NAMES["is_alert_hook"], False)
        hooks_in[key] = fields
        hooks_out[key] = {ID: str(child["id"]), **fields}
        # Each secret as state holds it, encrypted on its own; the engine reads nested secrets.
        kept = {k: inputs[k] for k in SECRETS if inputs.get(k) not in (None, "")}
        if kept:
            secrets[key] = kept
    provider = serialize_provider(FleetProvider(connection))
    urn = component["urn"].replace(f"::{OLD_FLEET_TYPE}::", f"::{FLEET_TYPE}::", 1)
    template = children[0] if children else {}
    return {
        "urn": urn,
        "custom": True,
        "id": uuid.uuid4().hex,
        "type": FLEET_TYPE,
        "inputs": {HOOKS: hooks_in, SECRET_MAP: secrets, PROVIDER_KEY: provider},
        "outputs": {
            HOOKS: hooks_out,
            SECRET_MAP: secrets,
            WEBHOOK_IDS: {key: hook[ID] for key, hook in hooks_out.items()},
            PROVIDER_KEY: provider,
        },
        **{k: component[k] for k in ("parent", "created", "modified") if k in component},
        **({"provider": template["provider"]} if "provider" in template else {}),
        **{k: component[k] for k in ("sourcePosition", "stackTrace") if k in component},
    }


def _refuse_if_referenced(
    resources: list[dict[str, Any]], component: dict[str, Any], children: list[dict[str, Any]]
) -> None:
    moved = {component["urn"], *(child["urn"] for child in children)}
    for resource in resources:
        if resource.get("urn") in moved:
            continue
        needs = set(resource.get("dependencies") or []) | {
            urn for urns in (resource.get("propertyDependencies") or {}).values() for urn in urns
        }
        if needs & moved or resource.get("parent") in moved:
            raise CannotRecover(
                f"{resource['urn']} depends on a hook of the fleet of release 0.1.0 {component['urn']}: "
                "make it depend on the fleet itself, `pulumi up` with release 0.1.0, then upgrade"
            )

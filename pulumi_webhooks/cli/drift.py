"""Drift between a catalog and the live API.

A catalog hook matches the webhook its stack's state records for it (with `--stack`), else the
one its `adopt_id` names, else the one with the same endpoint. A hook matched by id is compared
on every field, its endpoint too: one moved out of band shows as changed, not as one missing
and one extra. Secrets cannot be compared (the API masks them); whether one is set can. The
API's list may lag writes: a hook matched by id that the list leaves out, or shows changed, is
read by id before it is reported. Of the webhooks no hook claims, those a stack holds are named
with their stack; only the others, which belong to no stack, are drift.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..model.catalog import Hook
from ..model.live import ID, SECRETS, VISIBLE, LiveWebhook, canonical
from ..model.spec import API_NAMES
from .holdings import Holder, Holdings

ENDPOINT = API_NAMES["endpoint"]
# The endpoint is what a hook without an id is matched by, so it is compared only for those with one.
COMPARED = tuple(name for name in VISIBLE if name != ENDPOINT)


@dataclass
class Change:
    field: str
    catalog: Any
    live: Any


@dataclass
class Report:
    missing: list[Hook] = field(default_factory=list)
    extra: list[LiveWebhook] = field(default_factory=list)
    changed: list[tuple[Hook, str, list[Change]]] = field(default_factory=list)
    ambiguous: list[tuple[Hook, list[str]]] = field(default_factory=list)
    held: list[tuple[LiveWebhook, Holder]] = field(default_factory=list)
    """Webhooks no hook of the catalog claims, that a resource of some stack holds: not drift."""
    stacks_read: list[str] | None = None
    """The stacks whose state was read (None: no state was read, so every other webhook is extra)."""
    unreadable: dict[str, str] = field(default_factory=dict)
    in_sync: int = 0

    @property
    def drifted(self) -> bool:
        return bool(self.missing or self.extra or self.changed or self.ambiguous)

    def lines(self) -> list[str]:
        out = [f"missing  {h.key}: {h.endpoint} is not in the API" for h in self.missing]
        no_stack = "" if self.stacks_read is None else " and belongs to no stack"
        out += [f"extra    webhook {w.id}: {w.endpoint} is not in the catalog{no_stack}" for w in self.extra]
        out += [f"held     webhook {w.id}: {w.endpoint} belongs to {holder}" for w, holder in self.held]
        for hook, webhook_id, changes in self.changed:
            detail = "; ".join(f"{c.field} is {c.live!r} in the API, {c.catalog!r} in the catalog" for c in changes)
            out.append(f"changed  {hook.key} (webhook {webhook_id}): {detail}")
        for hook, ids in self.ambiguous:
            out.append(f"unclear  {hook.key}: webhooks {', '.join(ids)} share its endpoint; set adopt_id to pick one")
        summary = (
            f"{self.in_sync} in sync, {len(self.changed)} changed, {len(self.missing)} missing, "
            f"{len(self.extra)} extra, {len(self.ambiguous)} unclear. Secret values cannot be compared: "
            "the API never returns them."
        )
        if self.stacks_read is not None:
            stacks = ", ".join(self.stacks_read)
            summary += f" {len(self.held)} held by other resources or stacks (stacks read: {stacks})."
        for name, why in self.unreadable.items():
            out.append(f"unread   stack {name}: its webhooks show as extra ({why})")
        return [*out, summary]

    def as_json(self) -> dict[str, Any]:
        """The same findings as `lines()`, as data for pipelines."""
        return {
            "drifted": self.drifted,
            "inSync": self.in_sync,
            "missing": [{"key": h.key, "endpoint": h.endpoint} for h in self.missing],
            "extra": [{ID: w.id, ENDPOINT: w.endpoint} for w in self.extra],
            "changed": [
                {
                    "key": hook.key,
                    ID: webhook_id,
                    "changes": [{"field": c.field, "catalog": c.catalog, "live": c.live} for c in changes],
                }
                for hook, webhook_id, changes in self.changed
            ],
            "unclear": [{"key": hook.key, "webhookIds": ids} for hook, ids in self.ambiguous],
            "held": [
                {ID: w.id, ENDPOINT: w.endpoint, "stack": h.stack, "resource": h.resource, "key": h.key}
                for w, h in self.held
            ],
            "stacksRead": self.stacks_read,
            "unreadableStacks": self.unreadable,
            "secretValuesCompared": False,  # the API never returns them; set-or-not is compared
        }


def compare(
    hooks: Iterable[Hook],
    live: list[LiveWebhook],
    read: Callable[[str], LiveWebhook | None] | None = None,
    holdings: Holdings | None = None,
) -> Report:
    """The drift of `hooks` from the `live` list. `read` (a read by id) checks what the list says of
    a hook matched by id; `holdings` (from the stacks' state) give the ids of the hooks and the
    holders of the other webhooks."""
    hooks = sorted(hooks, key=lambda h: h.key)
    state_ids = holdings.ids_by_key(h.key for h in hooks) if holdings else {}
    holders = holdings.held if holdings else {}
    report = Report()
    if holdings:
        report.stacks_read, report.unreadable = holdings.stacks_read, holdings.unreadable
    by_id = {w.id: w for w in live}
    by_endpoint: dict[str, list[LiveWebhook]] = {}
    for webhook in live:
        by_endpoint.setdefault(webhook.endpoint, []).append(webhook)
    matched: set[str] = set()

    def known_id(hook: Hook) -> str | None:
        return state_ids.get(hook.key) or hook.adopt_id

    # Hooks with a known id claim their webhooks before any endpoint match does.
    for hook in sorted(hooks, key=lambda h: known_id(h) is None):
        webhook_id = known_id(hook)
        if webhook_id is not None:
            pinned = by_id.get(webhook_id)
            if read is not None and (pinned is None or _changes(hook, pinned, by_id=True)):
                pinned = read(webhook_id)  # the list may be behind: the read by id is not
            candidates = [pinned] if pinned is not None and webhook_id not in matched else []
        else:
            candidates = [w for w in by_endpoint.get(hook.endpoint, []) if w.id not in matched]
        if not candidates:
            report.missing.append(hook)
            continue
        if len(candidates) > 1:
            report.ambiguous.append((hook, [w.id for w in candidates]))
            matched.update(w.id for w in candidates)
            continue
        webhook = candidates[0]
        matched.add(webhook.id)
        changes = _changes(hook, webhook, by_id=webhook_id is not None)
        if changes:
            report.changed.append((hook, webhook.id, changes))
        else:
            report.in_sync += 1
    unclaimed = [w for w in live if w.id not in matched]
    report.held = [(w, holders[w.id]) for w in unclaimed if w.id in holders]
    report.extra = [w for w in unclaimed if w.id not in holders]
    return report


def _changes(hook: Hook, webhook: LiveWebhook, by_id: bool) -> list[Change]:
    changes = []
    if by_id and webhook.endpoint != hook.endpoint:
        changes.append(Change(ENDPOINT, hook.endpoint, webhook.endpoint))
    for name in COMPARED:
        wanted, have = canonical(name, hook.fields.get(name)), webhook.fields[name]
        if wanted != have:
            changes.append(Change(name, wanted, have))
    for secret in SECRETS:
        wanted_set, have_set = secret in hook.secrets, secret in webhook.secrets_set
        if wanted_set != have_set:
            changes.append(Change(f"{secret} (set or not)", wanted_set, have_set))
    return changes

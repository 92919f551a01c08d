"""Drift between a catalog and the live API, without Pulumi state.

A catalog hook matches the live webhook its `adopt_id` names, else the one
with the same endpoint. Secrets cannot be compared (the API masks them);
whether one is set can. The API's list may lag writes: a pinned hook that the
list leaves out, or shows changed, is read by id before it is reported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..model.catalog import Hook
from ..model.live import ID, SECRETS, VISIBLE, LiveWebhook, canonical
from ..model.spec import API_NAMES

ENDPOINT = API_NAMES["endpoint"]
# The endpoint is what an unpinned hook is matched by, so it is compared only for pinned ones.
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
    in_sync: int = 0

    @property
    def drifted(self) -> bool:
        return bool(self.missing or self.extra or self.changed or self.ambiguous)

    def lines(self) -> list[str]:
        out = [f"missing  {h.key}: {h.endpoint} is not in the API" for h in self.missing]
        out += [f"extra    webhook {w.id}: {w.endpoint} is not in the catalog" for w in self.extra]
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
            "secretValuesCompared": False,  # the API never returns them; set-or-not is compared
        }


def compare(
    hooks: Iterable[Hook], live: list[LiveWebhook], read: Callable[[str], LiveWebhook | None] | None = None
) -> Report:
    """The drift of `hooks` from the `live` list; `read` (a read by id) checks what the list says of a pinned hook."""
    report = Report()
    by_id = {w.id: w for w in live}
    by_endpoint: dict[str, list[LiveWebhook]] = {}
    for webhook in live:
        by_endpoint.setdefault(webhook.endpoint, []).append(webhook)
    matched: set[str] = set()
    # Hooks pinned by adopt_id claim their webhooks before any endpoint match does.
    for hook in sorted(hooks, key=lambda h: h.adopt_id is None):
        if hook.adopt_id is not None:
            pinned = by_id.get(hook.adopt_id)
            if read is not None and (pinned is None or _changes(hook, pinned)):
                pinned = read(hook.adopt_id)  # the list may be behind: the read by id is not
            candidates = [pinned] if pinned is not None and hook.adopt_id not in matched else []
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
        changes = _changes(hook, webhook)
        if changes:
            report.changed.append((hook, webhook.id, changes))
        else:
            report.in_sync += 1
    report.extra = [w for w in live if w.id not in matched]
    return report


def _changes(hook: Hook, webhook: LiveWebhook) -> list[Change]:
    changes = []
    if hook.adopt_id is not None and webhook.endpoint != hook.endpoint:
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

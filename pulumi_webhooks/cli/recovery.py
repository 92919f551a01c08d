"""The step a pipeline runs before every `pulumi up`: `pulumi-webhooks recover --stack NAME`.

A killed `pulumi up` leaves two things behind: the stack's lock, and pending creates,
webhooks whose create was sent but whose answer never came back. A bare `up` drops those
and creates them again, so the ones that had reached the API end up twice. This step
resolves both, on a local-directory, PostgreSQL or S3-compatible backend alike, and does
nothing, in about a second, when there is nothing to resolve:

1. A lock whose process is gone is deleted, and only that lock. Provider processes the killed
   run left running in the project's directory are waited for (they write nothing more and end
   when their calls in flight are done), so that the account is read after their last create. A lock is judged by its
   hostname and pid, so jobs that share a hostname must share a process table (one
   machine, or one container). A lock of a process that may still run (on this machine,
   or younger than `break_locks_after` on another) stops the step with `StackBusy`, or,
   with `wait`, is waited for.
2. Pending webhook creates that reached the API are taken into state with the id the API
   gave them, and the rest dropped for `up` to create once (`repair.repair`), through
   `pulumi stack export` and `pulumi stack import`. The API settings come from the stack's
   config, or the environment, exactly as the provider reads them (the plugin's: its provider
   resource's inputs in state). `stack import` drops
   every pending operation, so the step stops if other resources have pending creates.
   It imports only over the state it read, and only when no run has taken the stack
   since: a run takes the lock before it writes anything, and `stack import` itself
   fails on a lock taken in the last instant.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from ..api.client import WebhooksClient
from ..api.config import client_settings, provider_inputs
from ..api.settings import ClientSettings
from ..errors import CannotRecover, StackBusy
from . import backends, holdings, migrate, orphans, repair
from .locks import locks_of, stale
from .stack import Stack

WAIT_POLL_SECONDS = 5.0
ORPHAN_WAIT_SECONDS = 90.0
"""How long a killed run's provider may take to end: its calls in flight, bounded by their timeouts."""
LIST_POLL_SECONDS = 2.0


@dataclass
class Report:
    """What the step found and did."""

    stack: str
    locks_cleared: list[str] = field(default_factory=list)
    sidecars_deleted: list[str] = field(default_factory=list)
    recovery: repair.Recovery = field(default_factory=repair.Recovery)
    migration: migrate.Migration = field(default_factory=migrate.Migration)
    other_pending: int = 0
    lock_check: bool = True
    lock_note: str = ""
    backend: str = ""
    waited: bool = False
    providers_waited_for: int = 0

    @property
    def changed(self) -> bool:
        r = self.recovery
        cleaned = self.locks_cleared or self.sidecars_deleted
        return bool(
            cleaned or r.imported or r.never_created or r.ambiguous or r.already_in_state or self.migration.fleets
        )

    def lines(self) -> list[str]:
        said = [f"stack {self.stack}: waited for a running `pulumi` to finish with it"] if self.waited else []
        if self.providers_waited_for:
            said.append(
                f"stack {self.stack}: waited for {self.providers_waited_for} provider process(es) a killed run left "
                "running to end, so that the account was read after their last write"
            )
        said += [f"stack {self.stack}: deleted the lock of {lock}: that process is gone" for lock in self.locks_cleared]
        said += [
            f"stack {self.stack}: deleted {name}, half-written when a run was killed (the state file is whole)"
            for name in self.sidecars_deleted
        ]
        r = self.recovery
        if r.imported or r.never_created or r.ambiguous or r.already_in_state:
            said.append(f"stack {self.stack}: " + r.summary())
        if self.migration.fleets:
            said.append(f"stack {self.stack}: " + self.migration.summary())
        if self.other_pending:
            said.append(
                f"stack {self.stack}: {self.other_pending} interrupted update(s) or delete(s) are left for "
                "`pulumi up`, which runs them again (both are safe to repeat)"
            )
        if not self.changed and not self.other_pending:
            said.append(f"stack {self.stack}: nothing to recover (no interrupted create, no stale lock)")
        if not self.lock_check:
            said.append(f"stack {self.stack}: its lock was not checked: {self.lock_note}")
        return said

    def as_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "changed": self.changed,
            "locksCleared": self.locks_cleared,
            "sidecarsDeleted": self.sidecars_deleted,
            "imported": self.recovery.imported,
            "dropped": self.recovery.never_created,
            "ambiguous": self.recovery.ambiguous,
            "alreadyInState": self.recovery.already_in_state,
            "otherPending": self.other_pending,
            "fleetsMigrated": self.migration.fleets,
            "lockChecked": self.lock_check,
            "backend": self.backend,
            "waited": self.waited,
            "providersWaitedFor": self.providers_waited_for,
        }


def recover_stack(stack: Stack, break_locks_after: timedelta | None = None, wait: timedelta | None = None) -> Report:
    """Makes `stack` ready for `pulumi up` after an interrupted one; see the module's text."""
    report = Report(stack.name)
    url = backends.backend_url(stack.cwd, os.environ)
    opened = backends.open_store(url, stack.cwd) if url else backends.Unreadable(backends.NO_BACKEND)
    store = None if isinstance(opened, backends.Unreadable) else opened
    if isinstance(opened, backends.Unreadable):
        report.lock_check, report.lock_note = False, opened.reason
    if store is not None:
        report.backend = store.kind
        _clear_stale_locks(stack, store, break_locks_after, wait, report)
        if isinstance(store, backends.DirectoryStore):
            for sidecar in torn_sidecars(stack, store.root / ".pulumi"):
                sidecar.unlink()  # metadata only: the state file itself is whole (it is renamed into place)
                report.sidecars_deleted.append(sidecar.name)

    _wait_for_orphaned_providers(stack, wait, report)
    export = json.loads(stack.pulumi("stack", "export"))
    pending = export.get("deployment", {}).get("pending_operations") or []
    ours = [op for op in pending if _resolved_here(op)]
    others = [op["resource"]["urn"] for op in pending if op.get("type") == "creating" and not _resolved_here(op)]
    report.other_pending = len(pending) - len(ours)
    if others:
        raise CannotRecover(
            f"stack {stack.name} has interrupted creates of other resources ({', '.join(others)}), which "
            "`pulumi stack import` would drop: this step resolves webhooks only. Resolve those first (see "
            "whether each exists, then `pulumi import` it or let `pulumi up` create it after `pulumi cancel`), then "
            "run this step again"
        )
    repaired = export
    if ours:
        connections = sorted({repair.resource_connection(op["resource"]) for op in ours}, key=str)
        settings = _settings_of(stack, connections)
        for connection in connections:
            client = WebhooksClient(settings(connection))
            repaired, found = settled_repair(client, repaired, connection)
            report.recovery.merge(found)
    repaired, report.migration = migrate.migrate(repaired)
    if not ours and not report.migration.fleets:
        return report
    # Import only over the state read, and never while a run holds the stack.
    if store is not None and (taken := locks_of(stack, store)):
        raise StackBusy(
            f"stack {stack.name} was locked by {taken[0]} while this step ran: another run is going; "
            "nothing was changed: run the step again"
        )
    if _manifest(json.loads(stack.pulumi("stack", "export"))) != _manifest(export):
        raise StackBusy(
            f"stack {stack.name} changed while this step ran: another run is going; nothing was changed: "
            "run the step again"
        )
    stack.pulumi("stack", "import", stdin=json.dumps(repaired))
    return report


def _settings_of(stack: Stack, connections: list[str | None]) -> Callable[[str | None], ClientSettings]:
    """How to reach each connection's account, as its provider does: a dynamic connection's
    settings are the stack's config; a plugin provider's, its resource's inputs in state (a
    default provider's are the stack's config too). The environment fills in either."""
    config = stack.config()
    plugin_providers = [c for c in connections if c is not None and repair.is_plugin_provider(c)]
    inputs = _provider_inputs(stack, plugin_providers) if plugin_providers else {}

    def settings(connection: str | None) -> ClientSettings:
        if connection in inputs:
            return client_settings(provider_inputs(inputs[connection]), os.environ)
        return client_settings(config, os.environ, connection)

    return settings


def _provider_inputs(stack: Stack, urns: list[str]) -> dict[str, dict[str, Any]]:
    """The inputs of the provider resources `urns`, their secrets in clear (read, never written back)."""
    revealed = json.loads(stack.pulumi("stack", "export", "--show-secrets"))
    resources = {r.get("urn"): r for r in revealed.get("deployment", {}).get("resources") or []}
    missing = [urn for urn in urns if urn not in resources]
    if missing:
        raise CannotRecover(
            f"stack {stack.name}: the provider resource(s) {', '.join(missing)} of interrupted creates are not "
            "in state, so the account they deployed to cannot be read: nothing was changed. See which "
            "webhooks exist, then `pulumi import` them or let `pulumi up` create them after `pulumi cancel`"
        )
    return {urn: _in_clear(resources[urn].get("inputs") or {}) for urn in urns}


def _in_clear(inputs: dict[str, Any]) -> dict[str, Any]:
    """`stack export --show-secrets` shows a secret as `{SIG: ..., "plaintext": JSON}`."""
    return {
        name: json.loads(value["plaintext"]) if isinstance(value, dict) and "plaintext" in value else value
        for name, value in inputs.items()
    }


def _wait_for_orphaned_providers(stack: Stack, wait: timedelta | None, report: Report) -> None:
    left = orphans.orphaned_providers(stack.cwd)
    if not left:
        return
    report.providers_waited_for = len(left)
    running = orphans.wait_for(left, max(ORPHAN_WAIT_SECONDS, wait.total_seconds() if wait else 0))
    if running:
        raise StackBusy(
            f"stack {stack.name}: provider process(es) {', '.join(map(str, running))}, left running by a killed "
            "`pulumi`, have not ended: nothing was changed. Run the step again once they have (or end them)"
        )


def settled_repair(
    client: WebhooksClient, export: dict[str, Any], connection: str | None
) -> tuple[dict[str, Any], repair.Recovery]:
    """`repair.repair` over a list that has settled. The API's list may lag the creates a killed run
    sent just before it died: a pending create the list does not show is taken for never made only
    once a list that started `webhooks:listSettleSeconds` after this step began does not show it."""
    settled_at = time.monotonic() + client.settings.list_settle_seconds
    while True:
        listing = client.listing()
        repaired, found = repair.repair(export, list(listing.hooks), connection)
        if not found.never_created or listing.started >= settled_at:
            return repaired, found
        time.sleep(min(LIST_POLL_SECONDS, max(settled_at - time.monotonic(), 0.0)))


def _clear_stale_locks(
    stack: Stack, store: backends.Store, break_after: timedelta | None, wait: timedelta | None, report: Report
) -> None:
    """Deletes every lock whose run is over, that lock only (one taken meanwhile is a live run's);
    waits up to `wait` for a live run to finish, and raises `StackBusy` past it."""
    deadline = time.monotonic() + (wait.total_seconds() if wait else 0)
    while True:
        try:
            for lock in locks_of(stack, store):
                if stale(lock, stack.name, break_after):
                    store.delete(lock.key)
                    report.locks_cleared.append(str(lock))
            return
        except StackBusy:
            if time.monotonic() >= deadline:
                raise
            report.waited = True
            time.sleep(min(WAIT_POLL_SECONDS, max(deadline - time.monotonic(), 0.1)))


def _resolved_here(operation: dict[str, Any]) -> bool:
    """A webhook's pending create, or a fleet's pending create or update: what may have made webhooks."""
    resource, kind = operation.get("resource", {}), operation.get("type")
    return (kind == "creating" and holdings.is_webhook(resource)) or (
        kind in ("creating", "updating") and holdings.is_fleet(resource)
    )


def _manifest(export: dict[str, Any]) -> Any:
    """When and by what the state was last written."""
    return export.get("deployment", {}).get("manifest")


def torn_sidecars(stack: Stack, bookkeeping: Path) -> list[Path]:
    """Metadata files of the stack's state that a kill left half-written. The blob store
    renames the state file into place, but truncates and rewrites its `.attrs` sidecar:
    killed in between, every command then fails with `failed to load checkpoint: EOF`."""
    stacks = bookkeeping / "stacks"
    name = stack.name.split("/")[-1]
    candidates = [
        *(stacks / stack.project()).glob(f"{name}.json*.attrs"),
        *stacks.glob(f"{name}.json*.attrs"),
    ]
    return [path for path in candidates if not _whole_json(path)]


def _whole_json(path: Path) -> bool:
    try:
        json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    return True

"""The step a pipeline runs before every `pulumi up`: `pulumi-webhooks recover --stack NAME`.

A killed `pulumi up` leaves two things behind: the stack's lock (file backends), and
pending creates, webhooks whose create was sent but whose answer never came back. A
bare `up` drops those and creates them again, so the ones that had reached the API end
up twice. This step resolves both, and does nothing, in about a second, when there is
nothing to resolve:

1. A lock whose process is gone is cleared (`pulumi cancel`). A lock of a process that
   may still run (on this machine, or younger than `break_locks_after` on another) stops
   the step with `StackBusy`: try again later.
2. Pending webhook creates that reached the API are taken into state with the id the API
   gave them, and the rest dropped for `up` to create once (`recover.repair`), through
   `pulumi stack export` and `pulumi stack import`. The API settings come from the stack's
   config, or the environment, exactly as the provider reads them.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from . import recover
from .client import WebhooksClient
from .config import client_settings
from .errors import WebhooksError

PULUMI_TIMEOUT = 600


class PulumiFailed(WebhooksError):
    """A `pulumi` command of the step failed; the message holds its own."""


class StackBusy(WebhooksError):
    """The stack is locked by a process that may still be running."""


@dataclass(frozen=True)
class Lock:
    """A file backend's lock of the stack: who took it, where and when."""

    path: Path
    pid: int
    username: str
    hostname: str
    taken: datetime

    def __str__(self) -> str:
        return f"{self.username}@{self.hostname} (pid {self.pid}) since {self.taken:%Y-%m-%d %H:%M:%S} UTC"

    def running(self) -> bool | None:
        """Whether its `pulumi` process still runs; None when it ran on another machine."""
        if self.hostname != socket.gethostname():
            return None
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        try:
            command = Path(f"/proc/{self.pid}/cmdline").read_bytes()
        except OSError:
            return True  # no /proc: a live pid is all there is to go on
        return b"pulumi" in command  # else the pid was reused by another program


@dataclass
class Stack:
    """One stack of the Pulumi project in `cwd`, driven through the `pulumi` on PATH."""

    name: str
    cwd: Path = Path()

    def pulumi(self, *args: str, stdin: str | None = None) -> str:
        command = ["pulumi", *args, "--stack", self.name, "--non-interactive"]
        try:
            done = subprocess.run(
                command, cwd=self.cwd, input=stdin, capture_output=True, text=True, timeout=PULUMI_TIMEOUT
            )
        except FileNotFoundError:
            raise PulumiFailed("the `pulumi` command is not on PATH: install the Pulumi CLI first") from None
        if done.returncode != 0:
            said = (done.stderr.strip() or done.stdout.strip()).splitlines()[-6:]
            raise PulumiFailed(f"`{' '.join(args[:2])}` of stack {self.name} failed: " + "\n".join(said))
        return done.stdout

    def locks(self) -> list[Lock] | None:
        """The stack's locks, or None when the backend is not a local directory."""
        whoami = subprocess.run(
            ["pulumi", "whoami", "--json", "--non-interactive"],
            cwd=self.cwd,
            capture_output=True,
            text=True,
            timeout=PULUMI_TIMEOUT,
            check=False,
        )
        try:
            backend = str(json.loads(whoami.stdout).get("url", ""))
        except ValueError:
            return None  # not logged in: `stack export` says so next
        url = urlsplit(backend)
        if url.scheme != "file":
            return None
        root = Path(os.path.expanduser(url.netloc + url.path)) / ".pulumi" / "locks"
        # Project-scoped stacks lock under organization/<project>/<stack>; the legacy layout under <stack>.
        parts = self.name.split("/")
        folders = (
            [root.joinpath(*parts)]
            if len(parts) == 3
            else [root / "organization" / self.project() / self.name, root / self.name]
        )
        return [_read_lock(path) for folder in folders if folder.is_dir() for path in sorted(folder.glob("*.json"))]

    def project(self) -> str:
        for name in ("Pulumi.yaml", "Pulumi.yml"):
            path = self.cwd / name
            if path.is_file():
                return str((yaml.safe_load(path.read_text()) or {}).get("name", ""))
        raise PulumiFailed(f"no Pulumi.yaml in {self.cwd.resolve()}: run the step in the project's directory")


def _read_lock(path: Path) -> Lock:
    try:
        data = json.loads(path.read_text())
        taken = datetime.fromisoformat(str(data["timestamp"]).replace("Z", "+00:00")).astimezone(UTC)
    except (OSError, ValueError, KeyError, TypeError):  # unreadable: nothing to tell who holds it
        data, taken = {}, datetime.fromtimestamp(0, UTC)
    return Lock(path, int(data.get("pid", 0)), str(data.get("username", "?")), str(data.get("hostname", "?")), taken)


@dataclass
class Report:
    """What the step found and did."""

    stack: str
    locks_cleared: list[str] = field(default_factory=list)
    imported: dict[str, str] = field(default_factory=dict)  # URN -> webhook id
    dropped: list[str] = field(default_factory=list)
    other_pending: int = 0
    lock_check: bool = True

    @property
    def changed(self) -> bool:
        return bool(self.locks_cleared or self.imported or self.dropped)

    def lines(self) -> list[str]:
        said = [f"stack {self.stack}: cleared the lock of {lock}: that process is gone" for lock in self.locks_cleared]
        if self.imported or self.dropped:
            said.append(f"stack {self.stack}: " + recover.Recovery(self.imported, self.dropped).summary())
        if self.other_pending:
            said.append(
                f"stack {self.stack}: {self.other_pending} interrupted update(s) or delete(s) are left for "
                "`pulumi up`, which runs them again (both are safe to repeat)"
            )
        if not self.lock_check:
            said.append(
                f"stack {self.stack}: its backend is not a local directory, so its lock was not checked "
                "(`pulumi up` reports a lock itself; `pulumi cancel` clears one)"
            )
        if not said or (not self.changed and not self.other_pending):
            said.insert(0, f"stack {self.stack}: nothing to recover (no stale lock, no interrupted create)")
        return said

    def as_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "changed": self.changed,
            "locksCleared": self.locks_cleared,
            "imported": self.imported,
            "dropped": self.dropped,
            "otherPending": self.other_pending,
            "lockChecked": self.lock_check,
        }


def recover_stack(stack: Stack, break_locks_after: timedelta | None = None) -> Report:
    """Makes `stack` ready for `pulumi up` after an interrupted one; see the module's text."""
    report = Report(stack.name)
    locks = stack.locks()
    report.lock_check = locks is not None
    stale = [lock for lock in locks or [] if _stale(lock, stack.name, break_locks_after)]
    if stale:
        stack.pulumi("cancel", "--yes")
        report.locks_cleared = [str(lock) for lock in stale]

    export = json.loads(stack.pulumi("stack", "export"))
    pending = export.get("deployment", {}).get("pending_operations") or []
    creates = [op for op in pending if op.get("type") == "creating" and recover.is_webhook(op.get("resource", {}))]
    report.other_pending = len(pending) - len(creates)
    if not creates:
        return report

    config = json.loads(stack.pulumi("config", "--json", "--show-secrets"))

    def setting(key: str) -> Any:
        return (config.get(key) or {}).get("value")

    for connection in sorted({recover.resource_connection(op["resource"]) for op in creates}, key=str):
        client = WebhooksClient(client_settings(setting, os.environ, connection))
        export, recovery = recover.repair(export, client.list(), connection)
        report.imported.update(recovery.imported)
        report.dropped.extend(recovery.never_created)
    stack.pulumi("stack", "import", stdin=json.dumps(export))
    return report


def _stale(lock: Lock, stack: str, break_after: timedelta | None) -> bool:
    running = lock.running()
    if running is False:
        return True
    if running is None and break_after is not None and datetime.now(UTC) - lock.taken >= break_after:
        return True
    if running:
        raise StackBusy(f"stack {stack} is locked by a running `pulumi` of {lock}: let it finish, then run this again")
    raise StackBusy(
        f"stack {stack} is locked by {lock}, on another machine, so whether it still runs cannot be told "
        f"from here. If it does not (a killed CI job), clear the lock with `pulumi cancel --yes --stack {stack}`, "
        "or let this step clear locks older than your longest deployment with --break-locks-older-than MINUTES"
    )

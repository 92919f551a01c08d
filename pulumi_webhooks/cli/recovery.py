"""The step a pipeline runs before every `pulumi up`: `pulumi-webhooks recover --stack NAME`.

A killed `pulumi up` leaves two things behind: the stack's lock (file backends), and
pending creates, webhooks whose create was sent but whose answer never came back. A
bare `up` drops those and creates them again, so the ones that had reached the API end
up twice. This step resolves both, and does nothing, in about a second, when there is
nothing to resolve:

1. A lock whose process is gone is deleted, and only that lock. A lock is judged by its
   hostname and pid, so jobs that share a hostname must share a process table (one
   machine, or one container). A lock of a process that may still run (on this machine,
   or younger than `break_locks_after` on another) stops the step with `StackBusy`.
2. Pending webhook creates that reached the API are taken into state with the id the API
   gave them, and the rest dropped for `up` to create once (`repair.repair`), through
   `pulumi stack export` and `pulumi stack import`. The API settings come from the stack's
   config, or the environment, exactly as the provider reads them. `stack import` drops
   every pending operation, so the step stops if other resources have pending creates.
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

from ..api.client import WebhooksClient
from ..api.config import ConfigGetter, client_settings
from ..errors import CannotRecover, PulumiFailed, StackBusy
from . import repair

PULUMI_TIMEOUT = 600


def _run(command: list[str], cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(command, cwd=cwd, input=stdin, capture_output=True, text=True, timeout=PULUMI_TIMEOUT)
    except FileNotFoundError:
        raise PulumiFailed("the `pulumi` command is not on PATH: install the Pulumi CLI first") from None
    except subprocess.TimeoutExpired:
        raise PulumiFailed(f"`{' '.join(command[:3])}` did not finish in {PULUMI_TIMEOUT} s") from None


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
        started = _process_start(self.pid)
        try:
            command = Path(f"/proc/{self.pid}/cmdline").read_bytes()
        except OSError:
            command = None
        if started is None or command is None:
            return True  # no /proc, or it just ended: a live pid is all there is to go on
        # A `pulumi` started after the lock was taken cannot be its holder: the pid was reused.
        return b"pulumi" in command and started <= self.taken + timedelta(seconds=2)

    def delete(self) -> None:
        for path in (self.path, self.path.with_name(self.path.name + ".attrs")):  # and the blob store's sidecar
            path.unlink(missing_ok=True)


def _process_start(pid: int) -> datetime | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        boot = next(int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines() if line[:5] == "btime")
    except (OSError, StopIteration, IndexError, ValueError):
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return datetime.fromtimestamp(boot + int(fields[19]) / ticks, UTC)  # field 22: start time, in ticks


@dataclass
class Stack:
    """One stack of the Pulumi project in `cwd`, driven through the `pulumi` on PATH."""

    name: str
    cwd: Path = Path()

    def pulumi(self, *args: str, stdin: str | None = None) -> str:
        done = _run(["pulumi", *args, "--stack", self.name, "--non-interactive"], self.cwd, stdin)
        if done.returncode != 0:
            said = "\n".join((done.stderr.strip() or done.stdout.strip()).splitlines()[-6:])
            if "currently locked" in said:
                raise StackBusy(f"stack {self.name} was locked by another run meanwhile: {said}")
            raise PulumiFailed(f"`pulumi {' '.join(args[:2])}` of stack {self.name} failed: {said}")
        return done.stdout

    def config(self) -> ConfigGetter:
        """The stack's config, secrets in clear, as the provider's `configure` receives it."""
        values = json.loads(self.pulumi("config", "--json", "--show-secrets"))
        return lambda key: (values.get(key) or {}).get("value")

    def bookkeeping(self) -> Path | None:
        """The backend's `.pulumi` directory, or None when the backend is not a local directory."""
        whoami = _run(["pulumi", "whoami", "--json", "--non-interactive"], self.cwd)
        try:
            backend = str(json.loads(whoami.stdout).get("url", ""))
        except ValueError:
            return None  # not logged in: `stack export` says so next
        url = urlsplit(backend)
        if url.scheme != "file":
            return None
        return self.cwd / Path(os.path.expanduser(url.netloc + url.path)) / ".pulumi"

    def folders(self, root: Path) -> list[Path]:
        """Where this stack's files are under `root`: organization/<project>/<stack> for
        project-scoped stacks, <stack> in the legacy layout."""
        parts = self.name.split("/")
        project = parts[1] if len(parts) == 3 else self.project()
        return [root / "organization" / project / parts[-1], root / parts[-1]]

    def locks(self, bookkeeping: Path) -> list[Lock]:
        return [
            _read_lock(path)
            for folder in self.folders(bookkeeping / "locks")
            if folder.is_dir()
            for path in sorted(folder.glob("*.json"))
        ]

    def torn_sidecars(self, bookkeeping: Path) -> list[Path]:
        """Metadata files of the stack's state that a kill left half-written. The blob store
        renames the state file into place, but truncates and rewrites its `.attrs` sidecar:
        killed in between, every command then fails with `failed to load checkpoint: EOF`."""
        stacks = bookkeeping / "stacks"
        name = self.name.split("/")[-1]
        candidates = [
            *(stacks / self.project()).glob(f"{name}.json*.attrs"),
            *stacks.glob(f"{name}.json*.attrs"),
        ]
        return [path for path in candidates if not _whole_json(path)]

    def project(self) -> str:
        for name in ("Pulumi.yaml", "Pulumi.yml"):
            path = self.cwd / name
            if path.is_file():
                return str((yaml.safe_load(path.read_text()) or {}).get("name", ""))
        raise PulumiFailed(f"no Pulumi.yaml in {self.cwd.resolve()}: run the step in the project's directory")


def _whole_json(path: Path) -> bool:
    try:
        json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    return True


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
    sidecars_deleted: list[str] = field(default_factory=list)
    recovery: repair.Recovery = field(default_factory=repair.Recovery)
    other_pending: int = 0
    lock_check: bool = True

    @property
    def changed(self) -> bool:
        r = self.recovery
        cleaned = self.locks_cleared or self.sidecars_deleted
        return bool(cleaned or r.imported or r.never_created or r.ambiguous or r.already_in_state)

    def lines(self) -> list[str]:
        said = [f"stack {self.stack}: deleted the lock of {lock}: that process is gone" for lock in self.locks_cleared]
        said += [
            f"stack {self.stack}: deleted {name}, half-written when a run was killed (the state file is whole)"
            for name in self.sidecars_deleted
        ]
        r = self.recovery
        if r.imported or r.never_created or r.ambiguous or r.already_in_state:
            said.append(f"stack {self.stack}: " + r.summary())
        if self.other_pending:
            said.append(
                f"stack {self.stack}: {self.other_pending} interrupted update(s) or delete(s) are left for "
                "`pulumi up`, which runs them again (both are safe to repeat)"
            )
        if not self.changed and not self.other_pending:
            said.append(f"stack {self.stack}: nothing to recover (no interrupted create, no stale lock)")
        if not self.lock_check:
            said.append(
                f"stack {self.stack}: its backend is not a local directory, so its lock was not checked "
                "(`pulumi up` reports a lock itself; `pulumi cancel` clears one)"
            )
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
            "lockChecked": self.lock_check,
        }


def recover_stack(stack: Stack, break_locks_after: timedelta | None = None) -> Report:
    """Makes `stack` ready for `pulumi up` after an interrupted one; see the module's text."""
    report = Report(stack.name)
    bookkeeping = stack.bookkeeping()
    report.lock_check = bookkeeping is not None
    if bookkeeping is not None:
        for lock in [lock for lock in stack.locks(bookkeeping) if _stale(lock, stack.name, break_locks_after)]:
            lock.delete()  # that lock only: one taken meanwhile belongs to a live run
            report.locks_cleared.append(str(lock))
        for sidecar in stack.torn_sidecars(bookkeeping):
            sidecar.unlink()  # metadata only: the state file itself is whole (it is renamed into place)
            report.sidecars_deleted.append(sidecar.name)

    export = json.loads(stack.pulumi("stack", "export"))
    pending = export.get("deployment", {}).get("pending_operations") or []
    creates = [op for op in pending if op.get("type") == "creating"]
    others = [op["resource"]["urn"] for op in creates if not repair.is_webhook(op.get("resource", {}))]
    report.other_pending = len(pending) - len(creates)
    if others:
        raise CannotRecover(
            f"stack {stack.name} has interrupted creates of other resources ({', '.join(others)}), which "
            "`pulumi stack import` would drop: this step resolves webhooks only. Resolve those first "
            "(`pulumi refresh --import-pending-creates`, or by hand), then run it again"
        )
    if not creates:
        return report

    setting = stack.config()
    repaired = export
    for connection in sorted({repair.resource_connection(op["resource"]) for op in creates}, key=str):
        client = WebhooksClient(client_settings(setting, os.environ, connection))
        repaired, found = repair.repair(repaired, client.list(), connection)
        report.recovery.merge(found)
    # The step holds no lock: import only over the state it read.
    if _manifest(json.loads(stack.pulumi("stack", "export"))) != _manifest(export):
        raise StackBusy(f"stack {stack.name} changed while this step ran: another run is going; run the step again")
    stack.pulumi("stack", "import", stdin=json.dumps(repaired))
    return report


def _manifest(export: dict[str, Any]) -> Any:
    """When and by what the state was last written."""
    return export.get("deployment", {}).get("manifest")


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

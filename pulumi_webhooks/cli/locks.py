"""A stack's locks, on any DIY backend, and whether the run that took one is still going.

A lock names the pid, user, host and time of the `pulumi` that took it. On the same
host, /proc tells whether that process still runs (and is the same process, not a
reused pid); on another host nothing can, so only its age speaks.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ..errors import StackBusy
from .backends import Store
from .stack import Stack


@dataclass(frozen=True)
class Lock:
    """A lock of the stack, the object `key` of its backend: who took it, where and when."""

    key: str
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


def locks_of(stack: Stack, store: Store) -> list[Lock]:
    """The locks of `stack` in its backend: project-scoped ones, and those of the legacy layout."""
    keys = [
        key
        for prefix in stack.lock_prefixes()
        for key in store.keys(prefix)
        if key.endswith(".json") and "/" not in key[len(prefix) :]
    ]
    # A lock released between the listing and the read is no lock: its run has ended.
    return [_read_lock(key, content) for key in keys if (content := store.read(key)) is not None]


def stale(lock: Lock, stack: str, break_after: timedelta | None) -> bool:
    """True when `lock`'s run is over; `StackBusy` when it may still be going."""
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


def _process_start(pid: int) -> datetime | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        boot = next(int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines() if line[:5] == "btime")
    except (OSError, StopIteration, IndexError, ValueError):
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return datetime.fromtimestamp(boot + int(fields[19]) / ticks, UTC)  # field 22: start time, in ticks


def _read_lock(key: str, content: bytes) -> Lock:
    try:
        data = json.loads(content)
        taken = datetime.fromisoformat(str(data["timestamp"]).replace("Z", "+00:00")).astimezone(UTC)
    except (ValueError, KeyError, TypeError):  # unreadable (torn): nothing tells who holds it
        data, taken = {}, datetime.fromtimestamp(0, UTC)
    return Lock(key, int(data.get("pid", 0)), str(data.get("username", "?")), str(data.get("hostname", "?")), taken)

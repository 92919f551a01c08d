"""Provider processes that a killed `pulumi` left running in a project's directory.

The engine starts each plugin in a process group of its own, so killing the CLI's group (a
cancelled CI job) leaves its dynamic-provider process behind. This package's provider writes
nothing once its engine is gone and ends when its calls in flight are done
(provider/engine.py); until then, a create it sent may still commit. The recovery step waits for
these processes to end before it looks at the account. They are found through /proc (Linux; none
elsewhere): a `python -m pulumi.dynamic HOST:PORT` whose working directory is the project's and
whose engine no longer answers at HOST:PORT.
"""

from __future__ import annotations

import time
from pathlib import Path

from ..provider.engine import answers

PROC = Path("/proc")
POLL_SECONDS = 0.5


def orphaned_providers(project: Path) -> list[int]:
    """The pids of the dynamic-provider processes in `project` whose engine is gone."""
    found = []
    wanted = project.resolve()
    for entry in PROC.glob("[0-9]*"):
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
            if b"pulumi.dynamic" not in args or Path(entry / "cwd").resolve() != wanted:
                continue
        except OSError:  # gone meanwhile, or not ours to read
            continue
        rest = args[args.index(b"pulumi.dynamic") + 1 :]
        host, _, port = (rest[0].decode(errors="replace") if rest else "").rpartition(":")
        if host and port.isdigit() and not answers((host, int(port))):
            found.append(int(entry.name))
    return sorted(found)


def wait_for(pids: list[int], seconds: float) -> list[int]:
    """Waits up to `seconds` for the processes `pids` to end; those still running."""
    deadline = time.monotonic() + seconds
    running = pids
    while running and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
        running = [pid for pid in running if (PROC / str(pid)).exists()]
    return running

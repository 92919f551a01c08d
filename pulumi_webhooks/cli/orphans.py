"""Provider processes that a killed `pulumi` left running in a project's directory.

The engine starts each plugin in a process group of its own, so killing the CLI's group (a
cancelled CI job) leaves its provider processes behind. This package's provider writes
nothing once its engine is gone and ends when its calls in flight are done
(provider/engine.py); until then, a create it sent may still commit. The recovery step waits for
these processes to end before it looks at the account. They are found through /proc (Linux; none
elsewhere): the dynamic provider (`python -m pulumi.dynamic HOST:PORT`) or the plugin
(`pulumi-resource-webhooks HOST:PORT`, or the installed plugin's directory run by a language host)
whose working directory is the project's and whose engine no longer answers at HOST:PORT; or a
dynamic provider started ahead (`python -m pulumi_webhooks.spare --cli PID ...`) whose `pulumi`
process has ended.
"""

from __future__ import annotations

import time
from pathlib import Path

from ..provider.engine import answers

PROC = Path("/proc")
SPARE = "pulumi_webhooks.spare"
"""The `python -m` module of a dynamic provider started ahead (langhost/spare)."""
POLL_SECONDS = 0.5


def orphaned_providers(project: Path) -> list[int]:
    """The pids of the provider processes in `project` whose engine is gone."""
    found = []
    wanted = project.resolve()
    for entry in PROC.glob("[0-9]*"):
        try:
            args = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
            engine, cli = engine_address(args), spare_cli(args)
            if (engine is None and cli is None) or Path(entry / "cwd").resolve() != wanted:
                continue
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if not (answers(engine) if engine is not None else (PROC / str(cli)).exists()):
            found.append(int(entry.name))
    return sorted(found)


def engine_address(args: list[str]) -> tuple[str, int] | None:
    """The engine a provider process of this package serves, from its command line; None for any
    other process. The engine passes its address after the plugin's flags."""
    start = next((i for i, arg in enumerate(args) if _is_provider(arg)), None)
    for arg in args[start + 1 :] if start is not None else ():
        host, _, port = arg.rpartition(":")
        if host and port.isdigit() and not arg.startswith("-"):
            return host, int(port)
    return None


def spare_cli(args: list[str]) -> int | None:
    """The `pulumi` a spare provider process (`python -m pulumi_webhooks.spare --cli PID ...`) was
    started for: its engine's address is not on its command line. None for any other process."""
    flags = args[args.index(SPARE) + 1 :] if SPARE in args else []
    value = flags[flags.index("--cli") + 1 :][:1] if "--cli" in flags else []
    return int(value[0]) if value and value[0].isdigit() else None


def _is_provider(arg: str) -> bool:
    name = Path(arg).name
    return arg == "pulumi.dynamic" or name == "pulumi-resource-webhooks" or name.startswith("resource-webhooks-v")


def wait_for(pids: list[int], seconds: float) -> list[int]:
    """Waits up to `seconds` for the processes `pids` to end; those still running."""
    deadline = time.monotonic() + seconds
    running = pids
    while running and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
        running = [pid for pid in running if (PROC / str(pid)).exists()]
    return running

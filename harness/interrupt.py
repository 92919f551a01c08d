"""Interrupting a `pulumi up` of a test project: started in the background, killed part way.

The CLI runs in a process group of its own, so a signal reaches it and its language host
together, as a user's `kill -- -PGID` or a runner's cancellation does. Plugins run in groups of
their own: a killed CLI leaves its provider process behind, as it does for users.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

from harness.project import STACK, Project, Run, pulumi_command
from pulumi_webhooks.cli.orphans import engine_address, spare_cli


def start_up(project: Project, output: Path) -> subprocess.Popen[bytes]:
    """`pulumi up` in the background, in a process group of its own, printing to `output`."""
    with output.open("wb") as sink:
        return subprocess.Popen(
            [pulumi_command(), "up", "--yes", "--stack", STACK],
            cwd=project.dir,
            env=project.env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def record(project: Project, process: subprocess.Popen[bytes], output: Path) -> Run:
    """Adds a background run's output to the project's, for the leak scan."""
    run = Run(("up", "--yes"), process.returncode, output.read_text(errors="replace"))
    project.runs.append(run)
    return run


def wait_for_hooks(project: Project, count: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while len(project.api.webhooks()) < count and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)


def interrupt_up(project: Project, sig: signal.Signals, after_hooks: int) -> None:
    """Starts `pulumi up` and sends `sig` to its whole process group once enough hooks exist."""
    output = project.dir / "interrupted-up.log"
    process = start_up(project, output)
    wait_for_hooks(project, after_hooks, process)
    os.killpg(process.pid, sig)
    process.wait(timeout=120)
    kill_orphaned_providers(project)
    record(project, process, output)


def providers_of(project: Project) -> list[int]:
    """The pids of the provider processes (dynamic, started ahead or plugin) of the project's runs that
    still run."""
    marker = f"PULUMI_HOME={project.env['PULUMI_HOME']}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        try:
            args = (proc / "cmdline").read_bytes().decode(errors="replace").split("\0")
            ours = proc.name.isdigit() and (engine_address(args) is not None or spare_cli(args) is not None)
            if ours and marker in (proc / "environ").read_bytes():
                found.append(int(proc.name))
        except OSError:  # gone meanwhile
            pass
    return found


def kill_orphaned_providers(project: Project) -> None:
    """Ends what a killed CLI left behind, as a machine that goes away would."""
    for pid in providers_of(project):
        with contextlib.suppress(OSError):  # gone meanwhile
            os.kill(pid, signal.SIGKILL)

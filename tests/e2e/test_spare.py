"""The dynamic provider started ahead (langhost/spare) under the real CLI: the engine's calls are
served by it, never by a provider started the slow way, and none is left once `pulumi` ends."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from harness.project import STACK, Project, new_project, pulumi_command
from tests.support import ApiFactory

PROC = Path("/proc")
SLOW_MS = "1500"  # each API call: long enough to see the provider at work


def providers_in(directory: Path) -> set[str]:
    """The kinds of dynamic-provider process running in `directory`: `spare` (started ahead) or
    `sdk` (`python -m pulumi.dynamic`, the SDK's launcher)."""
    kinds = set()
    for entry in PROC.glob("[0-9]*"):
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
            if Path(entry / "cwd").resolve() != directory:
                continue
        except OSError:  # ended meanwhile
            continue
        if b"pulumi_webhooks.spare" in args:
            kinds.add("spare")
        elif b"pulumi.dynamic" in args:
            kinds.add("sdk")
    return kinds


def watched(project: Project, *args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Runs `pulumi ARGS` while looking, every 20 ms, at the provider processes of the project."""
    seen: set[str] = set()
    with subprocess.Popen(
        [pulumi_command(), *args, "--stack", STACK],
        cwd=project.dir,
        env=project.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as running:
        while running.poll() is None:
            seen |= providers_in(project.dir.resolve())
            time.sleep(0.02)
        output = running.stdout.read() if running.stdout else ""
    return subprocess.CompletedProcess(running.args, running.returncode, output), seen


def test_every_pass_is_served_by_a_provider_started_ahead_and_none_outlives_pulumi(
    tmp_path: Path, start_api: ApiFactory
) -> None:
    project = new_project(tmp_path, start_api("--latency-ms", SLOW_MS))
    project.program('Webhook("alerts", endpoint="https://ops.example.com/hook", auth_type=AuthType.NONE)\n')
    for args, hooks in ((("up", "--yes"), 1), (("refresh", "--yes"), 1), (("destroy", "--yes"), 0)):
        done, seen = watched(project, *args)
        assert done.returncode == 0, done.stdout
        assert len(project.api.webhooks()) == hooks
        assert seen == {"spare"}, f"pulumi {args[0]}: provider processes {seen}"
        deadline = time.monotonic() + 5
        while providers_in(project.dir.resolve()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not providers_in(project.dir.resolve()), f"a provider outlived pulumi {args[0]}"

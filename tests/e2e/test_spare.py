"""The dynamic provider started ahead (langhost/spare) under the real CLI: the engine's calls are
served by it, never by a provider started the slow way, and none is left once `pulumi` ends."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
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


def watched(
    project: Project, *args: str, look: Callable[[], None] | None = None
) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Runs `pulumi ARGS` while looking, every 20 ms, at the provider processes of the project
    (and calling `look`)."""
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
            if look is not None:
                look()
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


def program_processes(directory: Path, module: bytes = b"pulumi_webhooks.program_spare") -> list[int]:
    """The programs' Python processes kept ready (`python -m pulumi_webhooks.program_spare`) in
    `directory`, or the providers' with `module` `pulumi_webhooks.spare`."""
    found = []
    for entry in PROC.glob("[0-9]*"):
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
            if module in args and Path(entry / "cwd").resolve() == directory:
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def test_a_command_keeps_a_python_ready_for_each_of_its_passes_and_no_more(
    tmp_path: Path, start_api: ApiFactory
) -> None:
    """A Python kept ready for a pass that does not come loads on the CPU of the passes that run:
    `preview` makes one pass, `up`, `refresh` and `destroy` two, and one with `--skip-preview`."""
    project = new_project(tmp_path, start_api())
    project.program('Webhook("alerts", endpoint="https://ops.example.com/hook", auth_type=AuthType.NONE)\n')
    directory = project.dir.resolve()
    for args, providers, programs in (
        (("up", "--yes"), 2, 2),
        (("preview",), 1, 1),
        (("refresh", "--yes"), 2, 0),
        (("up", "--yes", "--skip-preview"), 1, 1),
        (("destroy", "--yes"), 2, 0),
    ):
        started: dict[bytes, set[int]] = {b"pulumi_webhooks.spare": set(), b"pulumi_webhooks.program_spare": set()}

        def look(started: dict[bytes, set[int]] = started) -> None:
            for module, seen in started.items():
                seen.update(program_processes(directory, module))

        done, _ = watched(project, *args, look=look)
        assert done.returncode == 0, done.stdout
        deadline = time.monotonic() + 5  # the next command's count starts when these have ended
        while any(program_processes(directory, module) for module in started) and time.monotonic() < deadline:
            time.sleep(0.05)
        counts = (len(started[b"pulumi_webhooks.spare"]), len(started[b"pulumi_webhooks.program_spare"]))
        assert counts == (providers, programs), f"pulumi {' '.join(args)}: providers and programs started {counts}"


def test_every_pass_runs_the_program_in_a_python_started_ahead_with_the_stacks_config(
    tmp_path: Path, start_api: ApiFactory
) -> None:
    project = new_project(tmp_path, start_api())
    project.config("label", "from-config")
    project.config("hookToken", "s3cret-from-config", secret=True)
    # Each pass notes how its Python was started, and the config it read; the collector, off while
    # the spare loads, is on, as in any Python.
    project.program(
        """
        import gc, sys
        with open("passes.log", "a") as log:
            print(" ".join(sys.orig_argv), f"collector on: {gc.isenabled()}", config.require("label"), file=log)
        Webhook("alerts", endpoint="https://ops.example.com/hook", auth_type=AuthType.BEARER,
                token=config.require_secret("hookToken"))
        """
    )
    log = project.dir / "passes.log"
    for command, passes in ((project.up, 2), (project.preview, 1), (project.up, 2)):
        log.unlink(missing_ok=True)
        command()
        runs = log.read_text().splitlines()
        assert len(runs) == passes, runs
        assert all("-m pulumi_webhooks.program_spare --cli" in run for run in runs), runs
        assert all(run.endswith(" collector on: True from-config") for run in runs), runs
        deadline = time.monotonic() + 5
        while program_processes(project.dir.resolve()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not program_processes(project.dir.resolve()), "a program's Python outlived pulumi"
    [hook] = project.api.webhooks()
    assert project.api.stored_secrets()[str(hook["webhookId"])] == (None, "s3cret-from-config")


def test_a_program_run_ahead_fails_as_one_run_the_usual_way(tmp_path: Path, start_api: ApiFactory) -> None:
    project = new_project(tmp_path, start_api())
    project.program('Webhook("alerts", endpoint="not a url", auth_type=AuthType.NONE)\n')
    failed = project.up(check=False)
    assert not failed.ok
    assert "endpoint" in failed.output and "__main__.py" in failed.output, failed.output
    assert "Traceback" not in failed.output and "unhandled error" not in failed.output, failed.output
    project.program("raise SystemExit(3)\n")
    failed = project.up(check=False)
    assert "program exited with non-zero exit code: 3" in failed.output, failed.output


def test_a_program_run_ahead_ends_as_the_interpreter_would_end_it(tmp_path: Path, start_api: ApiFactory) -> None:
    """Its process ends without the interpreter's teardown of every module; what a program may
    count on at its exit still happens: its threads finish, its exit handlers run, and a file a
    module of its left open is written out."""
    project = new_project(tmp_path, start_api())
    (project.dir / "journal.py").write_text('log = open("module.out", "w")\nlog.write("module")\n')
    project.program(
        """
        import atexit, threading, time
        import journal

        def later():
            time.sleep(0.5)
            with open("thread.out", "w") as out:
                out.write("thread")

        threading.Thread(target=later).start()
        atexit.register(lambda: open("atexit.out", "w").write("atexit"))
        Webhook("alerts", endpoint="https://ops.example.com/hook", auth_type=AuthType.NONE)
        """
    )
    project.preview()
    for name in ("thread", "atexit", "module"):
        assert (project.dir / f"{name}.out").read_text() == name, name
    project.program("raise SystemExit(3)\n")
    failed = project.preview(check=False)
    assert "program exited with non-zero exit code: 3" in failed.output, failed.output

"""A stack on a shared state backend (PostgreSQL or an S3 bucket) deployed by runners that start at
once: the recovery step waits for a live run or refuses, never imports over one, and neither runner
duplicates a hook."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from harness.backends import Backend
from harness.interrupt import interrupt_up
from harness.project import STACK, Project, new_project, pulumi_command
from pulumi_webhooks.cli.backends import Unreadable, open_store
from tests.support import ApiFactory

BUSY = 75
TOKEN = "shared-T0ken-5a7c"
FLEET = """
from pulumi_webhooks import WebhookFleet

catalog = [{"team": "ops", "name": f"h{i:02d}", "endpoint": f"https://ops.example.com/shared/{i}",
            "auth_type": "bearer", "token_secret": "hookToken"} for i in range(config.require_int("count"))]
WebhookFleet("fleet", catalog)
"""


@pytest.fixture(params=["postgres", "s3"])
def shared(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Backend:
    """Each shared backend a team's runners use: PostgreSQL, an S3-compatible bucket."""
    backend: Backend = request.getfixturevalue(f"{request.param}_server").backend()
    for key, value in backend.env.items():  # for the test's own reads of the backend, as a runner sets them
        monkeypatch.setenv(key, value)
    return backend


def fleet_project(tmp_path: Path, start_api: ApiFactory, backend: Backend, *flags: str, count: int = 60) -> Project:
    project = new_project(tmp_path, start_api(*flags), backend=backend)
    project.program(FLEET)
    project.config("count", str(count))
    project.config("hookToken", TOKEN, secret=True)
    project.config("webhooks:maxConcurrentRequests", "4")
    return project


def pipeline(project: Project, *step_args: str) -> subprocess.Popen[str]:
    """The recipe of docs/pipelines.md as a runner runs it: the step, then `up`, in a shell of its own."""
    script = (
        f"{sys.executable} -m pulumi_webhooks recover --stack {STACK} {' '.join(step_args)}; step=$?; "
        f"[ $step -eq 0 ] || exit $step; {pulumi_command()} up --yes --skip-preview --stack {STACK}"
    )
    return subprocess.Popen(
        ["bash", "-c", script],
        cwd=project.dir,
        env=project.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for_locks(project: Project, held: bool, runner: subprocess.Popen[str], what: str) -> None:
    """Waits until the stack's backend holds a lock (`held`) or none, while `runner` goes on."""
    store = open_store(project.env["PULUMI_BACKEND_URL"], project.dir)
    assert not isinstance(store, Unreadable)
    deadline = time.monotonic() + 120
    while True:
        # Asked before the backend: a runner that ends just after the lock changed still counts.
        running = runner.poll() is None
        if bool(store.keys(".pulumi/locks/")) == held:
            return
        assert time.monotonic() < deadline, what
        if not running:
            out, err = runner.communicate()
            raise AssertionError(f"{what}: it exited {runner.returncode}: {out or ''}{err or ''}")
        time.sleep(0.1)


def start_second_once_the_first_holds_the_stack(project: Project, first: subprocess.Popen[str]) -> None:
    wait_for_locks(project, True, first, "the first runner never took the stack")


def exactly(project: Project, count: int) -> None:
    endpoints = Counter(h["endpoint"] for h in project.api.webhooks())
    assert endpoints == Counter(f"https://ops.example.com/shared/{i}" for i in range(count)), endpoints
    assert len(project.hooks_in_state()) == count


def test_two_pipelines_started_at_once_make_each_hook_once(
    tmp_path: Path, start_api: ApiFactory, shared: Backend
) -> None:
    """Both start together on an empty stack: the engine's lock lets one `up` through; the other
    runner's step, told to wait, waits for it, and its `up` then finds nothing to do."""
    project = fleet_project(tmp_path, start_api, shared, "--latency-ms", "500")
    first = pipeline(project, "--wait", "5")
    start_second_once_the_first_holds_the_stack(project, first)
    second = pipeline(project, "--wait", "5")
    outputs = [run.communicate(timeout=600)[0] for run in (first, second)]
    assert first.returncode == 0, outputs[0]
    assert second.returncode == 0, outputs[1]
    assert "waited for a running `pulumi` to finish with it" in outputs[1], outputs[1]
    assert "nothing to recover" in outputs[1] and "2 unchanged" in outputs[1], outputs[1]  # the stack and the fleet
    exactly(project, 60)
    assert project.api.stats()["requests"]["POST /webhooks"] == 60, "no hook made twice"


def test_without_a_wait_the_second_runner_is_refused_with_a_clear_message(
    tmp_path: Path, start_api: ApiFactory, shared: Backend
) -> None:
    project = fleet_project(tmp_path, start_api, shared, "--latency-ms", "500")
    first = pipeline(project)
    start_second_once_the_first_holds_the_stack(project, first)
    second = pipeline(project)
    outputs = [run.communicate(timeout=600)[0] for run in (first, second)]
    assert first.returncode == 0, outputs[0]
    assert second.returncode == BUSY, outputs[1]
    assert "is locked by a running `pulumi`" in outputs[1] and "let it finish, then run this again" in outputs[1]
    exactly(project, 60)


def test_the_step_never_imports_over_a_run_that_took_the_stack_while_it_worked(
    tmp_path: Path, start_api: ApiFactory, shared: Backend
) -> None:
    """A killed `up` leaves pending creates; while the step lists the API (slowly), another run
    takes the stack: the step imports nothing and says why, and the pipeline run again converges."""
    project = fleet_project(tmp_path, start_api, shared, "--latency-ms", "3000", count=12)
    interrupt_up(project, signal.SIGKILL, after_hooks=4)
    assert project.export()["deployment"].get("pending_operations"), "the case the step is for"
    step = subprocess.Popen(
        [sys.executable, "-m", "pulumi_webhooks", "recover", "--stack", STACK, "--json"],
        cwd=project.dir,
        env=project.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for_locks(project, False, step, "the step never cleared the killed run's lock")  # it now lists the API
    other = subprocess.Popen(
        [pulumi_command(), "refresh", "--yes", "--skip-preview", "--stack", STACK],
        cwd=project.dir,
        env=project.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    # The rival takes the stack, and may be done with it, while the step still lists the API (two
    # calls at 3 s each): the step sees its lock or its new checkpoint either way.
    _, said = step.communicate(timeout=300)
    rival_said, _ = other.communicate(timeout=300)
    assert other.returncode == 0, rival_said
    assert step.returncode == BUSY, said
    assert "while this step ran" in said and "nothing was changed" in said
    assert project.export()["deployment"].get("pending_operations"), "nothing imported"

    again = pipeline(project)
    assert again.wait(timeout=600) == 0, again.stdout.read() if again.stdout else ""
    exactly(project, 12)


def test_the_step_reports_what_it_did_as_json_on_a_shared_backend(
    tmp_path: Path, start_api: ApiFactory, shared: Backend
) -> None:
    project = fleet_project(tmp_path, start_api, shared, count=3)
    project.up()
    report = project.recovered()
    says = {"postgres": "PostgreSQL", "s3": "S3-compatible bucket"}[shared.kind]
    assert (report["backend"], report["lockChecked"], report["changed"]) == (says, True, False), report

"""The pipeline's recovery step (`pulumi-webhooks recover --stack`) and the bare `up`'s guard
against duplicates, under the real CLI; the step's lock rules on each backend a team uses (a
local directory, PostgreSQL, S3). Kills at random points are campaign 8 (tests/reliability);
these pin each behaviour once."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from harness.api import PASSWORD, STATIC_TOKEN
from harness.backends import BACKEND_SECRETS, Backend, object_exists, put_object, stored_objects
from harness.project import STACK, Project

PROGRAM = """
adopt = config.get_object("adopt") or {}
for i in range(3):
    Webhook(f"hook-{i}", endpoint=f"https://ops.example.com/pipeline/{i}", auth_type="bearer",
            token=config.require_secret("hookToken"), adopt_id=adopt.get(str(i)))
"""
TOKEN = "pipeline-T0ken-2c9e"
BUSY = 75


def deployed(project: Project) -> Project:
    project.program(PROGRAM)
    project.config("hookToken", TOKEN, secret=True)
    project.up()
    return project


def checkpoint(project: Project) -> Path:
    state = Path(project.env["PULUMI_BACKEND_URL"].removeprefix("file://"))
    return next(state.glob(f".pulumi/stacks/*/{STACK}.json"))


LOCK = f".pulumi/locks/organization/e2e/{STACK}/0f1e2d3c-killed-run.json"


def write_lock(backend: Backend, **content: Any) -> str:
    """A lock of the stack as `pulumi` writes one, in the stack's backend."""
    defaults = {"pid": 1, "username": "ci", "hostname": socket.gethostname(), "timestamp": datetime.now(UTC)}
    data = {**defaults, **content}
    data["timestamp"] = data["timestamp"].isoformat()
    put_object(backend, LOCK, json.dumps(data).encode())
    return LOCK


def dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_on_a_healthy_stack_the_step_changes_nothing_and_calls_no_api(
    shared_project: Project, backend: Backend
) -> None:
    project = deployed(shared_project)
    before = stored_objects(backend)
    project.api.post("/_admin/reset-stats")
    step = project.recover()
    assert step.returncode == 0, step.stderr
    report = json.loads(step.stdout)
    assert (report["changed"], report["lockChecked"]) == (False, True), report
    assert "nothing to recover" in step.stderr
    assert stored_objects(backend) == before, "nothing in the backend was written"
    assert project.api.stats()["requests"] == {}
    assert not [s for s in BACKEND_SECRETS if s in step.stdout + step.stderr], "no backend password shown"


def test_a_dead_process_lock_is_cleared_and_a_live_one_stops_the_step(
    shared_project: Project, backend: Backend
) -> None:
    project = deployed(shared_project)
    lock = write_lock(backend, pid=dead_pid())
    blocked = project.up(check=False)
    assert "locked" in blocked.output, "the lock is where pulumi looks for it"

    step = project.recover()
    assert step.returncode == 0, step.stderr
    assert json.loads(step.stdout)["locksCleared"] and "that process is gone" in step.stderr
    assert not object_exists(backend, lock)
    project.preview("--expect-no-changes")

    # A `pulumi` that still runs on this machine: never cleared.
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "pulumi-up-stand-in"])
    try:
        lock = write_lock(backend, pid=running.pid)
        step = project.recover()
        assert step.returncode == BUSY, step.stderr
        assert f"locked by a running `pulumi` of ci@{socket.gethostname()} (pid {running.pid})" in step.stderr
        assert object_exists(backend, lock)
    finally:
        running.kill()


def test_another_machines_lock_is_cleared_only_when_older_than_asked(shared_project: Project, backend: Backend) -> None:
    project = deployed(shared_project)
    lock = write_lock(backend, hostname="ci-runner-7", timestamp=datetime.now(UTC) - timedelta(minutes=30))
    step = project.recover()
    assert step.returncode == BUSY
    assert "ci@ci-runner-7" in step.stderr and "pulumi cancel --yes --stack e2e" in step.stderr
    assert "--break-locks-older-than" in step.stderr
    assert project.recover("--break-locks-older-than", "60").returncode == BUSY
    assert object_exists(backend, lock)

    step = project.recover("--break-locks-older-than", "20")
    assert step.returncode == 0, step.stderr
    assert not object_exists(backend, lock)


def test_a_bare_up_refuses_to_duplicate_an_orphan_and_adopt_id_takes_it(project: Project) -> None:
    """The orphan an interrupted run leaves when nobody ran the step: `up` creates the others
    and fails for that one, naming the id; nothing is duplicated."""
    orphan = project.api.post(
        "/webhooks", {"endpoint": "https://ops.example.com/pipeline/1", "authType": "bearer", "token": TOKEN}
    ).json()["webhookId"]
    project.program(PROGRAM)
    project.config("hookToken", TOKEN, secret=True)
    run = project.up(check=False)
    assert not run.ok
    assert f"webhook {orphan} already has exactly these settings" in run.output, run.output
    assert f'adopt_id="{orphan}"' in run.output
    assert "Traceback" not in run.output and TOKEN not in run.output
    assert len(project.api.webhooks()) == 3, "no duplicate"
    assert sorted(project.webhook_states()) == ["hook-0", "hook-2"]

    project.config("adopt", json.dumps({"1": str(orphan)}))
    project.up()
    assert len(project.api.webhooks()) == 3
    assert project.webhook_states()["hook-1"]["id"] == str(orphan)


def test_a_replace_deletes_first_so_the_guard_never_meets_the_old_webhook(project: Project) -> None:
    deployed(project)
    urn = project.webhook_states()["hook-1"]["urn"]
    old_id = project.webhook_states()["hook-1"]["id"]
    run = project.up("--replace", urn)
    assert "already has exactly these settings" not in run.output
    assert len(project.api.webhooks()) == 3
    assert project.webhook_states()["hook-1"]["id"] != old_id


def test_a_metadata_file_torn_by_a_kill_is_deleted_and_the_stack_reads_again(project: Project) -> None:
    """A kill while the blob store rewrites the state's `.attrs` sidecar leaves it empty, and
    every command then fails; the state file itself is whole."""
    deployed(project)
    sidecar = checkpoint(project).with_name(f"{STACK}.json.attrs")
    sidecar.write_text("")
    assert "failed to load checkpoint" in project.preview(check=False).output
    step = project.recover()
    assert step.returncode == 0, step.stderr
    assert json.loads(step.stdout)["sidecarsDeleted"] == [f"{STACK}.json.attrs"]
    assert "half-written when a run was killed" in step.stderr
    project.preview("--expect-no-changes")


def test_doctor_with_stack_checks_the_account_the_stack_deploys_to(project: Project) -> None:
    """`doctor --stack` reads the stack's config first, then the environment, as the provider does."""

    def doctor(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "pulumi_webhooks", "doctor", "--stack", STACK, "--json", *args]
        return subprocess.run(command, cwd=project.dir, env=env, capture_output=True, text=True, timeout=300)

    healthy = doctor(env=project.env)
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    report = json.loads(healthy.stdout)
    assert report["apiUrl"] == project.api.url and report["ok"]
    assert [c["name"] for c in report["checks"] if c["status"] == "ok"][-1] == "idempotency"
    assert project.api.webhooks() == []

    # The stack's login wins over a good token in the environment, as in the provider.
    project.config("webhooks:apiPassword", "wrong-Passw0rd-doctor", secret=True)
    env = {**project.env, "WEBHOOKS_API_URL": project.api.url, "WEBHOOKS_API_TOKEN": STATIC_TOKEN}
    refused = doctor("--read-only", env=env)
    assert refused.returncode == 1
    checks = {c["name"]: c for c in json.loads(refused.stdout)["checks"]}
    assert checks["credentials"]["status"] == "fail"
    assert "webhooks:apiUserName" in checks["credentials"]["fix"]
    for secret in ("wrong-Passw0rd-doctor", PASSWORD, STATIC_TOKEN):
        assert secret not in refused.stdout + refused.stderr

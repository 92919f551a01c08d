"""Fault campaigns under the real CLI: rate limits, 5xx, lost responses, slowness, kills,
server restarts and concurrency. Each ends with the API matching the program exactly and a
leak scan. Sizes are bounded for CI; CAMPAIGN_SCALE=N multiplies them (docs/reliability.md).
Set RELIABILITY_REPORT=FILE to append each campaign's figures to FILE as JSON lines.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from harness.api import PASSWORD, STATIC_TOKEN, USER, Api
from harness.backends import BACKEND_SECRETS, Backend, PostgresServer, file_backend
from harness.interrupt import interrupt_up, kill_orphaned_providers, providers_of, record, start_up, wait_for_hooks
from harness.project import STACK, Project, cli_env, new_project, pulumi_command
from tests.leaks import assert_no_leaks, leaks, project_sources
from tests.support import ApiFactory

# Every campaign meets a list that lags writes, as a vendor's may (campaign 10 sets its own).
pytestmark = [pytest.mark.campaign, pytest.mark.list_lag(2)]
SCALE = float(os.environ.get("CAMPAIGN_SCALE", "1"))
TOKEN = "campaign-T0ken-9f3b"
SECRETS = [TOKEN, PASSWORD, STATIC_TOKEN, *BACKEND_SECRETS]
PROGRAMS = {
    # A Webhook per hook.
    "hooks": """
suffix = config.get("suffix") or "v1"
adopt = config.get_object("adopt") or {}
for i in range(config.require_int("count")):
    Webhook(f"hook-{i:04d}", endpoint=f"https://campaign.example.com/{suffix}/{i}", auth_type="bearer",
            token=config.require_secret("hookToken"), adopt_id=adopt.get(f"hook-{i:04d}"))
""",
    # The same hooks as one WebhookFleet, each under team `campaign` by the same name.
    "fleet": """
from pulumi_webhooks import WebhookFleet

suffix = config.get("suffix") or "v1"
adopt = config.get_object("adopt") or {}
catalog = [
    {"team": "campaign", "name": f"hook-{i:04d}", "endpoint": f"https://campaign.example.com/{suffix}/{i}",
     "auth_type": "bearer", "token_secret": "hookToken", "adopt_id": adopt.get(f"hook-{i:04d}")}
    for i in range(config.require_int("count"))
]
WebhookFleet("fleet", [{k: v for k, v in entry.items() if v is not None} for entry in catalog])
""",
}
# What a refused orphan's error names, for a bare `up`: (hook name, webhook id).
REFUSED = re.compile(r"(?:Webhook \((hook-\d{4})\):\s+error:|campaign/(hook-\d{4}):) webhook (\w+)[ ,]")


def size(n: int) -> int:
    return max(1, int(n * SCALE))


def hooks_project(
    tmp_path: Path, api: Api, count: int, name: str = "run", program: str = "hooks", backend: Backend | None = None
) -> Project:
    project = new_project(tmp_path / name, api, backend=backend)
    project.program(PROGRAMS[program])
    project.config("count", str(count))
    project.config("hookToken", TOKEN, secret=True)
    return project


def assert_api_matches(project: Project, count: int, suffix: str = "v1") -> dict[str, int]:
    """The API holds exactly the program's hooks: none missing, none duplicated, none extra."""
    endpoints = Counter(h["endpoint"] for h in project.api.webhooks())
    wanted = {f"https://campaign.example.com/{suffix}/{i}" for i in range(count)}
    duplicates = sum(n - 1 for n in endpoints.values() if n > 1)
    missing = len(wanted - set(endpoints))
    extra = len(set(endpoints) - wanted)
    assert (duplicates, missing, extra) == (0, 0, 0), f"duplicates {duplicates}, missing {missing}, extra {extra}"
    assert len(project.hooks_in_state()) == count, "state holds every hook, once"
    return {"duplicates": duplicates, "missing": missing, "extra": extra}


def converge(project: Project, *args: str) -> int:
    """`pulumi up`, run again once if the engine itself gave up; returns the attempts made."""
    if project.up(*args, check=False).ok:
        return 1
    project.up(*args)
    return 2


def report(campaign: str, **figures: Any) -> None:
    print(f"\n{campaign}: {figures}")
    path = os.environ.get("RELIABILITY_REPORT")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps({"campaign": campaign, "scale": SCALE, **figures}) + "\n")


def statuses(api: Api) -> dict[str, int]:
    return {k: int(v) for k, v in api.stats()["status"].items()}


@pytest.mark.parametrize("program", ["hooks", "fleet"])
def test_1_rate_limits_with_and_without_the_client_side_limit(
    tmp_path: Path, start_api: ApiFactory, program: str
) -> None:
    count, rate = size(100), 20
    runs = {}
    for label, client_limit in (("no client limit", None), ("client limit = server rate", rate)):
        api = start_api("--rate-limit", str(rate), "--retry-after-format", "http-date")
        name = label.replace(" ", "-").replace("=", "")
        project = hooks_project(tmp_path, api, count, name=name, program=program)
        if client_limit:
            project.config("webhooks:maxRequestsPerSecond", str(client_limit))
        started = time.perf_counter()
        attempts = converge(project)
        seconds = time.perf_counter() - started
        figures = assert_api_matches(project, count)
        assert_no_leaks(project, SECRETS)
        runs[label] = {"seconds": round(seconds, 1), "429s": statuses(api).get("429", 0), "attempts": attempts}
        report(f"1 rate limit {rate}/s, {label}", program=program, hooks=count, **runs[label], **figures)
    assert runs["no client limit"]["429s"] > 0, "the server did rate-limit"
    assert runs["client limit = server rate"]["429s"] <= max(3, runs["no client limit"]["429s"] // 20)


def test_2_server_errors_on_every_route_converge(tmp_path: Path, start_api: ApiFactory) -> None:
    count = size(30)
    api = start_api("--fail-rate", "0.2", "--seed", "11")
    project = hooks_project(tmp_path, api, count)
    attempts = {"up": converge(project)}
    assert_api_matches(project, count)
    project.config("suffix", "v2")
    attempts["update"] = converge(project)
    assert_api_matches(project, count, "v2")
    attempts["refresh"] = 1 if project.refresh("--skip-preview", check=False).ok else 2
    if attempts["refresh"] == 2:
        project.refresh("--skip-preview")
    assert_api_matches(project, count, "v2")
    attempts["destroy"] = 1 if project.destroy(check=False).ok else 2
    if attempts["destroy"] == 2:
        project.destroy()
    assert project.api.webhooks() == [] and project.webhook_states() == {}
    assert_no_leaks(project, SECRETS)
    injected = sum(n for code, n in statuses(api).items() if code.startswith("5"))
    assert injected > 0
    report("2 fail-rate 0.2", hooks=count, injected_5xx=injected, attempts=attempts, duplicates=0, missing=0)


def test_3_lost_create_responses_make_no_duplicates(tmp_path: Path, start_api: ApiFactory) -> None:
    count = size(50)
    api = start_api("--drop-create-response-rate", "0.3", "--seed", "5")
    project = hooks_project(tmp_path, api, count)
    attempts = converge(project)
    figures = assert_api_matches(project, count)
    dropped = statuses(api).get("dropped", 0)
    assert dropped > 0
    assert_no_leaks(project, SECRETS)
    report("3 drop-create-response 0.3", hooks=count, dropped_responses=dropped, attempts=attempts, **figures)


def test_4_a_slow_api_fails_clearly_within_its_bound(tmp_path: Path, start_api: ApiFactory) -> None:
    api = start_api("--latency-ms", "2500")
    project = hooks_project(tmp_path, api, 2)
    project.config("webhooks:timeoutSeconds", "0.5")
    started = time.perf_counter()
    run = project.up(check=False)
    seconds = time.perf_counter() - started
    assert not run.ok
    assert re.search(r"(GET|POST|PUT|DELETE) /[\w/<>]+ failed \(no response\): timed out", run.output), run.output
    assert "raise webhooks:timeoutSeconds" in run.output
    assert seconds < 240, "bounded by timeouts and retry limits, never a hang"
    assert_no_leaks(project, SECRETS)
    report("4 latency 2500 ms, timeout 0.5 s", hooks=2, seconds=round(seconds, 1), outcome="clear timeout error")


def recover(project: Project) -> str:
    exported = project.pulumi("stack", "export", "--stack", STACK).output
    env = {
        **project.env,
        "WEBHOOKS_API_URL": project.api.url,
        "WEBHOOKS_API_USERNAME": USER,
        "WEBHOOKS_API_PASSWORD": PASSWORD,
    }
    repaired = subprocess.run(
        [sys.executable, "-m", "pulumi_webhooks", "recover"],
        input=exported,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    subprocess.run(
        [pulumi_command(), "stack", "import", "--stack", STACK],
        input=repaired.stdout,
        cwd=project.dir,
        env=project.env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return repaired.stderr.strip()


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_5_an_interrupted_up_recovers_with_no_orphan_and_no_duplicate(
    tmp_path: Path, start_api: ApiFactory, sig: signal.Signals
) -> None:
    count = size(100)
    api = start_api("--latency-ms", "100")
    project = hooks_project(tmp_path, api, count)
    interrupt_up(project, sig, after_hooks=count // 3)
    delete_torn_sidecars(project)  # a SIGKILL may tear the state's sidecar (docs/pipelines.md: the manual fix)
    on_api, in_state = len(api.webhooks()), len(project.webhook_states())
    pending = len(project.export()["deployment"].get("pending_operations") or [])
    if sig == signal.SIGKILL:
        assert pending > 0, "killed with creates in flight: the case recovery is for"
    project.pulumi("cancel", "--yes", "--stack", STACK, check=False)  # a killed run leaves its lock behind
    summary = recover(project)
    project.refresh("--skip-preview")
    project.up()
    figures = assert_api_matches(project, count)
    assert_no_leaks(project, SECRETS)
    report(
        f"5 {sig.name} part way",
        hooks=count,
        on_api_at_kill=on_api,
        in_state_at_kill=in_state,
        pending_at_kill=pending,
        recover=summary,
        **figures,
    )


def test_6_a_server_restart_mid_run_loses_nothing(tmp_path: Path, start_api: ApiFactory) -> None:
    count = size(60)
    api = start_api("--latency-ms", "50")
    port = api.url.rsplit(":", 1)[1]
    project = hooks_project(tmp_path, api, count)
    output = tmp_path / "restarted-up.log"
    process = start_up(project, output)
    wait_for_hooks(project, count // 3, process)
    before = len(api.webhooks())
    api.process.stop()
    time.sleep(2)
    restarted = start_api("--latency-ms", "50", "--port", port, db=api.process.db_path)
    project.api = restarted
    process.wait(timeout=600)
    first = record(project, process, output)
    first_ok = first.ok
    if not first_ok:
        assert "could not reach the API" in first.output or "timed out" in first.output, first.output
    attempts = 1 if first_ok else converge(project) + 1
    figures = assert_api_matches(project, count)
    assert_no_leaks(project, SECRETS)
    report(
        "6 server restart mid-up",
        hooks=count,
        on_api_at_restart=before,
        first_run_ok=first_ok,
        attempts=attempts,
        **figures,
    )


def test_7_two_hundred_hooks_in_one_up_stay_consistent(tmp_path: Path, start_api: ApiFactory) -> None:
    count = size(200)
    api = start_api()
    project = hooks_project(tmp_path, api, count)
    project.up()
    figures = assert_api_matches(project, count)
    ids = [h["webhookId"] for h in api.webhooks()]
    assert len(ids) == len(set(ids)) == count
    assert_no_leaks(project, SECRETS)
    report("7 200 hooks, default parallelism", hooks=count, **figures)


# -- campaign 8: kills at random points, then the pipeline or a bare `up` ---------------------

# A fleet works through its hooks many at a time: slower answers and fewer at once leave a kill
# the same window, about two seconds, as the per-hook program's.
KILL_LATENCY_MS = {"hooks": "20", "fleet": "200"}
FLEET_CONCURRENCY = "8"


def writes(api: Api, operation: str) -> int:
    if operation == "create":
        return len(api.webhooks())
    return int(api.stats()["requests"].get("PUT /webhooks/<id>", 0))


def census(project: Project, count: int, suffix: str) -> dict[str, int]:
    """How far the API is from the program: duplicated, missing and extra hooks, and hooks the
    API holds that state does not (refused by the guard, waiting for adopt_id)."""
    endpoints = Counter(h["endpoint"] for h in project.api.webhooks())
    wanted = {f"https://campaign.example.com/{suffix}/{i}" for i in range(count)}
    return {
        "duplicates": sum(n - 1 for n in endpoints.values() if n > 1),
        "missing": len(wanted - set(endpoints)),
        "extra": len(set(endpoints) - wanted),
        "not_in_state": count - len(project.hooks_in_state()),
    }


def delete_torn_sidecars(project: Project) -> int:
    """The manual fix of docs/pipelines.md for a local-directory backend's torn sidecar (others have none)."""
    if not project.env["PULUMI_BACKEND_URL"].startswith("file://"):
        return 0
    state = Path(project.env["PULUMI_BACKEND_URL"].removeprefix("file://"))
    torn = 0
    for sidecar in state.glob(f".pulumi/stacks/*/{STACK}.json*.attrs"):
        try:
            json.loads(sidecar.read_text())
        except ValueError:
            sidecar.unlink()
            torn += 1
    return torn


def kill_trial(
    tmp_path: Path,
    start_api: ApiFactory,
    backend: Backend,
    program: str,
    kill: str,
    operation: str,
    at: int,
    pipeline: bool,
    count: int,
) -> dict[str, Any]:
    """One trial: `up` (a create of `count` hooks, or an update of all of them) killed once `at`
    writes reached the API, then the pipeline (recovery step, `up`) or a bare `up` (and, if it
    refuses orphans, the `adopt_id`s its messages name, and `up` again)."""
    latency = KILL_LATENCY_MS[program]
    api = start_api("--latency-ms", latency)
    project = hooks_project(tmp_path, api, count, program=program, backend=backend)
    if program == "fleet":
        project.config("webhooks:maxConcurrentRequests", FLEET_CONCURRENCY)
    suffix = "v1"
    if operation == "update":
        project.up("--skip-preview")
        project.config("suffix", suffix := "v2")
        api.post("/_admin/reset-stats")
    output = project.dir / "killed-up.log"
    process = start_up(project, output)
    deadline = time.monotonic() + 120
    while writes(api, operation) < at and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.poll() is None, f"the `up` ended before {at} writes: this trial would kill nothing"
    if kill == "server":
        port = api.url.rsplit(":", 1)[1]
        api.process.process.kill()  # SIGKILL: no goodbye to in-flight requests
        api.process.stop()
        time.sleep(1)
        project.api = api = start_api("--latency-ms", latency, "--port", port, db=api.process.db_path)
        process.wait(timeout=600)
    else:
        # As users do it: the CLI's process group only. Its provider, in a group of its own, is left running.
        signum = signal.SIGKILL if kill == "SIGKILL" else signal.SIGINT
        os.killpg(process.pid, signum)
        process.wait(timeout=120)
    record(project, process, output)
    result: dict[str, Any] = {}
    if pipeline:
        step = project.recovered()
        creates = [step["imported"], step["dropped"], step["ambiguous"], step["alreadyInState"]]
        result.update(
            pending=sum(map(len, creates)) + step["otherPending"],
            torn=len(step["sidecarsDeleted"]),
            imported=len(step["imported"]),
            dropped=len(step["dropped"]),
            providers_waited=step["providersWaitedFor"],
        )
        final = project.up(check=False)
    else:
        # What a person does, as docs/pipelines.md says: the manual fix for "failed to load checkpoint:
        # EOF" (without it even `pulumi cancel` fails), then `pulumi cancel` after a SIGKILL.
        result["torn"] = delete_torn_sidecars(project)
        if kill == "SIGKILL":
            project.pulumi("cancel", "--yes", "--stack", STACK)
        result["pending"] = len(project.export()["deployment"].get("pending_operations") or [])
        # What a person does: `up`, then what its messages say. The guard refuses each orphan,
        # naming its id; the engine stops creating at the first failure.
        final = project.up(check=False)
        bare = census(project, count, suffix)
        result.update(bare_up_duplicates=bare["duplicates"], bare_up_missing=bare["missing"])
        refused: dict[str, str] = {}
        for _ in range(5):  # the engine stops at the first failure: later orphans show in later runs
            named = {one or other: webhook_id for one, other, webhook_id in REFUSED.findall(final.output)}
            if not named:
                break
            refused.update(named)
            project.config("adopt", json.dumps(refused))
            final = project.up(check=False)
        result["refused"] = len(refused)
    leaked = leaks(project_sources(project), SECRETS)
    left = len(project.export()["deployment"].get("pending_operations") or [])
    result.update(up_ok=final.ok, leaks=len(leaked), pending_left=left, **census(project, count, suffix))
    result["providers_left"] = len(providers_of(project))
    kill_orphaned_providers(project)  # the bare path's, which end by themselves within their bound
    # The pipeline must finish alone; on the bare path a person cancels a killed run's lock, mends
    # a torn sidecar or adopts the orphans its messages name.
    person = (kill == "SIGKILL" or result["torn"] or result.get("refused")) if not pipeline else not final.ok
    result["needed_a_person"] = int(bool(person))
    api.process.stop()  # hundreds of trials in the full form: one server at a time
    return result


KILLS = ("SIGKILL", "SIGINT", "server")
KILL_COUNT = 100


BACKENDS = ("file", "postgres", "s3")


def kill_trials() -> list[tuple[str, str, str, str, str, int, int]]:
    """(backend, program, path, kill, operation, trial, kill point) of every trial, seeded: the same
    kill points every run.

    For each state backend (a local directory, PostgreSQL, S3), each program (a Webhook per
    hook, or one WebhookFleet), each kill (the CLI's process group by SIGKILL or SIGINT, or the
    API server by SIGKILL) and each operation (a create of 100 hooks, an update of all of them):
    `size(1)` pipeline trials, then one bare trial."""
    trials = []
    for backend in BACKENDS:
        for program in PROGRAMS:
            rng = random.Random(8)  # the same kill points for each program and backend
            for kill in KILLS:
                for operation in ("create", "update"):
                    for trial in range(size(1) + 1):
                        route = "bare" if trial == size(1) else "pipeline"
                        trials.append((backend, program, route, kill, operation, trial, rng.randrange(KILL_COUNT)))
    return trials


@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    ("backend_kind", "program", "route", "kill", "operation", "trial", "at"),
    kill_trials(),
    ids=["-".join(map(str, (*trial[:6], "at", trial[6]))) for trial in kill_trials()],
)
def test_8_killed_at_a_random_point_then_recovered_leaves_exactly_the_program(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    start_api: ApiFactory,
    backend_kind: str,
    program: str,
    route: str,
    kill: str,
    operation: str,
    trial: int,
    at: int,
) -> None:
    """One trial: a kill once `at` writes reached the API, then the pipeline (recovery step,
    then `up`) or a bare `up`, and the API must hold exactly the program."""
    backend = (
        file_backend(tmp_path / "state")
        if backend_kind == "file"
        else (request.getfixturevalue(f"{backend_kind}_server").backend())
    )
    result = kill_trial(tmp_path, start_api, backend, program, kill, operation, at, route == "pipeline", KILL_COUNT)
    report(
        f"8 {route}: {kill} during {operation}",
        backend=backend_kind,
        program=program,
        hooks=KILL_COUNT,
        route=route,
        kill=kill,
        operation=operation,
        at=at,
        **result,
    )
    where = f"{backend_kind}, {program}, {route}, {kill} during {operation} at {at}"
    assert (result["duplicates"], result["missing"], result["extra"], result["leaks"]) == (0, 0, 0, 0), (
        f"{where}: {result}"
    )
    assert result["up_ok"] and result["not_in_state"] == 0, f"{where}: {result}"
    assert result.get("bare_up_duplicates", 0) == 0, f"{where}: the bare `up` duplicated: {result}"
    if route == "pipeline":
        assert result["pending_left"] == 0, f"{where}: the step left pending operations: {result}"
        assert result["providers_left"] == 0, f"{where}: a killed run's provider still runs: {result}"


# -- campaign 10: vendors that page their lists and serve them late -------------------------

VENDOR_STYLES = ("link", "cursor", "page", "offset")
VENDOR_VARIANTS = {
    "plain": [],
    "30% of create answers lost": ["--drop-create-response-rate", "0.3"],
    "creates answer without an id": ["--create-without-id"],
}
FULL_FORM = SCALE >= 3
# Several seconds behind; CAMPAIGN_LIST_LAG measures what the default settle window (10 s) survives.
VENDOR_LAG_SECONDS = float(os.environ.get("CAMPAIGN_LIST_LAG", "5" if FULL_FORM else "3"))


def vendor_trials() -> list[tuple[str, str, str]]:
    """(paging style, program, variant) of every trial: in the full form (CAMPAIGN_SCALE=3: 120
    hooks, 30 to a page) every combination; in CI's, each style and program once, the variants in
    turn."""
    combinations = [(style, program) for style in VENDOR_STYLES for program in PROGRAMS]
    variants = list(VENDOR_VARIANTS)
    if FULL_FORM:
        return [(style, program, variant) for style, program in combinations for variant in variants]
    return [(style, program, variants[i % len(variants)]) for i, (style, program) in enumerate(combinations)]


def listed_by_the_command(project: Project) -> list[str]:
    """The endpoints `pulumi-webhooks list --json` shows, once the list has caught up with the last write."""
    time.sleep(VENDOR_LAG_SECONDS + 0.5)
    env = {**project.env, "WEBHOOKS_API_URL": project.api.url, "WEBHOOKS_API_TOKEN": STATIC_TOKEN}
    shown = subprocess.run(
        [sys.executable, "-m", "pulumi_webhooks", "list", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return sorted(hook["endpoint"] for hook in json.loads(shown.stdout))


@pytest.mark.timeout(900 if FULL_FORM else 300)
@pytest.mark.parametrize(("style", "program", "variant"), vendor_trials())
def test_10_a_paged_lagging_list_loses_and_duplicates_nothing(
    tmp_path: Path, start_api: ApiFactory, style: str, program: str, variant: str
) -> None:
    """up, refresh, up, preview and destroy against a vendor whose list pages (at most a quarter of
    the hooks to a page) and lags writes by seconds: after each step the API holds exactly the
    program, all of it in state and in `pulumi-webhooks list`."""
    count = size(40)
    page = str(max(7, count // 4))
    api = start_api(
        "--page-style", style, "--page-size", page, "--page-max", page,
        "--list-lag-seconds", str(VENDOR_LAG_SECONDS), "--seed", "10", *VENDOR_VARIANTS[variant],
    )  # fmt: skip
    project = hooks_project(tmp_path, api, count, program=program)
    wanted = sorted(f"https://campaign.example.com/v1/{i}" for i in range(count))
    started = time.perf_counter()
    steps = {}
    for step in ("up", "refresh", "up again", "preview"):
        if step == "refresh":
            project.refresh("--skip-preview")
        elif step == "preview":
            project.preview("--expect-no-changes")
        else:
            project.up("--skip-preview")
        steps[step] = census(project, count, "v1")
        assert steps[step] == {"duplicates": 0, "missing": 0, "extra": 0, "not_in_state": 0}, (step, steps[step])
        assert listed_by_the_command(project) == wanted, f"after {step}, `list` shows every hook once"
    project.destroy("--skip-preview")
    assert project.api.webhooks() == [] and project.hooks_in_state() == {}, "destroy leaves nothing behind"
    assert listed_by_the_command(project) == []
    assert_no_leaks(project, SECRETS)
    report(
        "10 paged, lagging list",
        style=style,
        program=program,
        variant=variant,
        hooks=count,
        page=int(page),
        lag_seconds=VENDOR_LAG_SECONDS,
        dropped_answers=statuses(api).get("dropped", 0),
        seconds=round(time.perf_counter() - started, 1),
        list_calls=int(api.stats()["requests"].get("GET /webhooks", 0)),
        duplicates=0,
        left_behind=0,
    )


# -- campaign 9: one catalog across eight stacks, deployed at once from a service --------------

TEAMS = [f"team-{i}" for i in range(8)]


def many_stacks_catalog(per_team: int) -> dict[str, Any]:
    return {
        "teams": {
            team: {
                "defaults": {"auth_type": "bearer", "token_secret": "teamToken"},
                "hooks": [
                    {"name": f"h{i:03d}", "endpoint": f"https://{team}.example.com/h/{i}"} for i in range(per_team)
                ],
            }
            for team in TEAMS
        }
    }


ACCOUNT_RATE = 40


@pytest.mark.parametrize("share", [None, ACCOUNT_RATE / len(TEAMS)], ids=["no-client-limit", "each-its-share"])
def test_9_eight_stacks_of_one_catalog_deployed_at_once_through_the_automation_api(
    tmp_path: Path, start_api: ApiFactory, postgres_server: PostgresServer, share: float | None
) -> None:
    """A platform team's service: one catalog split by team across 8 stacks on one PostgreSQL
    backend, each an Automation API inline program, all `up` at once on threads of one process,
    against one account whose rate limit answers 429 with Retry-After; the stacks without a
    client limit, or each with `webhooks:maxRequestsPerSecond` at its share of the account's.
    Every stack converges and the API holds exactly the catalog."""
    from pulumi import automation as auto

    from pulumi_webhooks import WebhookFleet

    per_team = size(60)
    catalog = many_stacks_catalog(per_team)
    api = start_api("--rate-limit", str(ACCOUNT_RATE), "--latency-ms", "50")
    backend = postgres_server.backend()
    limit = {"webhooks:maxRequestsPerSecond": auto.ConfigValue(str(share))} if share else {}
    env = {k: v for k, v in cli_env(tmp_path, backend).items() if k.startswith("PULUMI_")}
    # A service's PATH, without its virtual environment: the launcher is told which Python to run
    # (docs/pipelines.md).
    env |= {"PATH": os.pathsep.join([str(Path(pulumi_command()).parent), "/usr/bin", "/bin"])}
    env |= {"PULUMI_PYTHON_CMD": sys.executable}
    cli = auto.PulumiCommand(root=str(Path(pulumi_command()).parent.parent))

    def deploy(team: str) -> tuple[str, float]:
        def program() -> None:
            WebhookFleet("fleet", catalog, teams=[team])

        stack = auto.create_or_select_stack(
            stack_name=team,
            project_name="fleets",
            program=program,
            opts=auto.LocalWorkspaceOptions(
                work_dir=str(tmp_path / team),
                pulumi_home=env["PULUMI_HOME"],
                pulumi_command=cli,
                env_vars=env,
                secrets_provider="passphrase",
            ),
        )
        stack.set_all_config(
            {
                "webhooks:apiUrl": auto.ConfigValue(api.url),
                "webhooks:apiToken": auto.ConfigValue(STATIC_TOKEN, secret=True),
                "teamToken": auto.ConfigValue(TOKEN, secret=True),
                **limit,
            }
        )
        started = time.perf_counter()
        result = stack.up(color="never")
        seconds = time.perf_counter() - started
        sources[f"{team}: up output"] = result.stdout + result.stderr
        # Not stack.export_stack(): the Automation API exports with --show-secrets.
        exported = subprocess.run(
            [pulumi_command(), "stack", "export", "--stack", team],
            cwd=tmp_path / team,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        sources[f"{team}: stack export"] = exported.stdout
        sources[f"{team}: stack config file"] = (tmp_path / team / f"Pulumi.{team}.yaml").read_text()
        return result.summary.result, seconds

    sources: dict[str, str] = {}
    for team in TEAMS:
        (tmp_path / team).mkdir()
    # The CLI makes its PostgreSQL table on first use, and eight CLIs making it at once collide
    # ("duplicate key value violates unique constraint"): the service logs in once first
    # (docs/pipelines.md).
    subprocess.run(
        [pulumi_command(), "login", backend.url],
        cwd=tmp_path,
        env={**os.environ, **env},
        capture_output=True,
        check=True,
        timeout=120,
    )
    started = time.perf_counter()
    with ThreadPoolExecutor(len(TEAMS)) as pool:
        outcomes = list(pool.map(deploy, TEAMS))
    seconds = time.perf_counter() - started
    assert [result for result, _ in outcomes] == ["succeeded"] * len(TEAMS), outcomes
    endpoints = Counter(h["endpoint"] for h in api.webhooks())
    wanted = Counter(f"https://{team}.example.com/h/{i}" for team in TEAMS for i in range(per_team))
    assert endpoints == wanted, f"duplicates or missing: {sum((endpoints - wanted).values())} extra"
    throttled = statuses(api).get("429", 0)
    if share is None:
        assert throttled > 0, "the account's rate limit was met"
    else:
        assert throttled <= 3, f"each stack at its share stays under the account's limit: {throttled} 429s"
    sources["API server log"] = api.log()
    assert not leaks(sources, SECRETS), f"secrets in plaintext: {leaks(sources, SECRETS)}"
    report(
        "9 eight stacks at once, Automation API, PostgreSQL backend",
        client_limit_per_stack=share,
        stacks=len(TEAMS),
        hooks=per_team * len(TEAMS),
        **{"429s": throttled},
        seconds=round(seconds, 1),
        slowest_stack_seconds=round(max(s for _, s in outcomes), 1),
        exact=True,
        leaks=0,
    )

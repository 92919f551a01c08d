"""Fleets under the real CLI: 200 hooks from a catalog, adoption, and catalog errors."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.api import PASSWORD, USER
from harness.project import STACK, Project, new_project
from tests.leaks import assert_no_leaks

# A vendor's list lags its writes: every test here meets it (docs/api.md, "Lists: pages and lag").
LIST_LAG = 2.0
pytestmark = pytest.mark.list_lag(LIST_LAG)

FLEET_PROGRAM = """
from pathlib import Path
from pulumi_webhooks import WebhookFleet

fleet = WebhookFleet("fleet", Path(__file__).with_name("catalog.yaml"))
pulumi.export("ids", fleet.webhook_ids)
"""
TEAMS = ("payments", "ops", "growth", "security", "data")
TOKEN = "fleet-T0ken-e2e-5d1c"


def big_catalog(per_team: int, version: dict[str, str] | None = None) -> dict[str, Any]:
    version = version or {}
    return {
        "teams": {
            team: {
                "defaults": {"auth_type": "bearer", "token_secret": "fleetToken"},
                "hooks": [
                    {
                        "name": f"hook-{i:03d}",
                        "endpoint": f"https://{team}.example.com/{version.get(f'{team}/hook-{i:03d}', 'v1')}/{i}",
                    }
                    for i in range(per_team)
                ],
            }
            for team in TEAMS
        }
    }


def write_catalog(project: Project, data: dict[str, Any]) -> None:
    (project.dir / "catalog.yaml").write_text(yaml.safe_dump(data, sort_keys=False))


def timed(step: Any) -> float:
    started = time.perf_counter()
    step()
    return time.perf_counter() - started


def webhook_writes(project: Project) -> dict[str, int]:
    stats = project.api.stats()["requests"]
    return {route: n for route, n in stats.items() if "/webhooks" in route and not route.startswith("GET")}


def test_200_hooks_from_a_catalog_then_10_changed_then_5_removed(project: Project) -> None:
    project.config("fleetToken", TOKEN, secret=True)
    project.program(FLEET_PROGRAM)
    catalog = big_catalog(40)
    write_catalog(project, catalog)

    seconds = {"create 200": timed(project.up)}
    live = project.api.webhooks()
    assert len(live) == 200
    assert {h["endpoint"] for h in live} == {f"https://{t}.example.com/v1/{i}" for t in TEAMS for i in range(40)}
    assert {h["token"] for h in live} == {"********"}

    changed = {f"{team}/hook-{i:03d}": "v2" for team in ("payments", "ops") for i in range(5)}
    write_catalog(project, big_catalog(40, changed))
    project.api.post("/_admin/reset-stats")
    seconds["change 10"] = timed(project.up)
    assert webhook_writes(project) == {"PUT /webhooks/<id>": 10}
    endpoints = {h["endpoint"] for h in project.api.webhooks()}
    assert {f"https://payments.example.com/v2/{i}" for i in range(5)} <= endpoints
    assert len(endpoints) == 200

    trimmed = big_catalog(40, changed)
    trimmed["teams"]["data"]["hooks"] = trimmed["teams"]["data"]["hooks"][5:]
    write_catalog(project, trimmed)
    project.api.post("/_admin/reset-stats")
    seconds["remove 5"] = timed(project.up)
    assert webhook_writes(project) == {"DELETE /webhooks/<id>": 5}
    endpoints = {h["endpoint"] for h in project.api.webhooks()}
    assert len(endpoints) == 195
    assert not {f"https://data.example.com/v1/{i}" for i in range(5)} & endpoints

    # Reordering entries and teams touches nothing: names, not positions, identify hooks.
    reordered = {
        "teams": {team: {**block, "hooks": block["hooks"][::-1]} for team, block in reversed(trimmed["teams"].items())}
    }
    write_catalog(project, reordered)
    seconds["preview 195, reordered"] = timed(lambda: project.preview("--expect-no-changes"))
    print("\nfleet timings (s):", {k: round(v, 1) for k, v in seconds.items()})


def test_existing_hooks_are_adopted_with_no_create_and_no_delete(project: Project) -> None:
    ids = [
        str(project.api.post("/webhooks", body).json()["webhookId"])
        for body in (
            {"endpoint": "https://legacy.example.com/a", "authType": "bearer", "token": "old-a"},
            {"endpoint": "https://legacy.example.com/b", "authType": "basic", "userName": "u", "password": "old-b"},
            {"endpoint": "https://legacy.example.com/c", "authType": "none", "isAlertHook": True},
        )
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBHOOKS_")}
    env.update(WEBHOOKS_API_URL=project.api.url, WEBHOOKS_API_USERNAME=USER, WEBHOOKS_API_PASSWORD=PASSWORD)
    time.sleep(LIST_LAG)  # adopt takes what the list shows, and the list shows new hooks this late
    adopt = subprocess.run(
        [sys.executable, "-m", "pulumi_webhooks", "adopt", "--output", "catalog.yaml"],
        cwd=project.dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert f"hook{ids[0]}Token" in adopt.stderr and f"hook{ids[1]}Password" in adopt.stderr
    project.config(f"hook{ids[0]}Token", "new-a-T0ken", secret=True)
    project.config(f"hook{ids[1]}Password", "new-b-Passw0rd", secret=True)
    project.program(FLEET_PROGRAM)
    project.api.post("/_admin/reset-stats")
    project.up()
    assert webhook_writes(project) == {"PUT /webhooks/<id>": 3}, "adopted: updates only, no create, no delete"
    assert sorted(str(h["webhookId"]) for h in project.api.webhooks()) == sorted(ids)
    stored = project.api.stored_secrets()
    assert stored[ids[0]] == (None, "new-a-T0ken") and stored[ids[1]] == ("new-b-Passw0rd", None)
    project.preview("--expect-no-changes")


PAGER = {"name": "pager", "endpoint": "https://ops.example.com/p", "auth_type": "bearer", "token_secret": "unsetKey"}


def test_catalog_errors_fail_preview_all_at_once_before_any_api_call(project: Project) -> None:
    status = {"name": "status", "endpoint": "nope", "auth_type": "none"}
    audit = {"name": "audit", "endpoint": "https://ops.example.com/a", "auth_type": "basic"}
    write_catalog(project, {"teams": {"ops": {"hooks": [PAGER, status, audit]}}})
    project.program(FLEET_PROGRAM)
    run = project.preview(check=False)
    assert not run.ok
    for fragment in (
        "teams.ops.hooks[1] (status): endpoint: endpoint must be an absolute",
        "teams.ops.hooks[2] (audit): user_name: userName is required",
        "teams.ops.hooks[2] (audit): password_secret: password is required",
    ):
        assert fragment in run.output, run.output
    assert "WebhookFleet 'fleet' cannot be deployed: 3 problem(s)" in run.output
    assert "Traceback" not in run.output and "unhandled exception" not in run.output
    assert project.api.stats()["requests"] == {}

    write_catalog(project, {"teams": {"ops": {"hooks": [PAGER]}}})
    run = project.preview(check=False)
    assert not run.ok
    assert "secret key 'unsetKey' is not set: run `pulumi config set --secret unsetKey ...`" in run.output
    assert "Traceback" not in run.output


SPLIT_PROGRAM = """
from pathlib import Path
from pulumi_webhooks import WebhookFleet

fleet = WebhookFleet("fleet", Path(__file__).with_name("catalog.yaml"), teams=config.require_object("teams"))
pulumi.export("ids", fleet.webhook_ids)
"""


def test_one_catalog_split_across_two_stacks_by_team(project: Project, tmp_path: Path) -> None:
    catalog = big_catalog(3)
    # Only the payments team's hooks need this secret: the other stack never sets it.
    catalog["teams"]["payments"]["defaults"]["token_secret"] = "paymentsToken"
    other = new_project(tmp_path / "second", project.api)
    for stack, teams in ((project, ["payments"]), (other, ["ops", "growth", "security", "data"])):
        write_catalog(stack, catalog)
        stack.program(SPLIT_PROGRAM)
        stack.config("teams", json.dumps(teams))
    project.config("paymentsToken", TOKEN, secret=True)
    other.config("fleetToken", TOKEN, secret=True)

    project.up()
    other.up()
    assert sorted(project.stack_outputs()["ids"]) == [f"payments/hook-{i:03d}" for i in range(3)]
    assert len(other.stack_outputs()["ids"]) == 12
    assert len(project.api.webhooks()) == 15
    project.preview("--expect-no-changes")

    # A typo in a stack's team list fails its preview with one message; nothing is touched.
    other.config("teams", json.dumps(["ops", "securty"]))
    project.api.post("/_admin/reset-stats")
    run = other.preview(check=False)
    assert not run.ok
    assert "teams: 'securty' is not a team of" in run.output, run.output
    assert "Traceback" not in run.output
    assert project.api.stats()["requests"] == {}


RELEASE_0_1_FLEET = """
from pathlib import Path
from pulumi_webhooks.model import catalog
from pulumi_webhooks.model.spec import PYTHON_NAMES


class WebhookFleet(pulumi.ComponentResource):
    \"\"\"Release 0.1.0's WebhookFleet, as it deployed a catalog: a component, a Webhook per hook.\"\"\"

    def __init__(self, name, source):
        super().__init__("webhooks:index:WebhookFleet", name, None, None)
        hooks = {}
        for hook in catalog.load(source):
            arguments = {PYTHON_NAMES[field]: value for field, value in hook.fields.items()}
            arguments |= {PYTHON_NAMES[secret]: config.require_secret(key) for secret, key in hook.secrets.items()}
            child = pulumi.ResourceOptions(parent=self)
            hooks[hook.key] = Webhook(f"{name}-{hook.resource_suffix}", opts=child, **arguments)
        self.webhook_ids = pulumi.Output.all(**{key: h.webhook_id for key, h in hooks.items()})
        self.register_outputs({"webhook_ids": self.webhook_ids})


fleet = WebhookFleet("fleet", Path(__file__).with_name("catalog.yaml"))
pulumi.export("ids", fleet.webhook_ids)
"""


def test_a_fleet_of_release_0_1_moves_into_one_resource_with_no_webhook_made_or_deleted(project: Project) -> None:
    """Upgraded over a stack that 0.1.0 deployed (a component and a Webhook per hook), a bare `up`
    would refuse every hook as a look-alike of the old ones; the recovery step moves them into the
    one fleet resource instead, and the `up` after it changes nothing."""
    project.config("fleetToken", TOKEN, secret=True)
    project.config("paymentsToken", "payments-T0ken-e2e", secret=True)
    catalog = big_catalog(3)
    catalog["teams"]["payments"]["defaults"]["token_secret"] = "paymentsToken"
    write_catalog(project, catalog)
    project.program(RELEASE_0_1_FLEET)
    project.up()
    ids = project.stack_outputs()["ids"]
    before = sorted((h["webhookId"], h["endpoint"]) for h in project.api.webhooks())

    project.program(FLEET_PROGRAM)
    # The guard sees what the API's list shows, and this vendor's list shows a hook LIST_LAG after
    # it was made: an `up` sooner than that would not see the old hooks (docs/configuration.md).
    time.sleep(LIST_LAG)
    refused = project.up(check=False)
    assert not refused.ok and "already has exactly these settings" in refused.output
    assert sorted((h["webhookId"], h["endpoint"]) for h in project.api.webhooks()) == before, "nothing deleted"
    project.pulumi("cancel", "--yes", "--stack", "e2e", check=False)

    step = project.recovered()
    assert step["fleetsMigrated"] == {"urn:pulumi:e2e::e2e::pulumi-python:dynamic/webhooks:WebhookFleet::fleet": 15}
    project.api.post("/_admin/reset-stats")
    project.preview("--expect-no-changes")
    project.up("--expect-no-changes")
    assert webhook_writes(project) == {}, "no webhook made, changed or deleted"
    assert project.stack_outputs()["ids"] == ids
    assert sorted((h["webhookId"], h["endpoint"]) for h in project.api.webhooks()) == before
    types = sorted(r["type"] for r in project.export()["deployment"]["resources"])
    assert types == [
        "pulumi-python:dynamic/webhooks:WebhookFleet",
        "pulumi:providers:pulumi-python",
        "pulumi:pulumi:Stack",
    ]
    stored = project.api.stored_secrets()
    assert {token for _, token in stored.values()} == {TOKEN, "payments-T0ken-e2e"}
    assert project.recovered()["changed"] is False, "a second run finds nothing to do"


def small_catalog(project: Project, hooks: list[dict[str, Any]]) -> None:
    project.config("fleetToken", TOKEN, secret=True)
    write_catalog(
        project, {"teams": {"ops": {"defaults": {"auth_type": "bearer", "token_secret": "fleetToken"}, "hooks": hooks}}}
    )
    project.program(FLEET_PROGRAM)


def test_a_hook_that_fails_is_named_once_and_the_others_are_kept(project: Project) -> None:
    hooks = [{"name": f"h{i}", "endpoint": f"https://ops.example.com/{i}"} for i in range(4)]
    hooks[2]["adopt_id"] = "999"
    small_catalog(project, hooks)
    run = project.up(check=False)
    assert not run.ok
    assert "ops/h2: GET /webhooks/999 failed (HTTP 404): there is no webhook 999 to adopt" in run.output, run.output
    assert run.output.count("there is no webhook 999 to adopt") == 1, "one message for the hook, not one per step"
    assert "Traceback" not in run.output
    assert sorted(h["endpoint"] for h in project.api.webhooks()) == [f"https://ops.example.com/{i}" for i in (0, 1, 3)]
    assert sorted(project.hooks_in_state()) == ["fleet[ops/h0]", "fleet[ops/h1]", "fleet[ops/h3]"], "made: in state"

    del hooks[2]["adopt_id"]
    small_catalog(project, hooks)
    project.api.post("/_admin/reset-stats")
    project.up()
    assert webhook_writes(project) == {"POST /webhooks": 1}, "the next up does only the rest"
    project.preview("--expect-no-changes")


def test_refresh_sees_drift_and_out_of_band_deletes_and_up_restores_them(project: Project) -> None:
    small_catalog(project, [{"name": f"h{i}", "endpoint": f"https://ops.example.com/{i}"} for i in range(3)])
    project.up()
    ids = project.stack_outputs()["ids"]
    project.api.put(f"/webhooks/{ids['ops/h0']}", {"endpoint": "https://evil.example.com/x", "authType": "none"})
    project.api.session().delete(f"{project.api.url}/webhooks/{ids['ops/h1']}", timeout=10)
    time.sleep(LIST_LAG)  # a refresh sees drift through the list, which shows it this late
    project.api.post("/_admin/reset-stats")
    project.refresh("--skip-preview")
    assert {k: v for k, v in project.api.stats()["requests"].items() if v and k.startswith("GET")} == {
        "GET /webhooks": 1,
        "GET /webhooks/<id>": 2,
    }, "one listing for the whole fleet, and a read by id of the two hooks it shows otherwise than state"
    held = project.export()["deployment"]["resources"]
    fleet = next(r for r in held if r["type"].endswith("WebhookFleet"))
    assert fleet["outputs"]["hooks"]["ops/h0"]["endpoint"] == "https://evil.example.com/x"
    assert "ops/h1" not in fleet["outputs"]["hooks"]
    diff = project.preview("--diff")
    assert "ops/h0" in diff.output and "https://evil.example.com/x" in diff.output, diff.output
    project.api.post("/_admin/reset-stats")
    project.up()
    assert webhook_writes(project) == {"PUT /webhooks/<id>": 1, "POST /webhooks": 1}
    assert sorted(h["endpoint"] for h in project.api.webhooks()) == [f"https://ops.example.com/{i}" for i in range(3)]


def test_drift_with_the_stack_matches_by_state_ids_and_names_each_other_webhooks_stack(project: Project) -> None:
    """`drift --stack`: a hook moved out of band is one change, not one missing and one extra; a
    webhook of another stack of the backend is named with it; only one of no stack is extra."""
    small_catalog(project, [{"name": f"h{i}", "endpoint": f"https://ops.example.com/{i}"} for i in range(3)])
    project.program(FLEET_PROGRAM.replace('"catalog.yaml"', 'config.get("catalog") or "catalog.yaml"'))
    project.up()
    # A second stack of the backend deploys another catalog to the same account.
    other = {
        "teams": {"data": {"hooks": [{"name": "etl", "endpoint": "https://data.example.com/etl", "auth_type": "none"}]}}
    }
    (project.dir / "other.yaml").write_text(yaml.safe_dump(other))
    project.pulumi("stack", "init", "other")
    for key, value in [("webhooks:apiUrl", project.api.url), ("webhooks:apiUserName", USER), ("catalog", "other.yaml")]:
        project.pulumi("config", "set", key, value, "--stack", "other")
    project.pulumi("config", "set", "--secret", "webhooks:apiPassword", PASSWORD, "--stack", "other")
    project.pulumi("up", "--yes", "--stack", "other")
    ids = project.stack_outputs()["ids"]
    moved = {"endpoint": "https://ops.example.com/moved", "authType": "bearer", "token": "t"}
    project.api.put(f"/webhooks/{ids['ops/h0']}", moved)
    stray = project.api.post("/webhooks", {"endpoint": "https://stray.example.com/x", "authType": "none"}).json()
    time.sleep(LIST_LAG)  # both show in the list by now

    def drift(*args: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
        step = subprocess.run(
            [sys.executable, "-m", "pulumi_webhooks", "drift", "catalog.yaml", "--json", *args],
            cwd=project.dir,
            env=env or project.env,  # with --stack, the account is the stack's: no WEBHOOKS_ variable is set
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert step.returncode in (0, 2), step.stderr
        return step.returncode, json.loads(step.stdout)

    code, report = drift("--stack", STACK)
    assert code == 2
    assert report["missing"] == [] and report["inSync"] == 2
    assert report["changed"] == [
        {
            "key": "ops/h0",
            "webhookId": ids["ops/h0"],
            "changes": [
                {"field": "endpoint", "catalog": "https://ops.example.com/0", "live": "https://ops.example.com/moved"}
            ],
        }
    ]
    assert report["extra"] == [{"webhookId": str(stray["webhookId"]), "endpoint": "https://stray.example.com/x"}]
    assert [(h["endpoint"], h["stack"], h["resource"], h["key"]) for h in report["held"]] == [
        ("https://data.example.com/etl", "other", "fleet", "data/etl")
    ]
    assert sorted(report["stacksRead"]) == sorted([STACK, "other"]) and report["unreadableStacks"] == {}

    # Without the stack, only endpoints can match: the moved hook reads as missing, and both
    # other webhooks as extra (what drift said before --stack).
    env = project.env | {"WEBHOOKS_API_URL": project.api.url, "WEBHOOKS_API_USERNAME": USER}
    code, report = drift(env=env | {"WEBHOOKS_API_PASSWORD": PASSWORD})
    assert code == 2
    assert [h["key"] for h in report["missing"]] == ["ops/h0"] and report["changed"] == []
    assert len(report["extra"]) == 3 and report["held"] == [] and report["stacksRead"] is None


def test_preview_diff_says_which_hooks_change_and_how_and_secrets_stay_encrypted(project: Project) -> None:
    hooks: list[dict[str, Any]] = [{"name": f"h{i}", "endpoint": f"https://ops.example.com/{i}"} for i in range(4)]
    small_catalog(project, hooks)
    project.up()
    hooks[1]["endpoint"] = "https://ops.example.com/changed"
    hooks[2]["is_alert_hook"] = True
    hooks[3] = {"name": "new", "endpoint": "https://ops.example.com/new"}
    small_catalog(project, hooks)
    diff = project.preview("--diff").output
    shown = [re.sub(r" +:", ":", line.strip()) for line in diff.splitlines()]  # keys are aligned with spaces
    assert '~ endpoint: "https://ops.example.com/1" => "https://ops.example.com/changed"' in shown, diff
    assert "~ isAlertHook: false => true" in shown, diff
    assert "+ ops/new: {" in shown and "- ops/h3: {" in shown, diff
    assert not [line for line in shown if "ops/h0" in line or "/0" in line], "an unchanged hook is not shown"
    export = json.dumps(project.export())
    assert TOKEN not in export and "ciphertext" in export, "the hooks' secrets are encrypted in state"
    assert_no_leaks(project, [TOKEN])


def test_a_refresh_that_finds_most_of_the_fleet_gone_stops_and_drops_nothing(project: Project) -> None:
    small_catalog(project, [{"name": f"h{i}", "endpoint": f"https://ops.example.com/{i}"} for i in range(8)])
    project.up()
    ids = project.stack_outputs()["ids"]
    for i in range(5):
        project.api.session().delete(f"{project.api.url}/webhooks/{ids[f'ops/h{i}']}", timeout=10)
    time.sleep(LIST_LAG)
    refused = project.refresh("--skip-preview", check=False)
    assert not refused.ok
    assert "5 of the 8 hooks of the fleet are not found in the API at" in refused.output, refused.output
    assert f"(ops/h0 ({ids['ops/h0']}), " in refused.output and "Nothing was dropped from state" in refused.output
    assert "WEBHOOKS_ALLOW_MANY_GONE=true" in refused.output and "Traceback" not in refused.output
    assert len(project.hooks_in_state()) == 8

    allowed = {"WEBHOOKS_ALLOW_MANY_GONE": "true"}
    project.pulumi("refresh", "--yes", "--skip-preview", "--stack", "e2e", env=allowed)
    assert sorted(project.hooks_in_state()) == ["fleet[ops/h5]", "fleet[ops/h6]", "fleet[ops/h7]"]
    project.api.post("/_admin/reset-stats")
    project.up()
    assert webhook_writes(project) == {"POST /webhooks": 5}, "the next up makes the five again"


def test_a_hook_s_secrets_version_sends_its_secret_again_and_nothing_else(project: Project) -> None:
    hooks: list[dict[str, Any]] = [{"name": f"h{i}", "endpoint": f"https://ops.example.com/{i}"} for i in range(3)]
    small_catalog(project, hooks)
    project.up()
    ids = project.stack_outputs()["ids"]
    rotated = {"endpoint": "https://ops.example.com/1", "authType": "bearer", "token": "ui-rotated-T0ken-fleet"}
    project.api.put(f"/webhooks/{ids['ops/h1']}", rotated).raise_for_status()
    project.preview("--expect-no-changes")  # the API never shows the token: nothing to see

    hooks[1] = {**hooks[1], "secrets_version": 2}
    small_catalog(project, hooks)
    diff = project.preview("--diff")
    assert 'hooks["ops/h1"].secretsVersion' in diff.output or "secretsVersion" in diff.output, diff.output
    project.api.post("/_admin/reset-stats")
    project.up()
    assert webhook_writes(project) == {"PUT /webhooks/<id>": 1}
    assert project.api.stored_secrets()[ids["ops/h1"]] == (None, TOKEN), "the catalog's token again"
    project.preview("--expect-no-changes")

"""YAML programs through the `webhooks` provider plugin, under the real CLI and `pulumi-language-yaml`.

The project finds the plugin as a user's would: a `plugins: providers:` entry naming the directory
where `pip install pulumi-webhooks` put `pulumi-resource-webhooks` (this run's virtualenv).
"""

from __future__ import annotations

import os
import signal
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.api import PASSWORD, STATIC_TOKEN, USER, Api
from harness.interrupt import record, start_up, wait_for_hooks
from harness.project import REPO, STACK, Project, cli_env, run
from pulumi_webhooks import __version__
from pulumi_webhooks.plugin import schema
from tests import docs
from tests.leaks import assert_no_leaks
from tests.support import ApiFactory

PLUGIN_DIR = Path(sys.executable).parent
TOKEN = "yaml-T0ken-secret-1"
LEGACY_PASSWORD = "legacy-Passw0rd-yaml"
LIST_LAG = 2.0


def yaml_project(root: Path, api: Api, program: str) -> Project:
    """A YAML project in `root`/project with stack `e2e`, configured for `api` as alice."""
    work = root / "project"
    work.mkdir(parents=True)
    project = Project(work, api, cli_env(root))
    write_program(project, program)
    project.pulumi("stack", "init", STACK)
    project.config("webhooks:apiUrl", api.url)
    project.config("webhooks:apiUserName", USER)
    project.config("webhooks:apiPassword", PASSWORD, secret=True)
    return project


def write_program(project: Project, program: str) -> None:
    header = {
        "name": "yaml-e2e",
        "runtime": "yaml",
        "plugins": {"providers": [{"name": "webhooks", "path": str(PLUGIN_DIR)}]},
    }
    (project.dir / "Pulumi.yaml").write_text(yaml.safe_dump(header, sort_keys=False) + textwrap.dedent(program))


def shown(hook: dict[str, Any]) -> tuple[Any, ...]:
    """What the API shows of a webhook that these programs set: endpoint, auth type, alert flag, token (masked)."""
    return (hook["endpoint"], hook["authType"], hook["isAlertHook"], hook["token"])


def webhook_writes(api: Api) -> dict[str, int]:
    stats = api.stats()["requests"]
    return {route: n for route, n in stats.items() if "/webhooks" in route and not route.startswith("GET") and n}


ONE_HOOK = """
config:
  hookToken:
    type: string
    secret: true
resources:
  alerts:
    type: webhooks:index:Webhook
    properties:
      endpoint: ENDPOINT
      authType: bearer
      token: ${hookToken}
      isAlertHook: true
outputs:
  alertsId: ${alerts.webhookId}
"""
WITH_LEGACY = (
    ONE_HOOK.replace("ENDPOINT", "https://ops.example.com/v2")
    .replace("config:\n", "config:\n  legacyPassword:\n    type: string\n    secret: true\n")
    .replace(
        "outputs:",
        """  legacy:
    type: webhooks:index:Webhook
    properties:
      endpoint: https://legacy.example.com/x
      authType: basic
      userName: ops
      password: ${legacyPassword}
outputs:""",
    )
)
"""The program once the imported webhook is copied into it, with its password as a secret."""


def test_a_yaml_program_creates_updates_refreshes_imports_and_destroys(tmp_path: Path, api: Api) -> None:
    project = yaml_project(tmp_path, api, ONE_HOOK.replace("ENDPOINT", "https://ops.example.com/v1"))
    project.config("hookToken", TOKEN, secret=True)
    project.up()
    [live] = api.webhooks()
    assert shown(live) == ("https://ops.example.com/v1", "bearer", True, "********")
    assert project.stack_outputs()["alertsId"] == str(live["webhookId"])
    project.preview("--expect-no-changes")

    write_program(project, ONE_HOOK.replace("ENDPOINT", "https://ops.example.com/v2"))
    diff = project.preview("--diff").output
    assert '~ endpoint: "https://ops.example.com/v1" => "https://ops.example.com/v2"' in diff, diff
    api.post("/_admin/reset-stats")
    project.up()
    assert webhook_writes(api) == {"PUT /webhooks/<id>": 1}

    # Out of band, then a refresh sees it (read by id) and `up` puts the program back.
    api.put(f"/webhooks/{live['webhookId']}", {"endpoint": "https://evil.example.com/x", "authType": "none"})
    project.refresh("--skip-preview")
    assert "https://evil.example.com/x" in project.preview("--diff").output
    project.up()
    assert [(h["endpoint"], h["token"]) for h in api.webhooks()] == [("https://ops.example.com/v2", "********")]

    # A webhook made outside Pulumi: `pulumi import` reads it by id, and the program takes it over.
    legacy = api.post(
        "/webhooks",
        {"endpoint": "https://legacy.example.com/x", "authType": "basic", "userName": "ops", "password": "old-pw"},
    ).json()["webhookId"]
    imported = project.pulumi("import", "webhooks:index:Webhook", "legacy", str(legacy), "--yes", "--protect=false")
    assert "1 imported" in imported.output and "userName: ops" in imported.output, imported.output
    assert "password is required when authType is 'basic'" in imported.output, "the API never returns it"
    project.config("legacyPassword", LEGACY_PASSWORD, secret=True)
    write_program(project, WITH_LEGACY)
    api.post("/_admin/reset-stats")
    project.up()
    assert webhook_writes(api) == {"PUT /webhooks/<id>": 1}, "the imported webhook gets its password, no copy"
    project.preview("--expect-no-changes")
    assert len(api.webhooks()) == 2

    project.destroy()
    assert api.webhooks() == [] and project.hooks_in_state() == {}
    assert_no_leaks(project, [TOKEN, LEGACY_PASSWORD, PASSWORD])


def test_a_broken_rule_stops_the_preview_with_one_message_per_property(tmp_path: Path, api: Api) -> None:
    program = """
    resources:
      broken:
        type: webhooks:index:Webhook
        properties:
          endpoint: ftp://ops.example.com/hook
          authType: bearer
    """
    project = yaml_project(tmp_path, api, program)
    shown = project.preview(check=False).output
    endpoint = "property endpoint value {ftp://ops.example.com/hook} has a problem: endpoint must be an absolute"
    assert f"webhooks:index:Webhook resource 'broken': {endpoint}" in shown, shown
    assert "token is required when authType is 'bearer': set it from a secret (in YAML, `fn::secret`" in shown
    assert "Traceback" not in shown

    # The schema's enum: YAML refuses a near miss itself, pointing at the line, before any provider call.
    write_program(project, program.replace("authType: bearer", "authType: Bearer"))
    shown = project.preview(check=False).output
    assert "on Pulumi.yaml line" in shown and "Cannot assign type 'string' to type 'webhooks:index:AuthType'" in shown
    assert 'Bearer ("bearer")' in shown, shown
    assert api.stats()["requests"].get("POST /webhooks", 0) == 0


def test_two_explicit_providers_deploy_to_two_accounts_in_one_stack(
    tmp_path: Path, start_api: ApiFactory, api: Api
) -> None:
    """docs/languages.md's two accounts, each an API server of its own (alice on both)."""
    [block] = docs.run_by("test_two_explicit_providers_deploy_to_two_accounts_in_one_stack")
    billing = start_api()
    program = (
        block.text.replace("https://ops-api.example.com", api.url)
        .replace("https://billing-api.example.com", billing.url)
        .replace("ops-bot", USER)
        .replace("billing-bot", USER)
    )
    project = yaml_project(tmp_path, api, program)
    project.config("opsApiPassword", PASSWORD, secret=True)
    project.config("billingApiPassword", PASSWORD, secret=True)
    project.up()
    assert [h["endpoint"] for h in api.webhooks()] == ["https://ops.example.com/pager"]
    assert [h["endpoint"] for h in billing.webhooks()] == ["https://billing.example.com/invoices"]
    time.sleep(LIST_LAG)
    project.refresh("--skip-preview")
    project.preview("--expect-no-changes")
    project.destroy()
    assert api.webhooks() == [] and billing.webhooks() == []
    assert_no_leaks(project, [PASSWORD])


@pytest.mark.timeout(900)
def test_the_yaml_recipe_runs_as_written(tmp_path: Path, dist_dir: Path, api: Api) -> None:
    """docs/languages.md's recipe, run by bash in a shell with nothing of Pulumi's or pip's set (a
    reader's HOME of its own, the CLI on PATH), its placeholders filled in."""
    [block] = docs.run_by("test_the_yaml_recipe_runs_as_written")
    script = (
        block.text.replace("https://api.example.com", api.url)
        .replace("webhooks:apiToken ...", f"webhooks:apiToken {STATIC_TOKEN}")
        .replace("hookToken ...", f"hookToken {TOKEN}")
        .replace("PULUMI_CONFIG_PASSPHRASE=...", "PULUMI_CONFIG_PASSPHRASE=docs-passphrase")
        .replace("PIP_FIND_LINKS=~/wheels", f"PIP_FIND_LINKS={dist_dir}")
    )
    assert "..." not in script.split("#")[0], "every placeholder is filled in"
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home), "PULUMI_HOME": str(home / ".pulumi"), "PATH": cli_env(tmp_path)["PATH"]}
    ran = run("bash", "-euo", "pipefail", "-c", script, cwd=tmp_path, env=env)
    [hook] = api.webhooks()
    assert shown(hook) == ("https://ops.example.com/hook", "bearer", True, "********")
    assert (tmp_path / "hooks-yaml" / ".venv" / "bin" / "pulumi-resource-webhooks").exists()
    assert TOKEN not in ran.output and STATIC_TOKEN not in ran.output


def fleet_program(hooks: dict[str, dict[str, Any]]) -> str:
    """A YAML program of one fleet: each hook bearer with the token of config key fleetToken."""
    fleet = {
        "type": "webhooks:index:WebhookFleet",
        "properties": {
            "hooks": {key: {"authType": "bearer", **fields} for key, fields in hooks.items()},
            "secrets": {key: {"token": "${fleetToken}"} for key in hooks},
        },
    }
    program = {
        "config": {"fleetToken": {"type": "string", "secret": True}},
        "resources": {"fleet": fleet},
        "outputs": {"ids": "${fleet.webhookIds}"},
    }
    return yaml.safe_dump(program, sort_keys=False)


def test_a_yaml_fleet_keeps_the_hooks_made_when_one_fails_and_diffs_each_hook(tmp_path: Path, api: Api) -> None:
    hooks: dict[str, dict[str, Any]] = {f"ops/h{i}": {"endpoint": f"https://ops.example.com/{i}"} for i in range(4)}
    hooks["ops/h2"]["adoptId"] = "999"  # no such webhook: this hook fails, the others are made
    project = yaml_project(tmp_path, api, fleet_program(hooks))
    project.config("fleetToken", TOKEN, secret=True)
    failed = project.up(check=False)
    assert not failed.ok
    assert "* ops/h2: GET /webhooks/999 failed (HTTP 404): there is no webhook 999 to adopt" in failed.output
    assert "Traceback" not in failed.output
    assert sorted(project.hooks_in_state()) == ["fleet[ops/h0]", "fleet[ops/h1]", "fleet[ops/h3]"]

    del hooks["ops/h2"]["adoptId"]
    write_program(project, fleet_program(hooks))
    api.post("/_admin/reset-stats")
    project.up()
    assert webhook_writes(api) == {"POST /webhooks": 1}, "the next up makes only the one that failed"
    assert sorted(project.stack_outputs()["ids"]) == [f"ops/h{i}" for i in range(4)]
    project.preview("--expect-no-changes")

    hooks["ops/h1"]["endpoint"] = "https://ops.example.com/moved"
    write_program(project, fleet_program(hooks))
    diff = project.preview("--diff").output
    assert 'endpoint: "https://ops.example.com/1" => "https://ops.example.com/moved"' in diff, diff
    assert "ops/h0" not in diff, "an unchanged hook is not shown"
    api.post("/_admin/reset-stats")
    project.up()
    assert webhook_writes(api) == {"PUT /webhooks/<id>": 1}
    assert {h["token"] for h in api.webhooks()} == {"********"} and len(api.webhooks()) == 4

    project.destroy()
    assert api.webhooks() == []
    assert_no_leaks(project, [TOKEN, PASSWORD])


def test_the_guides_yaml_fleet_deploys_as_written(tmp_path: Path, api: Api) -> None:
    [block] = docs.run_by("test_the_guides_yaml_fleet_deploys_as_written")
    project = yaml_project(tmp_path, api, block.text)
    project.config("opsToken", TOKEN, secret=True)
    project.up()
    shown = {h["endpoint"]: (h["authType"], h["token"]) for h in api.webhooks()}
    assert shown == {
        "https://ops.example.com/pager": ("bearer", "********"),
        "https://chat.example.com/hooks/ops": ("none", None),
    }
    assert sorted(project.stack_outputs()["opsIds"]) == ["ops/chat", "ops/pager"]
    project.preview("--expect-no-changes")
    project.destroy()
    assert api.webhooks() == []


@pytest.mark.timeout(900)
def test_the_release_archive_installs_the_plugin_for_every_project(tmp_path: Path, dist_dir: Path, api: Api) -> None:
    """docs/languages.md's `pulumi plugin install` of the archive, then a YAML program with no
    `plugins:` entry: the engine finds the plugin in its cache and has our Python host run it."""
    [block] = docs.run_by("test_the_release_archive_installs_the_plugin_for_every_project")
    script = block.text.replace(" dist", f" {tmp_path / 'dist'}").replace("~/wheels", str(dist_dir))
    env = cli_env(tmp_path)
    run("bash", "-euo", "pipefail", "-c", script, cwd=REPO, env=env)
    installed = Path(env["PULUMI_HOME"]) / "plugins" / f"resource-webhooks-v{__version__}"
    assert (installed / "venv" / "bin" / "python").exists(), "the host made the plugin's virtualenv"

    work = tmp_path / "project"
    work.mkdir()
    project = Project(work, api, env)
    hook = {"endpoint": "https://ops.example.com/installed", "authType": "none"}
    alerts = {"type": schema.WEBHOOK, "properties": hook}
    program = {"name": "installed", "runtime": "yaml", "resources": {"alerts": alerts}}
    (work / "Pulumi.yaml").write_text(yaml.safe_dump(program, sort_keys=False))
    project.pulumi("stack", "init", STACK)
    project.config("webhooks:apiUrl", api.url)
    project.config("webhooks:apiUserName", USER)
    project.config("webhooks:apiPassword", PASSWORD, secret=True)
    project.up()
    assert [h["endpoint"] for h in api.webhooks()] == ["https://ops.example.com/installed"]
    project.destroy()
    assert api.webhooks() == []


@pytest.mark.list_lag(LIST_LAG)
def test_a_killed_yaml_up_is_recovered_with_no_orphan_and_no_duplicate(tmp_path: Path, start_api: ApiFactory) -> None:
    """A SIGKILLed `up` of webhooks on the default provider and on an explicit one (another API),
    and of a fleet, then the pipeline's step: what reached an API joins state, the next `up`
    makes the rest, and each API holds every hook once."""
    api, billing = start_api("--latency-ms", "150"), start_api("--latency-ms", "150")
    billing_provider = {
        "type": "pulumi:providers:webhooks",
        "properties": {"apiUrl": billing.url, "apiUserName": USER, "apiPassword": "${billingApiPassword}"},
    }
    hooks = {f"ops/f{i}": {"endpoint": f"https://ops.example.com/fleet/{i}", "authType": "none"} for i in range(12)}
    resources: dict[str, Any] = {"fleet": {"type": schema.FLEET, "properties": {"hooks": hooks}}}
    resources["billing"] = billing_provider
    for i in range(12):
        resources[f"ops-{i}"] = {
            "type": schema.WEBHOOK,
            "properties": {"endpoint": f"https://ops.example.com/{i}", "authType": "none"},
        }
        resources[f"bill-{i}"] = {
            "type": schema.WEBHOOK,
            "properties": {"endpoint": f"https://billing.example.com/{i}", "authType": "none"},
            "options": {"provider": "${billing}"},
        }
    program = {"config": {"billingApiPassword": {"type": "string", "secret": True}}, "resources": resources}
    project = yaml_project(tmp_path, api, yaml.safe_dump(program, sort_keys=False))
    project.config("billingApiPassword", PASSWORD, secret=True)
    project.config("webhooks:maxConcurrentRequests", "3")  # slow enough that the kill meets the fleet

    # As a cancelled CI job does it: the CLI's process group only. The plugins, in groups of their
    # own, are left running; the step waits for them before it reads the accounts.
    output = project.dir / "killed-up.log"
    process = start_up(project, output)
    wait_for_hooks(project, 8, process)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=120)
    record(project, process, output)
    pending = project.export()["deployment"].get("pending_operations") or []
    assert pending, "the kill left interrupted creates: this trial would recover nothing"
    report = project.recovered()
    assert report["imported"] or report["dropped"]
    assert not project.export()["deployment"].get("pending_operations")

    project.up()
    ops_wanted = [f"https://ops.example.com/{i}" for i in range(12)] + [hook["endpoint"] for hook in hooks.values()]
    assert Counter(h["endpoint"] for h in api.webhooks()) == Counter(ops_wanted), "each once"
    billing_wanted = [f"https://billing.example.com/{i}" for i in range(12)]
    assert Counter(h["endpoint"] for h in billing.webhooks()) == Counter(billing_wanted), "each once"
    assert len(project.hooks_in_state()) == 36
    project.preview("--expect-no-changes")
    assert_no_leaks(project, [PASSWORD])

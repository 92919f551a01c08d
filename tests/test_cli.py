"""`python -m pulumi_webhooks` list / adopt / drift, as a subprocess against the real local server."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from pulumi.dynamic.dynamic import serialize_provider

from harness.api import PASSWORD, USER, Api
from pulumi_webhooks import WebhookProvider, __version__
from pulumi_webhooks.model import catalog
from tests.support import ApiFactory

HOOKS: list[dict[str, Any]] = [
    {"endpoint": "https://pay.example.com/settlement", "authType": "bearer", "token": "tok-cli-1"},
    {
        "endpoint": "https://ops.example.com/pager",
        "authType": "basic",
        "userName": "ops",
        "password": "pw-cli-2",
        "isAlertHook": True,
    },
    {"endpoint": "https://status.example.com/deploys", "authType": "none"},
]


def cli(api: Api, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBHOOKS_")}
    env.update(WEBHOOKS_API_URL=api.url, WEBHOOKS_API_USERNAME=USER, WEBHOOKS_API_PASSWORD=PASSWORD)
    return subprocess.run(
        [sys.executable, "-m", "pulumi_webhooks", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60
    )


def seed(api: Api) -> list[str]:
    return [str(api.post("/webhooks", hook).json()["webhookId"]) for hook in HOOKS]


def test_list_shows_the_account_without_secrets(api: Api) -> None:
    seed(api)
    run = cli(api, "list")
    assert run.returncode == 0, run.stderr
    assert "https://ops.example.com/pager" in run.stdout and "3 webhook(s)" in run.stdout
    assert "tok-cli-1" not in run.stdout + run.stderr and "pw-cli-2" not in run.stdout + run.stderr


def test_list_adopt_and_drift_run_without_loading_the_pulumi_sdk(api: Api, tmp_path: Path) -> None:
    """Half a command's start-up time is the SDK: only `recover`, which reads providers in state,
    loads it (the import contracts of pyproject.toml say the same of the code)."""
    seed(api)
    probe = (
        "import sys, runpy; sys.argv = ['pulumi-webhooks', *sys.argv[1:]]\n"
        "try:\n    runpy.run_module('pulumi_webhooks', run_name='__main__')\n"
        "finally:\n    print(sorted(m for m in sys.modules if m.split('.')[0] in ('pulumi', 'dill', 'grpc')), "
        "file=sys.stderr)\n"
    )
    catalog_file = tmp_path / "catalog.yaml"
    hook = {"name": "a", "endpoint": HOOKS[2]["endpoint"], "auth_type": "none"}
    catalog_file.write_text(yaml.safe_dump({"teams": {"ops": {"hooks": [hook]}}}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBHOOKS_")}
    env.update(WEBHOOKS_API_URL=api.url, WEBHOOKS_API_USERNAME=USER, WEBHOOKS_API_PASSWORD=PASSWORD)
    for command in (["list"], ["adopt"], ["drift", str(catalog_file)], ["doctor", "--read-only"]):
        run = subprocess.run(
            [sys.executable, "-c", probe, *command], env=env, capture_output=True, text=True, timeout=60
        )
        assert run.returncode in (0, 2), run.stderr
        assert run.stderr.strip().splitlines()[-1] == "[]", f"{command[0]} loaded {run.stderr.splitlines()[-1]}"


def test_adopt_writes_a_loadable_catalog_with_ids_and_secret_keys(api: Api, tmp_path: Path) -> None:
    ids = seed(api)
    run = cli(api, "adopt", "--team", "legacy", "--output", str(tmp_path / "adopted.yaml"))
    assert run.returncode == 0, run.stderr
    hooks = {h.endpoint: h for h in catalog.load(tmp_path / "adopted.yaml")}
    assert {h.adopt_id for h in hooks.values()} == set(ids)
    assert {h.team for h in hooks.values()} == {"legacy"}
    pager = hooks["https://ops.example.com/pager"]
    assert (pager.fields["authType"], pager.fields["userName"], pager.fields["isAlertHook"]) == ("basic", "ops", True)
    assert pager.secrets == {"password": f"hook{ids[1]}Password"}
    assert f"pulumi config set --secret hook{ids[0]}Token <value>" in run.stderr
    assert "tok-cli-1" not in (tmp_path / "adopted.yaml").read_text()


def test_drift_is_silent_in_sync_and_names_every_difference(api: Api, tmp_path: Path) -> None:
    ids = seed(api)
    assert cli(api, "adopt", "--output", str(tmp_path / "c.yaml")).returncode == 0
    in_sync = cli(api, "drift", str(tmp_path / "c.yaml"))
    assert in_sync.returncode == 0, in_sync.stdout + in_sync.stderr
    assert "3 in sync, 0 changed, 0 missing, 0 extra" in in_sync.stdout

    api.put(f"/webhooks/{ids[1]}", {"endpoint": "https://ops.example.com/pager", "authType": "none"})
    api.session().delete(f"{api.url}/webhooks/{ids[2]}", timeout=10)
    api.post("/webhooks", {"endpoint": "https://rogue.example.com/h", "authType": "none"})
    drifted = cli(api, "drift", str(tmp_path / "c.yaml"))
    assert drifted.returncode == 2
    out = drifted.stdout
    assert f"changed  adopted/ops-example-com-pager (webhook {ids[1]}): authType is 'none' in the API, 'basic'" in out
    assert "userName is None in the API, 'ops' in the catalog" in out
    assert "missing  adopted/status-example-com-deploys" in out
    assert "extra    webhook" in out and "https://rogue.example.com/h" in out
    assert "Secret values cannot be compared" in out

    as_json = cli(api, "drift", "--json", str(tmp_path / "c.yaml"))
    assert as_json.returncode == 2
    report: dict[str, Any] = json.loads(as_json.stdout)
    assert report["drifted"] is True and report["inSync"] == 1 and report["secretValuesCompared"] is False
    assert report["missing"] == [{"key": "adopted/status-example-com-deploys", "endpoint": HOOKS[2]["endpoint"]}]
    assert [e["endpoint"] for e in report["extra"]] == ["https://rogue.example.com/h"]
    [changed] = [c for c in report["changed"] if c["webhookId"] == ids[1]]
    assert {"field": "authType", "catalog": "basic", "live": "none"} in changed["changes"]
    assert report["unclear"] == []


def test_drift_matches_by_endpoint_without_ids(api: Api, tmp_path: Path) -> None:
    seed(api)
    data = {
        "teams": {
            "pay": {
                "hooks": [
                    {
                        "name": "settlement",
                        "endpoint": "https://pay.example.com/settlement",
                        "auth_type": "bearer",
                        "token_secret": "t",
                    },
                ]
            }
        }
    }
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(data))
    run = cli(api, "drift", str(tmp_path / "c.yaml"))
    assert run.returncode == 2
    assert "1 in sync, 0 changed, 0 missing, 2 extra" in run.stdout


def test_a_bad_catalog_or_setting_exits_1_with_the_reason(api: Api, tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text("teams: {ops: {hooks: [{name: x, endpoint: nope, auth_type: none}]}}")
    run = cli(api, "drift", str(tmp_path / "c.yaml"))
    assert run.returncode == 1
    assert "teams.ops.hooks[0] (x): endpoint:" in run.stderr
    env_less = subprocess.run(
        [sys.executable, "-m", "pulumi_webhooks", "list"],
        env={k: v for k, v in os.environ.items() if not k.startswith("WEBHOOKS_")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert env_less.returncode == 1
    assert "WEBHOOKS_API_URL" in env_less.stderr


def test_drift_gives_adopt_id_hooks_their_webhook_first(api: Api, tmp_path: Path) -> None:
    ids = seed(api)
    data = {
        "teams": {
            "pay": {
                "hooks": [
                    {
                        "name": "by-endpoint",
                        "endpoint": "https://pay.example.com/settlement",
                        "auth_type": "bearer",
                        "token_secret": "t",
                    },
                    {
                        "name": "by-id",
                        "endpoint": "https://pay.example.com/settlement",
                        "auth_type": "bearer",
                        "token_secret": "t",
                        "adopt_id": ids[0],
                    },
                ]
            }
        }
    }
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(data))
    out = cli(api, "drift", str(tmp_path / "c.yaml")).stdout
    assert "1 in sync, 0 changed, 1 missing, 2 extra" in out
    assert "missing  pay/by-endpoint" in out


def test_adopt_json_reports_the_catalog_and_the_secret_keys_to_set(api: Api, tmp_path: Path) -> None:
    ids = seed(api)
    run = cli(api, "adopt", "--json", "--output", str(tmp_path / "c.yaml"))
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert sorted(summary.pop("secretKeys")) == sorted([f"hook{ids[0]}Token", f"hook{ids[1]}Password"])
    assert summary == {"catalog": str(tmp_path / "c.yaml"), "team": "adopted", "webhooks": 3}
    assert cli(api, "adopt", "--json").returncode == 64, "--json reports on a file: without --output it is misuse"


def test_wrong_usage_exits_64_so_it_never_reads_as_drift(api: Api) -> None:
    for args in (("drift",), ("nonsense",), ("list", "--frobnicate")):
        run = cli(api, *args)
        assert run.returncode == 64, (args, run.returncode, run.stderr)
        assert "usage: pulumi-webhooks" in run.stderr
    version = cli(api, "--version")
    assert version.returncode == 0 and version.stdout.strip() == f"pulumi-webhooks {__version__}"


@pytest.mark.parametrize("id_field", ["id", "_id", "hookId"])
def test_list_adopt_drift_and_recover_read_the_id_under_any_name(
    start_api: ApiFactory, tmp_path: Path, id_field: str
) -> None:
    """An API whose every body names the id `id` (or `_id`, `hookId`) works as one that says `webhookId`."""
    api = start_api("--id-field", id_field)
    ids = [str(api.post("/webhooks", hook).json()[id_field]) for hook in HOOKS]

    listed = cli(api, "list", "--json")
    assert [h["webhookId"] for h in json.loads(listed.stdout)] == ids, listed.stderr

    assert cli(api, "adopt", "--output", str(tmp_path / "c.yaml")).returncode == 0
    adopted = yaml.safe_load((tmp_path / "c.yaml").read_text())
    assert sorted(hook["adopt_id"] for hook in adopted["teams"]["adopted"]["hooks"]) == sorted(ids)
    in_sync = cli(api, "drift", str(tmp_path / "c.yaml"))
    assert in_sync.returncode == 0 and "3 in sync, 0 changed" in in_sync.stdout, in_sync.stdout + in_sync.stderr

    # An interrupted create of the first hook, which reached the API: recover takes it into state.
    inputs = {"__provider": serialize_provider(WebhookProvider()), **HOOKS[0], "isAlertHook": False}
    inputs["token"] = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "v1:x"}
    urn = "urn:pulumi:dev::p::pulumi-python:dynamic/webhooks:Webhook::pay"
    pending = {"type": "creating", "resource": {"urn": urn, "type": urn.split("::")[2], "inputs": inputs}}
    (tmp_path / "state.json").write_text(json.dumps({"deployment": {"resources": [], "pending_operations": [pending]}}))
    recovered = cli(api, "recover", str(tmp_path / "state.json"))
    assert recovered.returncode == 0, recovered.stderr
    [resource] = json.loads(recovered.stdout)["deployment"]["resources"]
    assert resource["id"] == ids[0] and resource["outputs"]["webhookId"] == ids[0]


@pytest.mark.list_lag(30)
def test_drift_reads_by_id_what_a_lagging_list_does_not_show_yet(api: Api, tmp_path: Path) -> None:
    """The list is 30 s behind: the hooks just made are not in it, yet each pinned hook is found by id."""
    ids = seed(api)
    names = {"userName": "user_name", "isAlertHook": "is_alert_hook", "authType": "auth_type"}
    entries = [
        {"name": f"h{i}", "adopt_id": webhook_id}
        | {names.get(k, k): v for k, v in hook.items() if k not in ("password", "token")}
        | {f"{secret}_secret": "key" for secret in ("password", "token") if secret in hook}
        for i, (hook, webhook_id) in enumerate(zip(HOOKS, ids, strict=True))
    ]
    (tmp_path / "c.yaml").write_text(yaml.safe_dump({"teams": {"ops": {"hooks": entries}}}))
    assert cli(api, "list").stdout.splitlines()[-1].startswith("0 webhook(s)"), "the list does not show them yet"
    drift = cli(api, "drift", str(tmp_path / "c.yaml"))
    assert "3 in sync, 0 changed, 0 missing, 0 extra" in drift.stdout, drift.stdout + drift.stderr


def test_a_reader_that_stops_early_ends_the_list_quietly(api: Api) -> None:
    """`pulumi-webhooks list --json | head -2`: more than a pipe holds, and the reader gone after two lines."""
    with sqlite3.connect(api.process.db_path) as db:
        rows = [(USER, f"https://many.example.com/{i}") for i in range(600)]
        db.executemany(
            "INSERT INTO webhooks (account, is_alert_hook, endpoint, auth_type) VALUES (?, 0, ?, 'none')", rows
        )
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBHOOKS_")}
    env.update(WEBHOOKS_API_URL=api.url, WEBHOOKS_API_USERNAME=USER, WEBHOOKS_API_PASSWORD=PASSWORD)
    listing = subprocess.Popen(
        [sys.executable, "-m", "pulumi_webhooks", "list", "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert listing.stdout is not None and listing.stderr is not None
    listing.stdout.readline()
    listing.stdout.close()
    assert listing.wait(timeout=60) == 0
    assert listing.stderr.read() == b"", "no traceback, no message"


def test_help_says_which_account_the_commands_read() -> None:
    for command in ("list", "adopt", "drift"):
        shown = subprocess.run(
            [sys.executable, "-m", "pulumi_webhooks", command, "--help"], capture_output=True, text=True, timeout=60
        ).stdout
        assert "WEBHOOKS_API_URL" in shown and "WEBHOOKS_API_TOKEN" in shown, shown
        stacks = "the one its config names" if command == "drift" else "no stack's config is read"
        assert stacks in " ".join(shown.split()), shown

"""The webhook lifecycle under the real Pulumi engine, checked against the API's own data."""

from __future__ import annotations

import base64
import json
import re
import time
from typing import Any

import pytest

from harness.api import OTHER_PASSWORD, OTHER_USER, PASSWORD, STATIC_TOKEN
from harness.project import STACK, Project
from tests.leaks import leaks, project_sources

# A vendor's list lags its writes: every test here meets it (docs/api.md, "Lists: pages and lag").
pytestmark = pytest.mark.list_lag(2)

SECRETS = {
    "basicPassword": "basic-Passw0rd-e2e-8c1d",
    "qsToken": "qs-T0ken-e2e-2b7a",
    "headerToken": "header-T0ken-e2e-91fe",
    "bearerToken": "bearer-T0ken-e2e-44d0",
}
PLAIN_TOKEN = "plain-authheader-T0ken-e2e-6a3c"  # written in the program, not as a secret
ROTATED_TOKEN = "bearer-T0ken-rotated-e2e-0f5e"
ALL_SECRETS = [*SECRETS.values(), PLAIN_TOKEN, ROTATED_TOKEN, PASSWORD, STATIC_TOKEN]

SIX_HOOKS = """
hooks = {
    "none": Webhook("hook-none", endpoint="https://none.example.com/h", auth_type="none"),
    "basic": Webhook("hook-basic", endpoint="https://basic.example.com/h", auth_type="basic",
                     user_name="ops", password=config.require_secret("basicPassword")),
    "querystring": Webhook("hook-querystring", endpoint="https://qs.example.com/h",
                           auth_type=AuthType.QUERYSTRING, token=config.require_secret("qsToken")),
    "authheader": Webhook("hook-authheader", endpoint="https://authheader.example.com/h",
                          auth_type="authheader", token="PLAIN_TOKEN"),
    "header": Webhook("hook-header", endpoint="https://header.example.com/h", auth_type="header",
                      token=config.require_secret("headerToken")),
    "bearer": Webhook("hook-bearer", endpoint="https://bearer.example.com/h", auth_type="bearer",
                      token=config.require_secret("bearerToken"), is_alert_hook=True),
}
pulumi.export("ids", {name: hook.webhook_id for name, hook in hooks.items()})
""".replace("PLAIN_TOKEN", PLAIN_TOKEN)


def deploy_six(project: Project) -> dict[str, dict[str, Any]]:
    for key, value in SECRETS.items():
        project.config(key, value, secret=True)
    project.program(SIX_HOOKS)
    project.up()
    return {hook["endpoint"].split("//")[1].split(".")[0]: hook for hook in project.api.webhooks()}


def writes(stats: dict[str, Any]) -> dict[str, int]:
    """Webhook writes (POST, PUT, DELETE) the server received, by route."""
    return {route: n for route, n in stats["requests"].items() if "/webhooks" in route and not route.startswith("GET")}


BROKEN = {
    'Webhook("bad-none", endpoint="https://x.example.com/h", auth_type="none", token="tok-bad-none-e2e")': {
        "token": "token is not used when authType is 'none'",
    },
    'Webhook("bad-basic", endpoint="https://x.example.com/h", auth_type="basic", user_name="ops")': {
        "password": "password is required when authType is 'basic'",
    },
    'Webhook("bad-bearer", endpoint="https://x.example.com/h", auth_type="bearer", user_name="ops")': {
        "userName": "userName is not used when authType is 'bearer'",
        "token": "token is required when authType is 'bearer'",
    },
    'Webhook("bad-both", endpoint="https://x.example.com/h", auth_type="basic", user_name="ops", '
    'password="pw-bad-e2e", token="tok-bad-e2e")': {
        "token": "token is not used when authType is 'basic'",
    },
    'Webhook("bad-url", endpoint="https://ops:pw-in-url@x.example.com/h", auth_type="Bearer", token="tok-bad-e2e")': {
        "endpoint": "endpoint must not embed credentials",
        "authType": "did you mean 'bearer'?",
    },
    'Webhook("bad-ftp", endpoint="ftp://x.example.com/h", auth_type="basic_auth")': {
        "endpoint": "endpoint must be an absolute http:// or https:// URL",
        "authType": "did you mean 'basic'?",
    },
    'Webhook("bad-injected", endpoint="https://hooks.example.com/in\\nX-Injected: 1", auth_type="bearer", '
    'token="  ")': {
        "endpoint": "endpoint contains a space, line break or other invisible character (character 29)",
        "token": "token is blank",
    },
    'Webhook("bad-port", endpoint="https://hooks.example.com:99999/in", auth_type="basic", user_name="ops:x", '
    'password="pw-bad-e2e\\n")': {
        "endpoint": "endpoint port must be a number from 1 to 65535",
        "userName": "userName must not contain ':'",
        "password": "password contains a line break",
    },
}
VALID = 'Webhook("fine", endpoint="https://fine.example.com/h", auth_type="none")'


def reports_by_webhook(output: str) -> dict[str, list[str]]:
    """The CLI's diagnostics per invalid webhook: `FILE:LINE: Webhook 'NAME' is invalid:` then one line per property."""
    diagnostics = output.split("Diagnostics:", 1)[1]
    reports: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in diagnostics.splitlines():
        if "error: " in line and "' is invalid:" in line:
            current = reports.setdefault(line.split("error: ", 1)[1], [])
        elif current is not None and line.startswith("      "):
            current.append(line.strip())
        else:
            current = None
    return reports


def test_1_every_invalid_webhook_is_reported_in_one_preview_at_its_line_and_nothing_is_created(
    project: Project,
) -> None:
    project.program("\n".join([VALID, *BROKEN]) + "\n")
    source = (project.dir / "__main__.py").read_text().splitlines()
    expected_heads = {
        f"__main__.py:{number}: Webhook '{line.split(chr(34))[1]}' is invalid:"
        for number, line in enumerate(source, start=1)
        if line.startswith('Webhook("bad-')
    }
    for run in (project.preview(check=False), project.up(check=False)):
        assert not run.ok
        reports = reports_by_webhook(run.output)
        assert set(reports) == expected_heads, run.output
        for program, failures in BROKEN.items():
            head = next(h for h in reports if f"'{program.split(chr(34))[1]}'" in h)
            assert len(reports[head]) == len(failures), (head, reports[head])
            for prop, message in failures.items():
                assert any(line.startswith(f"{prop}: ") and message in line for line in reports[head]), (prop, head)
        assert "8 of 9 webhooks are invalid; none was sent to the API, so none was created or changed" in run.output
        assert "Traceback" not in run.output and "unhandled" not in run.output
        for value in ("tok-bad-none-e2e", "tok-bad-e2e", "pw-bad-e2e", "pw-in-url"):
            assert value not in run.output
    assert project.api.stats()["requests"] == {}, "no API call at all, and the valid webhook was not created"
    assert project.webhook_states() == {}


def test_1b_wrong_api_token_reads_as_one_message_per_webhook_and_is_asked_once(project: Project) -> None:
    project.pulumi("config", "rm", "webhooks:apiUserName", "--stack", STACK)
    project.pulumi("config", "rm", "webhooks:apiPassword", "--stack", STACK)
    project.config("webhooks:apiToken", "wrong-T0ken-e2e", secret=True)
    names = [f"hook-{i}" for i in range(12)]
    project.program("".join(f'Webhook("{n}", endpoint="https://{n}.example.com/h", auth_type="none")\n' for n in names))
    run = project.up(check=False)
    assert not run.ok
    diagnostics = run.output.split("Diagnostics:", 1)[1].split("pulumi-python:dynamic/webhooks:Webhook (")[1:]
    blocks = {block.split("):", 1)[0]: block.split("\n  pulumi:", 1)[0] for block in diagnostics}
    # The engine stops starting creates once some have failed: those it started report.
    assert blocks and set(blocks) <= set(names), diagnostics
    for block in blocks.values():
        errors = [line for line in block.splitlines() if "error: " in line]
        assert len(errors) == 1 and "(HTTP 401)" in errors[0], block
        assert "pulumi config set --secret webhooks:apiToken" in errors[0]
    assert "Traceback" not in run.output and 'File "' not in run.output
    assert "wrong-T0ken-e2e" not in run.output
    assert project.api.stats()["status"].get("401", 0) <= 4, "only calls already in flight (one per provider thread)"
    assert project.api.webhooks() == []


def test_2_up_creates_hooks_of_all_six_auth_types(project: Project) -> None:
    live = deploy_six(project)
    assert sorted(live) == ["authheader", "basic", "bearer", "header", "none", "qs"]
    summary = {
        name: (h["authType"], h["isAlertHook"], h["userName"], h["password"], h["token"]) for name, h in live.items()
    }
    assert summary == {
        "none": ("none", False, None, None, None),
        "basic": ("basic", False, "ops", "********", None),
        "qs": ("querystring", False, None, None, "********"),
        "authheader": ("authheader", False, None, None, "********"),
        "header": ("header", False, None, None, "********"),
        "bearer": ("bearer", True, None, None, "********"),
    }
    stored = project.api.stored_secrets()
    assert stored[str(live["basic"]["webhookId"])] == (SECRETS["basicPassword"], None)
    assert stored[str(live["authheader"]["webhookId"])] == (None, PLAIN_TOKEN)
    assert stored[str(live["bearer"]["webhookId"])] == (None, SECRETS["bearerToken"])
    outputs = project.export()["deployment"]["resources"][0]["outputs"]["ids"]
    assert {str(h["webhookId"]) for h in live.values()} == set(outputs.values())


def test_3_a_second_preview_and_up_change_nothing_and_write_nothing(project: Project) -> None:
    deploy_six(project)
    project.api.post("/_admin/reset-stats")
    project.preview("--expect-no-changes")
    run = project.up("--expect-no-changes")
    assert "6 unchanged" in run.output or "7 unchanged" in run.output
    assert project.api.stats()["requests"] == {}, "no API call at all for unchanged hooks"


def test_4_endpoint_auth_type_and_token_changes_update_in_place(project: Project) -> None:
    before = deploy_six(project)
    project.program(
        SIX_HOOKS.replace("https://basic.example.com/h", "https://basic.example.com/v2").replace(
            '"https://header.example.com/h", auth_type="header"', '"https://header.example.com/h", auth_type="bearer"'
        )
    )
    project.config("bearerToken", ROTATED_TOKEN, secret=True)
    run = project.up()
    assert "replace" not in run.output.lower()
    assert "3 updated" in run.output
    after = {h["endpoint"].split("//")[1].split(".")[0]: h for h in project.api.webhooks()}
    assert {k: h["webhookId"] for k, h in after.items()} == {k: h["webhookId"] for k, h in before.items()}
    assert after["basic"]["endpoint"] == "https://basic.example.com/v2"
    assert after["header"]["authType"] == "bearer"
    assert project.api.stored_secrets()[str(after["bearer"]["webhookId"])] == (None, ROTATED_TOKEN)
    project.preview("--expect-no-changes")


def test_5_no_secret_in_state_output_or_logs_and_a_small_secret_free_provider(project: Project) -> None:
    deploy_six(project)
    project.config("bearerToken", ROTATED_TOKEN, secret=True)
    project.up()
    project.refresh()
    sources = project_sources(project)
    assert set(sources) == {"stack export", "CLI and provider output", "API server log", "stack config file"}
    assert leaks(sources, ALL_SECRETS) == {}

    revealed = project.pulumi("stack", "export", "--show-secrets", "--stack", STACK).output
    for hook in json.loads(revealed)["deployment"]["resources"]:
        if hook["type"].endswith("webhooks:Webhook"):
            provider = hook["inputs"]["__provider"]
            provider = provider.get("plaintext", provider) if isinstance(provider, dict) else provider
            raw = base64.b64decode(json.loads(provider) if provider.startswith('"') else provider)
            assert len(provider) < 200
            assert all(secret.encode() not in raw for secret in ALL_SECRETS)
            assert b"pulumi_webhooks.provider\x94" in raw


def test_6_refresh_shows_out_of_band_drift_and_up_restores_it(project: Project) -> None:
    live = deploy_six(project)
    none_id, basic_id = str(live["none"]["webhookId"]), str(live["basic"]["webhookId"])
    project.api.put(f"/webhooks/{none_id}", {"endpoint": "https://edited.example.com/h", "authType": "none"})
    project.api.session().delete(f"{project.api.url}/webhooks/{basic_id}", timeout=10).raise_for_status()

    run = project.refresh()
    assert "hook-none" in run.output and "hook-basic" in run.output
    states = project.webhook_states()
    assert states["hook-none"]["outputs"]["endpoint"] == "https://edited.example.com/h"
    assert "hook-basic" not in states, "a webhook deleted out of band leaves the state"
    preview = project.preview("--diff")
    assert "https://edited.example.com/h" in preview.output

    project.up()
    hooks = {h["endpoint"]: h for h in project.api.webhooks()}
    assert "https://none.example.com/h" in hooks
    assert "https://edited.example.com/h" not in hooks
    recreated = hooks["https://basic.example.com/h"]
    assert str(recreated["webhookId"]) != basic_id
    assert project.api.stored_secrets()[str(recreated["webhookId"])] == (SECRETS["basicPassword"], None)
    assert len(hooks) == 6
    project.preview("--expect-no-changes")


def test_7_a_token_unknown_at_preview_passes_preview_and_is_checked_at_up(project: Project) -> None:
    project.program("""
        source = Webhook("source", endpoint="https://source.example.com/h", auth_type="none")
        Webhook("derived", endpoint="https://derived.example.com/h", auth_type="bearer",
                token=source.webhook_id.apply(lambda i: f"derived-token-{i}"))
    """)
    project.preview()
    project.up()
    hooks = {h["endpoint"]: h for h in project.api.webhooks()}
    source_id = hooks["https://source.example.com/h"]["webhookId"]
    derived_id = str(hooks["https://derived.example.com/h"]["webhookId"])
    assert project.api.stored_secrets()[derived_id] == (None, f"derived-token-{source_id}")

    project.program("""
        source = Webhook("source", endpoint="https://source.example.com/h", auth_type="none")
        Webhook("late", endpoint="https://late.example.com/h", auth_type="none",
                token=Webhook("other", endpoint="https://other.example.com/h", auth_type="none")
                .webhook_id.apply(lambda i: f"late-token-{i}"))
    """)
    project.preview()
    run = project.up(check=False)
    assert not run.ok
    assert "token is not used when authType is 'none'" in run.output
    assert "late-token-" not in run.output
    assert "https://late.example.com/h" not in {h["endpoint"] for h in project.api.webhooks()}


def test_8_bad_api_settings_fail_naming_the_key_and_create_nothing(project: Project) -> None:
    project.program('Webhook("hook", endpoint="https://x.example.com/h", auth_type="none")\n')
    project.config("webhooks:apiPassword", "wrong-Passw0rd-e2e", secret=True)
    run = project.up(check=False)
    assert not run.ok
    assert "webhooks:apiUserName (or WEBHOOKS_API_USERNAME)" in run.output
    assert "webhooks:apiPassword (or WEBHOOKS_API_PASSWORD)" in run.output
    assert "wrong-Passw0rd-e2e" not in run.output
    assert project.api.webhooks() == []

    project.pulumi("config", "rm", "webhooks:apiUrl", "--stack", STACK)
    run = project.preview(check=False)
    assert not run.ok
    assert "webhooks:apiUrl" in run.output and "WEBHOOKS_API_URL" in run.output
    assert project.webhook_states() == {}


def test_9_an_existing_webhook_is_adopted_without_being_recreated(project: Project) -> None:
    created = project.api.post(
        "/webhooks", {"endpoint": "https://adopt.example.com/h", "authType": "bearer", "token": "old-token"}
    ).json()
    webhook_id = str(created["webhookId"])
    project.config("bearerToken", SECRETS["bearerToken"], secret=True)
    program = """
        Webhook("adopted", endpoint="https://adopt.example.com/h", auth_type="bearer",
                token=config.require_secret("bearerToken"), adopt_id=%s)
    """
    project.program(program % f'"{webhook_id}"')
    project.api.post("/_admin/reset-stats")
    project.up()
    assert writes(project.api.stats()) == {"PUT /webhooks/<id>": 1}, "adopted with one update, no create"
    assert [str(h["webhookId"]) for h in project.api.webhooks()] == [webhook_id]
    assert project.api.stored_secrets()[webhook_id] == (None, SECRETS["bearerToken"])

    project.program(program % "None")  # adopt_id can go once adopted
    project.preview("--expect-no-changes")

    project.program(program % '"999999"')
    project.pulumi("state", "delete", project.webhook_states()["adopted"]["urn"], "--yes", "--stack", STACK)
    run = project.up(check=False)
    assert not run.ok and "there is no webhook 999999 to adopt" in run.output
    assert len(project.api.webhooks()) == 1


@pytest.mark.list_lag(8)
def test_10_destroy_leaves_the_api_empty_and_an_up_at_once_makes_them_again(project: Project) -> None:
    deploy_six(project)
    time.sleep(8)  # the list shows the six now
    project.destroy()
    assert project.api.webhooks() == []
    assert project.webhook_states() == {}
    # The list still shows the six deleted ones for a while: no create is refused as their look-alike.
    project.up()
    assert len(project.api.webhooks()) == 6


UI_ROTATED_TOKEN = "ui-rotated-T0ken-e2e-51b9"


def test_11_changing_secrets_version_sends_a_secret_rotated_in_the_vendor_s_ui_again(project: Project) -> None:
    project.config("bearerToken", SECRETS["bearerToken"], secret=True)
    project.program(
        'Webhook("hook-bearer", endpoint="https://bearer.example.com/h", auth_type="bearer",\n'
        '        token=config.require_secret("bearerToken"), secrets_version=config.get_int("secretsVersion"))\n'
    )
    project.up()
    [hook] = project.api.webhooks()
    webhook_id = str(hook["webhookId"])
    # Someone sets another token in the vendor's UI. The API never shows secrets: no preview can tell.
    rotated = {"endpoint": "https://bearer.example.com/h", "authType": "bearer", "token": UI_ROTATED_TOKEN}
    project.api.put(f"/webhooks/{webhook_id}", rotated).raise_for_status()
    project.refresh("--skip-preview")
    project.preview("--expect-no-changes")

    project.config("secretsVersion", "2")
    project.api.post("/_admin/reset-stats")
    project.up()
    assert writes(project.api.stats()) == {"PUT /webhooks/<id>": 1}, "one update, no replace"
    assert project.api.stored_secrets()[webhook_id] == (None, SECRETS["bearerToken"]), "the program's token again"
    assert project.webhook_states()["hook-bearer"]["outputs"]["secretsVersion"] == 2
    project.preview("--expect-no-changes")
    assert not leaks(project_sources(project), [*ALL_SECRETS, UI_ROTATED_TOKEN])


def test_12_a_stack_pointed_at_another_account_is_stopped_before_it_copies_every_webhook(project: Project) -> None:
    deploy_six(project)
    project.config("webhooks:apiUserName", OTHER_USER)
    project.config("webhooks:apiPassword", OTHER_PASSWORD, secret=True)
    refused = project.preview(check=False)
    assert not refused.ok
    said = f"not found at {project.api.url} as {OTHER_USER}, but made at {project.api.url} as alice"
    assert said in refused.output, refused.output  # the engine stops at the first webhook that says so
    assert "Nothing was changed" in refused.output and "Traceback" not in refused.output

    # Meant: the steps the message gives, then the webhooks are made in bob's account.
    allowed = {"WEBHOOKS_ALLOW_MANY_GONE": "true"}
    project.pulumi("up", "--yes", "--stack", STACK, env=allowed)
    project.pulumi("refresh", "--yes", "--skip-preview", "--stack", STACK, env=allowed)
    assert project.webhook_states() == {}
    project.up()
    assert len(project.api.webhooks()) == 6, "alice's six are untouched"
    assert len(project.api.stored_secrets()) == 12, "and bob has six of his own"
    project.preview("--expect-no-changes")


def test_13_a_refresh_that_finds_most_webhooks_gone_at_once_stops(project: Project) -> None:
    live = deploy_six(project)
    for name in ("none", "basic", "qs", "header"):
        project.api.session().delete(f"{project.api.url}/webhooks/{live[name]['webhookId']}", timeout=10)
    refused = project.refresh("--skip-preview", check=False)
    assert not refused.ok
    # How many reads the guard has seen when it trips depends on how fast the engine sends them (it
    # waits up to a second for a quorum): more than a few, and more than half of those read.
    counts = re.findall(r"(\d+) of the (\d+) webhooks this refresh read so far are not found", refused.output)
    assert counts and all(int(gone) > 3 and 2 * int(gone) > int(read) for gone, read in counts), refused.output
    assert "WEBHOOKS_ALLOW_MANY_GONE=true" in refused.output and "Traceback" not in refused.output
    assert len(project.webhook_states()) == 6

    project.pulumi("refresh", "--yes", "--skip-preview", "--stack", STACK, env={"WEBHOOKS_ALLOW_MANY_GONE": "true"})
    assert sorted(project.webhook_states()) == ["hook-authheader", "hook-bearer"]

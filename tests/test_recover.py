"""recover.repair on stack exports: which interrupted creates become resources, and when the list allows it."""

from __future__ import annotations

import time
from typing import Any

import pytest
from pulumi.dynamic.dynamic import serialize_provider

from harness.api import STATIC_TOKEN, Api
from pulumi_webhooks import WebhookProvider
from pulumi_webhooks.api.client import WebhooksClient
from pulumi_webhooks.api.settings import ClientSettings
from pulumi_webhooks.cli.holdings import held
from pulumi_webhooks.cli.migrate import migrate
from pulumi_webhooks.cli.orphans import engine_address, spare_cli
from pulumi_webhooks.cli.recovery import settled_repair
from pulumi_webhooks.cli.repair import repair
from pulumi_webhooks.model.live import LiveWebhook

TYPE = "pulumi-python:dynamic/webhooks:Webhook"
DEFAULT = serialize_provider(WebhookProvider())
BILLING = serialize_provider(WebhookProvider("billing"))
SECRET = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "v1:abc"}


def resource(name: str, endpoint: str, provider: str = DEFAULT, **extra: Any) -> dict[str, Any]:
    inputs = {"__provider": provider, "endpoint": endpoint, "authType": "bearer", "isAlertHook": False, "token": SECRET}
    return {"urn": f"urn:pulumi:dev::p::{TYPE}::{name}", "type": TYPE, "custom": True, "inputs": inputs, **extra}


def live(webhook_id: int, endpoint: str, token: bool = True) -> LiveWebhook:
    body = {"endpoint": endpoint, "authType": "bearer", "isAlertHook": False, "token": "********" if token else None}
    return LiveWebhook.of(str(webhook_id), body)


def test_creates_that_reached_the_api_become_resources_and_the_rest_are_dropped() -> None:
    export = {
        "deployment": {
            "resources": [resource("a", "https://x/a", id="1", outputs={})],
            "pending_operations": [
                {"type": "creating", "resource": resource("b", "https://x/b")},
                {"type": "creating", "resource": resource("c", "https://x/c")},
                {"type": "updating", "resource": resource("a", "https://x/a")},
            ],
        }
    }
    # Webhook 1 is owned by "a"; 2 is the orphan of "b"; 3 looks like "b" but has no token.
    repaired, recovery = repair(
        export, [live(1, "https://x/a"), live(3, "https://x/b", token=False), live(2, "https://x/b")]
    )
    assert recovery.imported == {f"urn:pulumi:dev::p::{TYPE}::b": "2"}
    assert recovery.never_created == [f"urn:pulumi:dev::p::{TYPE}::c"]
    resources = repaired["deployment"]["resources"]
    added = resources[-1]
    assert (added["id"], added["outputs"]["webhookId"], added["outputs"]["token"]) == ("2", "2", SECRET)
    assert [op["type"] for op in repaired["deployment"]["pending_operations"]] == ["updating"]
    assert export["deployment"]["pending_operations"][0]["type"] == "creating", "the input is not modified"
    assert "b=2" in recovery.summary()


def test_only_the_given_connection_is_resolved() -> None:
    export = {
        "deployment": {
            "resources": [],
            "pending_operations": [
                {"type": "creating", "resource": resource("default", "https://x/a")},
                {"type": "creating", "resource": resource("billing", "https://x/a", provider=BILLING)},
            ],
        }
    }
    repaired, recovery = repair(export, [live(7, "https://x/a")], connection="billing")
    assert recovery.imported == {f"urn:pulumi:dev::p::{TYPE}::billing": "7"}
    assert [op["resource"]["urn"].rsplit("::", 1)[1] for op in repaired["deployment"]["pending_operations"]] == [
        "default"
    ]


PLUGIN_PROVIDERS = "urn:pulumi:dev::p::pulumi:providers:webhooks::"


def plugin_resource(name: str, endpoint: str, provider: str, kind: str = "Webhook", **extra: Any) -> dict[str, Any]:
    """A `webhooks:index:*` resource of the plugin: its provider is a resource of the stack, named by reference."""
    urn = f"urn:pulumi:dev::p::webhooks:index:{kind}::{name}"
    reference = f"{PLUGIN_PROVIDERS}{provider}::0f1e2d3c"
    if kind == "Webhook":
        inputs: dict[str, Any] = {"endpoint": endpoint, "authType": "none", "isAlertHook": False}
    else:
        inputs = {"hooks": {"ops/a": {"endpoint": endpoint, "authType": "none", "isAlertHook": False}}}
    return {
        "urn": urn,
        "type": f"webhooks:index:{kind}",
        "custom": True,
        "provider": reference,
        "inputs": inputs,
    } | extra


def test_a_plugins_creates_are_resolved_against_their_provider_resources_account() -> None:
    """A plugin resource's account is its provider resource's, not a dynamic connection: ids owned
    under another provider (another API, where ids start at 1 too) do not hide an orphan."""
    plain = {"endpoint": "https://x/a", "authType": "none", "isAlertHook": False}
    export = {
        "deployment": {
            "resources": [plugin_resource("billing-a", "https://x/other", "billing", id="1", outputs={})],
            "pending_operations": [
                {"type": "creating", "resource": plugin_resource("ops-a", "https://x/a", "default")},
                {"type": "creating", "resource": plugin_resource("fleet", "https://x/a", "default", "WebhookFleet")},
                {"type": "creating", "resource": plugin_resource("billing-b", "https://x/a", "billing")},
            ],
        }
    }
    ops = [LiveWebhook.of("1", plain), LiveWebhook.of("2", plain | {"endpoint": "https://x/f"})]
    export["deployment"]["pending_operations"][1]["resource"]["inputs"]["hooks"]["ops/a"]["endpoint"] = "https://x/f"
    repaired, recovery = repair(export, ops, connection=f"{PLUGIN_PROVIDERS}default")
    assert recovery.imported == {
        "urn:pulumi:dev::p::webhooks:index:Webhook::ops-a": "1",
        "urn:pulumi:dev::p::webhooks:index:WebhookFleet::fleet[ops/a]": "2",
    }
    fleet = next(r for r in repaired["deployment"]["resources"] if r["urn"].endswith("::fleet"))
    assert fleet["outputs"]["webhookIds"] == {"ops/a": "2"} and "__provider" not in fleet["outputs"]
    left = [op["resource"]["urn"].rsplit("::", 1)[1] for op in repaired["deployment"]["pending_operations"]]
    assert left == ["billing-b"], "another provider's create waits for its own account's list"


def test_the_plugins_fleet_is_never_taken_for_a_fleet_of_release_0_1_0() -> None:
    """Both have the type `webhooks:index:WebhookFleet`; only 0.1.0's is a component."""
    fleet = plugin_resource("fleet", "https://x/a", "default", "WebhookFleet", id="f1", outputs={})
    export = {
        "deployment": {
            "resources": [fleet, plugin_resource("a", "https://x/b", "default", id="1", parent=fleet["urn"])]
        }
    }
    migrated, migration = migrate(export)
    assert migration.fleets == {} and migrated == export


def test_two_look_alikes_are_never_guessed_between_and_a_create_already_in_state_is_only_cleared() -> None:
    export = {
        "deployment": {
            "resources": [resource("a", "https://x/a", id="1", outputs={})],
            "pending_operations": [
                {"type": "creating", "resource": resource("a", "https://x/a")},  # a bare `up` made it since
                {"type": "creating", "resource": resource("b", "https://x/b")},
            ],
        }
    }
    repaired, recovery = repair(export, [live(1, "https://x/a"), live(5, "https://x/b"), live(9, "https://x/b")])
    assert recovery.imported == {} and recovery.never_created == []
    assert recovery.ambiguous == {f"urn:pulumi:dev::p::{TYPE}::b": ["5", "9"]}
    assert recovery.already_in_state == [f"urn:pulumi:dev::p::{TYPE}::a"]
    assert repaired["deployment"]["pending_operations"] == []
    assert len(repaired["deployment"]["resources"]) == 1, "no second resource with a's URN"
    assert "webhooks 5, 9 all look like it, so none was taken" in recovery.summary()


@pytest.mark.list_lag(2)
def test_a_create_the_list_does_not_show_yet_is_waited_for_not_dropped(api: Api) -> None:
    """A killed run's last creates may be younger than the list's lag: the step waits for the list to settle."""
    export = {"deployment": {"resources": [], "pending_operations": [
        {"type": "creating", "resource": resource("b", "https://x/b")},
        {"type": "creating", "resource": resource("c", "https://x/c")},
    ]}}  # fmt: skip
    made = api.post("/webhooks", {"endpoint": "https://x/b", "authType": "bearer", "token": "t0ken-b"}).json()
    client = WebhooksClient(ClientSettings(api_url=api.url, api_token=STATIC_TOKEN, list_settle_seconds=3))
    started = time.monotonic()
    _, recovery = settled_repair(client, export, None)
    assert recovery.imported == {f"urn:pulumi:dev::p::{TYPE}::b": str(made["webhookId"])}
    assert recovery.never_created == [f"urn:pulumi:dev::p::{TYPE}::c"], "c only once a settled list lacks it"
    assert time.monotonic() - started >= 3


def test_drift_counts_as_held_only_what_a_stack_made_in_the_same_account() -> None:
    """An id in a stack's state names a webhook of the account state records: in another one,
    the same number is another webhook, which must not read as held."""
    here = {"apiUrl": "http://127.0.0.1:1", "principal": "alice"}
    export = {
        "deployment": {
            "resources": [
                resource("a", "https://a.example.com", id="1", outputs={"apiAccount": here}),
                resource("b", "https://b.example.com", id="2", outputs={"apiAccount": {**here, "principal": "bob"}}),
                resource("c", "https://c.example.com", id="3", outputs={}),  # from before accounts were recorded
            ]
        }
    }
    assert {i: str(h) for i, h in held("prod", export, here).items()} == {"1": "stack prod, a", "3": "stack prod, c"}


@pytest.mark.parametrize(
    "command",
    [
        ["/venv/bin/python", "-u", "-m", "pulumi.dynamic", "127.0.0.1:41719"],
        ["/venv/bin/python", "/venv/bin/pulumi-resource-webhooks", "127.0.0.1:41719"],
        ["/venv/bin/python", "/venv/bin/pulumi-resource-webhooks", "--logtostderr", "-v=9", "127.0.0.1:41719"],
        [
            "/home/u/.pulumi/plugins/resource-webhooks-v0.2.0/venv/bin/python",
            "/home/u/.pulumi/plugins/resource-webhooks-v0.2.0",
            "127.0.0.1:41719",
        ],
    ],
    ids=["dynamic", "plugin", "plugin-with-flags", "installed-plugin"],
)
def test_the_step_knows_every_provider_process_of_this_package_by_its_engine(command: list[str]) -> None:
    """As /proc shows them (seen under the real CLI): the engine's address follows the plugin's flags."""
    assert engine_address(command) == ("127.0.0.1", 41719)


def test_a_provider_started_ahead_is_known_by_the_pulumi_it_was_started_for() -> None:
    """Its engine's address reaches it on stdin (langhost/spare), so its command line names its CLI."""
    command = ["/venv/bin/python", "-u", "-m", "pulumi_webhooks.spare", "--cli", "4242", "--spare-dir", "/tmp/s/1"]
    assert spare_cli(command) == 4242
    assert engine_address(command) is None


def test_other_processes_are_never_taken_for_a_provider() -> None:
    for command in (
        ["/venv/bin/python", "-m", "webhooks_standin", "--port", "8080"],
        ["pulumi-resource-aws", "127.0.0.1:41719"],
        ["/venv/bin/pulumi-resource-webhooks"],  # no engine named: not started by one
        ["/venv/bin/python", "-m", "pulumi_webhooks", "recover", "--cli", "4242"],
    ):
        assert engine_address(command) is None
        assert spare_cli(command) is None

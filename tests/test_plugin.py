"""The `webhooks` provider plugin as the engine sees it, held to the dynamic provider's answers.

Both processes are started as the engine starts them (`pulumi-resource-webhooks`, and
`python -u -m pulumi.dynamic`), configured for one real local API, and sent the same calls: the
plugin must give the same failures, the same outputs and the same API writes, with its secrets
marked as secrets on the wire.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime.proto import provider_pb2

from harness.api import PASSWORD, USER, Api
from pulumi_webhooks import WebhookProvider
from pulumi_webhooks.api.config import SETTINGS
from pulumi_webhooks.model import spec
from pulumi_webhooks.plugin import schema
from pulumi_webhooks.plugin.servicer import SECRET_HINT
from pulumi_webhooks.provider import FleetProvider
from tests.provider_server import PLUGIN, Engine, plain, start_engine, struct

SIG = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
TOKEN = "plugin-T0ken-secret"
PYTHON_HINT = "from a secret, e.g. config.require_secret(...)"


def secret(value: Any) -> dict[str, Any]:
    """A value as the engine sends a secret to a provider that accepts secrets: the plugin does."""
    return {SIG: SECRET_SIG, "value": value}


def revealed(props: dict[str, Any]) -> dict[str, Any]:
    """Properties as the engine sends them to the dynamic provider, which accepts no secrets."""
    return {k: v["value"] if isinstance(v, dict) and v.get(SIG) == SECRET_SIG else v for k, v in props.items()}


@pytest.fixture
def both(api: Api) -> Iterator[tuple[Engine, Engine]]:
    """(the dynamic provider, the plugin), both configured for `api` as alice."""
    dynamic = start_engine(serialize_provider(WebhookProvider()), "urn:pulumi:dev::p::pulumi-python:dynamic::hook")
    plugin = start_engine(None, f"urn:pulumi:dev::p::{schema.WEBHOOK}::hook", command=PLUGIN)
    try:
        dynamic.configure({"webhooks:apiUrl": api.url, "webhooks:apiUserName": USER, "webhooks:apiPassword": PASSWORD})
        plugin.stub.Configure(
            provider_pb2.ConfigureRequest(
                args=struct({"apiUrl": api.url, "apiUserName": USER, "apiPassword": secret(PASSWORD)}),
                acceptSecrets=True,
            )
        )
        yield dynamic, plugin
    finally:
        for engine in (dynamic, plugin):
            engine.process.kill()
            engine.process.wait(timeout=10)


def test_the_schema_holds_every_field_and_setting_with_its_secrets() -> None:
    published = json.loads(schema.schema_json())
    webhook = published["resources"][schema.WEBHOOK]
    fields = {spec.API_NAMES[name] for name in spec.WebhookSpec.model_fields}
    assert fields | {"adoptId", "secretsVersion"} == set(webhook["inputProperties"])
    assert fields | {"webhookId", "secretsVersion", "apiAccount"} == set(webhook["properties"])
    secrets = {name for name, prop in webhook["inputProperties"].items() if prop.get("secret")}
    assert secrets == {spec.API_NAMES[name] for name in spec.SECRET_FIELDS}
    assert set(published["config"]["variables"]) == set(SETTINGS) == set(published["provider"]["inputProperties"])
    assert {k for k, v in published["config"]["variables"].items() if v.get("secret")} == {"apiToken", "apiPassword"}
    assert [e["value"] for e in published["types"][schema.AUTH_TYPE]["enum"]] == [t.value for t in spec.AuthType]


CHECKED = [
    {"endpoint": "https://u:p@ops.example.com", "authType": "Bearer", "password": secret("pw-1"), "token": TOKEN},
    {"endpoint": "https://ops.example.com/hook", "authType": "basic", "token": secret(TOKEN)},
    {"endpoint": "https://ops.example.com/hook", "authType": "basic", "userName": "ops"},
    {"endpoint": "ftp://ops.example.com", "authType": "none", "isAlertHook": True},
    {"endpoint": "https://ops.example.com/hook", "authType": "bearer", "token": UNKNOWN},
    {"endpoint": "https://ops.example.com/hook", "authType": "bearer", "token": secret(UNKNOWN)},
    {"endpoint": "https://ops.example.com/hook", "authType": "none", "token": "", "colour": "red"},
    {"authType": "header", "token": secret(" padded ")},
    {"endpoint": "https://ops.example.com/hook", "authType": "none", "secretsVersion": "x" * 65},
]


@pytest.mark.parametrize("news", CHECKED, ids=[f"case{i}" for i in range(len(CHECKED))])
def test_check_fails_on_the_same_properties_with_the_same_messages(
    both: tuple[Engine, Engine], news: dict[str, Any], api: Api
) -> None:
    dynamic, plugin = both
    expected, got = dynamic.check(revealed(news)), plugin.check(news)
    assert [(f.property, f.reason.replace(PYTHON_HINT, SECRET_HINT)) for f in expected.failures] == [
        (f.property, f.reason) for f in got.failures
    ]
    if not got.failures:
        assert revealed(plain(got.inputs)) == {k: v for k, v in plain(expected.inputs).items() if k != "__provider"}
    assert api.stats()["requests"] == {}, "a check makes no API call"


def test_a_webhook_lives_the_same_through_either_and_its_secrets_stay_secrets(
    both: tuple[Engine, Engine], api: Api
) -> None:
    dynamic, plugin = both
    inputs = {"endpoint": "https://ops.example.com/hook", "authType": "bearer", "token": secret(TOKEN)}
    # The same webhook, one endpoint apart: the create guard refuses an exact look-alike.
    dynamic_id, dynamic_outs = dynamic.create({**revealed(inputs), "endpoint": "https://ops.example.com/other"})
    plugin_id, plugin_outs = plugin.create(inputs)
    assert plugin_outs["token"] == secret(TOKEN), "the token goes back as a secret, for state to encrypt"
    same = {"webhookId", "endpoint", "__provider"}
    assert {k: v for k, v in revealed(plugin_outs).items() if k not in same} == {
        k: v for k, v in dynamic_outs.items() if k not in same
    }
    assert plugin_outs["webhookId"] == plugin_id != dynamic_id
    live = {str(hook["webhookId"]): hook for hook in api.webhooks()}
    assert {k: v for k, v in live[plugin_id].items() if k not in same} == {
        k: v for k, v in live[dynamic_id].items() if k not in same
    }

    moved = {**inputs, "endpoint": "https://ops.example.com/moved"}
    diff = plugin.diff(plugin_id, plugin_outs, moved)
    assert diff.changes == provider_pb2.DiffResponse.DIFF_SOME and list(diff.replaces) == []
    assert dict(diff.detailedDiff) == {
        "endpoint": provider_pb2.PropertyDiff(kind=provider_pb2.PropertyDiff.UPDATE, inputDiff=True)
    }
    assert plugin.diff(plugin_id, plugin_outs, inputs).changes == provider_pb2.DiffResponse.DIFF_NONE

    read = plugin.read(plugin_id, plugin_outs)
    assert plain(read.properties)["token"] == secret(TOKEN), "a masked read keeps the secret, as a secret"
    imported = plugin.read(plugin_id, {})
    assert plain(imported.inputs) == {"endpoint": inputs["endpoint"], "authType": "bearer", "isAlertHook": False}

    outs = plugin.update(plugin_id, plugin_outs, moved)
    assert outs["endpoint"] == "https://ops.example.com/moved" and outs["token"] == secret(TOKEN)
    plugin.delete(plugin_id, outs)
    assert plugin.read(plugin_id, outs).id == "", "gone: the engine drops it"
    assert [str(hook["webhookId"]) for hook in api.webhooks()] == [dynamic_id]


def test_an_error_is_its_message_alone(api: Api) -> None:
    plugin = start_engine(None, f"urn:pulumi:dev::p::{schema.WEBHOOK}::hook", command=PLUGIN)
    try:
        plugin.stub.Configure(
            provider_pb2.ConfigureRequest(
                args=struct({"apiUrl": api.url, "apiUserName": USER, "apiPassword": secret("wrong-Passw0rd")}),
                acceptSecrets=True,
            )
        )
        with pytest.raises(grpc.RpcError) as failed:
            plugin.create({"endpoint": "https://ops.example.com/hook", "authType": "none"})
        message = failed.value.details()
        assert "apiPassword" in message and "Traceback" not in message, message
        assert "wrong-Passw0rd" not in message
        unset = start_engine(None, f"urn:pulumi:dev::p::{schema.WEBHOOK}::hook", command=PLUGIN)
        try:
            unset.stub.Configure(provider_pb2.ConfigureRequest(args=struct({}), acceptSecrets=True))
            with pytest.raises(grpc.RpcError) as failed:
                unset.check({"endpoint": "https://ops.example.com/hook", "authType": "none"})
            assert failed.value.details().startswith("the webhooks API URL is not set"), failed.value.details()
        finally:
            unset.process.kill()
            unset.process.wait(timeout=10)
    finally:
        plugin.process.kill()
        plugin.process.wait(timeout=10)


def test_a_fleet_checks_the_same_through_either(api: Api) -> None:
    fleet_urn = f"urn:pulumi:dev::p::{schema.FLEET}::fleet"
    dynamic = start_engine(serialize_provider(FleetProvider()), "urn:pulumi:dev::p::pulumi-python:dynamic::fleet")
    plugin = start_engine(None, fleet_urn, command=PLUGIN)
    try:
        dynamic.configure({"webhooks:apiUrl": api.url, "webhooks:apiUserName": USER, "webhooks:apiPassword": PASSWORD})
        plugin.stub.Configure(
            provider_pb2.ConfigureRequest(args=struct({"apiUrl": api.url, "apiToken": secret("t")}), acceptSecrets=True)
        )
        news = {
            "hooks": {
                "ops/a": {"endpoint": "https://ops.example.com/a", "authType": "bearer"},
                "ops/b": {"endpoint": "ftp://ops.example.com/b", "authType": "basic", "userName": "ops"},
                "ops/c": {"endpoint": "https://ops.example.com/c", "authType": "none", "secretsVersion": [1]},
            },
            "secrets": secret({"ops/b": {"password": "pw-b"}}),
        }
        expected, got = dynamic.check(revealed(news)), plugin.check(news)
        assert [(f.property, f.reason.replace(PYTHON_HINT, SECRET_HINT)) for f in expected.failures] == [
            (f.property, f.reason) for f in got.failures
        ]
        assert len(got.failures) == 3, got.failures
    finally:
        for engine in (dynamic, plugin):
            engine.process.kill()
            engine.process.wait(timeout=10)


def test_the_provider_resource_keeps_its_credentials_secret_and_refuses_a_misspelt_setting(api: Api) -> None:
    plugin = start_engine(None, "urn:pulumi:dev::p::pulumi:providers:webhooks::account", command=PLUGIN)
    try:
        news = {"apiUrl": api.url, "apiUserName": USER, "apiPassword": PASSWORD, "version": "0.2.0"}
        checked = plugin.stub.CheckConfig(provider_pb2.CheckRequest(urn=plugin.urn, news=struct(news)))
        assert list(checked.failures) == []
        assert plain(checked.inputs)["apiPassword"] == secret(PASSWORD), "state keeps it encrypted, marked or not"
        misspelt = plugin.stub.CheckConfig(provider_pb2.CheckRequest(urn=plugin.urn, news=struct({"apiURL": api.url})))
        [failure] = misspelt.failures
        assert failure.property == "apiURL"
        assert "apiURL is not a setting of the webhooks provider: use apiUrl, apiToken" in failure.reason
    finally:
        plugin.process.kill()
        plugin.process.wait(timeout=10)


def test_a_fleet_whose_hooks_are_not_known_yet_waits_for_them(api: Api) -> None:
    """A preview of a program whose hooks come from other resources' outputs: nothing to check yet,
    and a plan that changes them, not a failure."""
    plugin = start_engine(None, f"urn:pulumi:dev::p::{schema.FLEET}::fleet", command=PLUGIN)
    try:
        plugin.stub.Configure(
            provider_pb2.ConfigureRequest(args=struct({"apiUrl": api.url, "apiToken": secret("t")}), acceptSecrets=True)
        )
        checked = plugin.check({"hooks": UNKNOWN, "secrets": secret(UNKNOWN)})
        assert list(checked.failures) == []
        olds: dict[str, Any] = {"hooks": {}, "secrets": {}, "webhookIds": {}}
        diff = plugin.diff("fleet-id", olds, {"hooks": UNKNOWN, "secrets": secret(UNKNOWN)})
        assert diff.changes == provider_pb2.DiffResponse.DIFF_SOME
        assert set(diff.detailedDiff) == {"hooks", "secrets"}
    finally:
        plugin.process.kill()
        plugin.process.wait(timeout=10)

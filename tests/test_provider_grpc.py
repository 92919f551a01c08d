"""The provider as the engine sees it: the dynamic-provider gRPC server, driven request by request.

Each test starts `python -u -m pulumi.dynamic` (what the engine launches), sends
Configure with stack config, then Check/Diff/Create/Read/Update/Delete with a
serialized `WebhookProvider`, against a real local API server.
"""

from __future__ import annotations

import base64
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc
import pytest
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime.proto import provider_pb2

from harness.api import OTHER_PASSWORD, OTHER_USER, PASSWORD, STATIC_TOKEN, USER, Api
from pulumi_webhooks import WebhookProvider
from tests.provider_server import Engine, plain, start_engine, start_spare, struct
from tests.support import ApiFactory

URN = "urn:pulumi:dev::proj::pulumi-python:dynamic/webhooks:Webhook::hook"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
HOOK_TOKEN = "hook-T0ken-grpc-secret"
HOOK_PASSWORD = "hook-Passw0rd-grpc-secret"
PROVIDER = serialize_provider(WebhookProvider())


@pytest.fixture
def engine(api: Api, engines: list[Engine]) -> Engine:
    engine = start_engine(PROVIDER, URN)
    engines.append(engine)
    engine.configure({"webhooks:apiUrl": api.url, "webhooks:apiUserName": USER, "webhooks:apiPassword": PASSWORD})
    return engine


BEARER = {"endpoint": "https://ops.example.com/hook", "authType": "bearer", "token": HOOK_TOKEN, "isAlertHook": True}


def state_of(outs: dict[str, Any]) -> dict[str, Any]:
    return {**outs, "__provider": PROVIDER}


class TestCheck:
    def test_one_failure_per_broken_property(self, engine: Engine, api: Api) -> None:
        response = engine.check(
            {
                "endpoint": "https://u:p@ops.example.com",
                "authType": "Bearer",
                "password": HOOK_PASSWORD,
                "token": HOOK_TOKEN,
            }
        )
        failures = {f.property: f.reason for f in response.failures}
        assert set(failures) == {"endpoint", "authType", "token"}
        assert "did you mean 'bearer'" in failures["authType"]
        assert "never both" in failures["token"] or "either user credentials" in failures["token"]
        assert HOOK_PASSWORD not in str(failures) and HOOK_TOKEN not in str(failures)
        assert api.stats()["requests"] == {}, "check makes no API call"

    def test_rule_failures_by_auth_type(self, engine: Engine) -> None:
        response = engine.check({"endpoint": "https://ops.example.com/hook", "authType": "basic", "token": HOOK_TOKEN})
        assert sorted(f.property for f in response.failures) == ["password", "token", "userName"]

    def test_unknown_values_are_deferred(self, engine: Engine) -> None:
        response = engine.check({"endpoint": "https://ops.example.com/hook", "authType": "bearer", "token": UNKNOWN})
        assert list(response.failures) == []
        assert plain(response.inputs)["token"] == UNKNOWN

    def test_valid_inputs_are_normalised(self, engine: Engine) -> None:
        response = engine.check({"endpoint": "https://ops.example.com/hook", "authType": "none", "token": ""})
        assert list(response.failures) == []
        inputs = plain(response.inputs)
        assert "token" not in inputs
        assert inputs["isAlertHook"] is False


def test_full_lifecycle(engine: Engine, api: Api) -> None:
    id_, outs = engine.create(BEARER)
    assert id_ == outs["webhookId"]
    assert outs["token"] == HOOK_TOKEN, "state keeps the real secret (the engine encrypts it)"
    [live] = api.webhooks()
    assert str(live["webhookId"]) == id_
    assert (live["endpoint"], live["authType"], live["isAlertHook"], live["token"]) == (
        BEARER["endpoint"],
        "bearer",
        True,
        "********",
    )
    state = state_of(outs)

    assert engine.diff(id_, state, BEARER).changes == provider_pb2.DiffResponse.DIFF_NONE
    token_only = engine.diff(id_, state, {**BEARER, "token": "rotated-T0ken"})
    assert token_only.changes == provider_pb2.DiffResponse.DIFF_SOME
    assert list(token_only.replaces) == [], "every field updates in place"
    assert engine.diff(id_, state, {**BEARER, "token": UNKNOWN}).changes == provider_pb2.DiffResponse.DIFF_SOME

    read = engine.read(id_, state)
    assert read.id == id_
    assert plain(read.properties)["token"] == HOOK_TOKEN, "a masked read never overwrites the secret"
    assert plain(read.inputs) == {**BEARER, "__provider": PROVIDER}

    basic = {
        "endpoint": "https://ops.example.com/v2",
        "authType": "basic",
        "userName": "ops",
        "password": HOOK_PASSWORD,
        "isAlertHook": False,
    }
    outs = engine.update(id_, state, basic)
    assert outs["password"] == HOOK_PASSWORD
    assert "token" not in outs
    [live] = api.webhooks()
    assert (live["endpoint"], live["authType"], live["userName"], live["password"], live["token"]) == (
        "https://ops.example.com/v2",
        "basic",
        "ops",
        "********",
        None,
    )

    engine.delete(id_, state_of(outs))
    assert api.webhooks() == []
    engine.delete(id_, state_of(outs))  # already gone: still a success
    gone = engine.read(id_, state_of(outs))
    assert gone.id == ""


def test_refresh_shows_out_of_band_drift(engine: Engine, api: Api) -> None:
    id_, outs = engine.create(BEARER)
    edited = {"endpoint": "https://elsewhere.example.com", "authType": "none", "isAlertHook": False}
    api.put(f"/webhooks/{id_}", edited).raise_for_status()  # as a person would, in the vendor's console
    read = engine.read(id_, state_of(outs))
    assert plain(read.inputs) == {**edited, "__provider": PROVIDER}
    assert "token" not in plain(read.properties), "the API says no token is set any more"
    refreshed = state_of(plain(read.properties))
    assert engine.diff(id_, refreshed, BEARER).changes == provider_pb2.DiffResponse.DIFF_SOME


@pytest.mark.parametrize("id_field", ["id", "_id", "hookId"])
def test_create_read_and_delete_under_another_id_name(
    start_api: ApiFactory, engines: list[Engine], id_field: str
) -> None:
    api = start_api("--id-field", id_field)
    engine = start_engine(PROVIDER, URN)
    engines.append(engine)
    engine.configure({"webhooks:apiUrl": api.url, "webhooks:apiUserName": USER, "webhooks:apiPassword": PASSWORD})
    id_, outs = engine.create(BEARER)
    assert [str(h[id_field]) for h in api.webhooks()] == [id_]
    read = engine.read(id_, state_of(outs))
    assert read.id == id_
    account = {"apiUrl": api.url, "principal": USER}
    assert plain(read.properties) == {**BEARER, "webhookId": id_, "__provider": PROVIDER, "apiAccount": account}
    engine.delete(id_, state_of(outs))
    assert api.webhooks() == []


def test_update_of_a_webhook_deleted_out_of_band_says_to_refresh(engine: Engine, api: Api) -> None:
    id_, outs = engine.create(BEARER)
    engine.delete(id_, state_of(outs))
    with pytest.raises(grpc.RpcError) as raised:
        engine.update(id_, state_of(outs), {**BEARER, "endpoint": "https://ops.example.com/new"})
    details = raised.value.details()
    assert details.startswith(f"PUT /webhooks/{id_} failed (HTTP 400)"), "the message alone, no Python frames"
    assert "pulumi refresh" in details and "Traceback" not in details
    assert HOOK_TOKEN not in details and PASSWORD not in details


def test_missing_config_names_the_key_and_the_variable(engines: list[Engine]) -> None:
    engine = start_engine(PROVIDER, URN)
    engines.append(engine)
    engine.configure({})
    with pytest.raises(grpc.RpcError) as raised:
        engine.check(BEARER)
    assert raised.value.details().startswith("the webhooks API URL is not set: run `pulumi config set webhooks:apiUrl")
    assert "WEBHOOKS_API_URL" in raised.value.details()


def test_environment_variables_are_the_fallback(api: Api, engines: list[Engine]) -> None:
    engine = start_engine(PROVIDER, URN, {"WEBHOOKS_API_URL": api.url, "WEBHOOKS_API_TOKEN": STATIC_TOKEN})
    engines.append(engine)
    engine.configure({})
    id_, _ = engine.create(BEARER)
    assert [str(h["webhookId"]) for h in api.webhooks()] == [id_]
    assert api.stats()["requests"].get("POST /authtoken", 0) == 0


def test_wrong_api_credentials_fail_clearly_and_create_nothing(api: Api, engines: list[Engine]) -> None:
    engine = start_engine(PROVIDER, URN)
    engines.append(engine)
    engine.configure(
        {"webhooks:apiUrl": api.url, "webhooks:apiUserName": USER, "webhooks:apiPassword": "wrong-Passw0rd"}
    )
    with pytest.raises(grpc.RpcError) as raised:
        engine.create(BEARER)
    details = raised.value.details()
    assert details.startswith("POST /authtoken failed (HTTP 401)") and "Traceback" not in details
    assert "webhooks:apiUserName" in details and "WEBHOOKS_API_PASSWORD" in details
    assert "wrong-Passw0rd" not in details and HOOK_TOKEN not in details
    assert api.webhooks() == []


def test_named_connections_reach_separate_accounts(start_api: ApiFactory, engines: list[Engine]) -> None:
    api = start_api()
    engine = start_engine(PROVIDER, URN)
    engines.append(engine)
    engine.configure(
        {
            "webhooks:apiUrl": api.url,
            "webhooks:apiToken": STATIC_TOKEN,
            "webhooks:billing.apiUrl": api.url,
            "webhooks:billing.apiUserName": "bob",
            "webhooks:billing.apiPassword": "bob-Passw0rd-s3cret",
        }
    )
    billing = serialize_provider(WebhookProvider("billing"))
    response = engine.stub.Create(
        provider_pb2.CreateRequest(urn=URN, properties=struct({**BEARER, "__provider": billing}))
    )
    assert api.webhooks() == [], "alice's account is untouched"
    assert response.id
    moved = engine.diff(response.id, {**plain(response.properties), "__provider": billing}, BEARER)
    assert list(moved.replaces) == ["__provider"], "switching account makes the webhook anew"


def test_the_serialized_provider_is_tiny_stable_and_secret_free() -> None:
    raw = base64.b64decode(PROVIDER)
    assert len(PROVIDER) < 200
    assert serialize_provider(WebhookProvider()) == PROVIDER
    assert b"pulumi_webhooks.provider\x94" in raw, "pickled by reference to the installed class"
    for secret in (PASSWORD, STATIC_TOKEN, HOOK_TOKEN, "Session", "requests"):
        assert secret.encode() not in raw
    # Stable across processes, too.
    other = subprocess.run(
        [
            sys.executable,
            "-c",
            "from pulumi.dynamic.dynamic import serialize_provider as s;"
            "from pulumi_webhooks import WebhookProvider as P; print(s(P()))",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert other.stdout.strip() == PROVIDER


@pytest.fixture
def engine_address() -> Iterator[str]:
    """A listening socket that plays the engine's address for as long as the test runs."""
    with socket.socket() as engine_socket:
        engine_socket.bind(("127.0.0.1", 0))
        engine_socket.listen()
        yield f"127.0.0.1:{engine_socket.getsockname()[1]}"


@pytest.mark.parametrize("ahead", [False, True], ids=["sdk-launched", "started-ahead"])
def test_per_hook_calls_run_more_than_four_at_once_up_to_the_connection_s_limit(
    start_api: ApiFactory, engines: list[Engine], engine_address: str, tmp_path: Path, ahead: bool
) -> None:
    """The SDK's server runs four provider calls at once; the provider widens it to
    webhooks:maxConcurrentRequests, so that the engine's own parallelism is the limit. A provider
    started ahead (langhost/spare) runs the SDK's server too, and is widened the same."""
    api = start_api("--latency-ms", "300")
    engine = start_spare(PROVIDER, URN, engine_address, tmp_path) if ahead else start_engine(PROVIDER, URN)
    engines.append(engine)
    engine.configure(
        {
            "webhooks:apiUrl": api.url,
            "webhooks:apiToken": STATIC_TOKEN,
            "webhooks:maxConcurrentRequests": "8",
        }
    )
    engine.create({"endpoint": "https://ops.example.com/first", "authType": "none"})  # the guard's one listing
    api.post("/_admin/reset-stats")
    bodies = [{"endpoint": f"https://ops.example.com/{i}", "authType": "none"} for i in range(12)]
    with ThreadPoolExecutor(12) as pool:
        list(pool.map(engine.create, bodies))
    assert 4 < api.stats()["peakInFlight"] <= 8
    assert len(api.webhooks()) == 13


@pytest.mark.parametrize("ahead", [False, True], ids=["sdk-launched", "started-ahead"])
def test_a_provider_whose_engine_is_gone_writes_nothing_more_and_ends(
    api: Api, engines: list[Engine], tmp_path: Path, ahead: bool
) -> None:
    """A killed `pulumi` leaves its provider process running (it has a process group of its own)."""
    with socket.socket() as engine_socket:
        engine_socket.bind(("127.0.0.1", 0))
        engine_socket.listen()
        address = f"127.0.0.1:{engine_socket.getsockname()[1]}"
        engine = (
            start_spare(PROVIDER, URN, address, tmp_path) if ahead else start_engine(PROVIDER, URN, address=address)
        )
        engines.append(engine)
        engine.configure({"webhooks:apiUrl": api.url, "webhooks:apiUserName": USER, "webhooks:apiPassword": PASSWORD})
        engine.create(BEARER)
    # The engine is gone: its address refuses connections.
    time.sleep(0.6)
    with pytest.raises(grpc.RpcError) as raised:
        engine.create({**BEARER, "endpoint": "https://ops.example.com/after"})
    assert raised.value.details().startswith("the `pulumi` that started this provider is gone")  # type: ignore[attr-defined]
    assert len(api.webhooks()) == 1 and api.stats()["requests"]["POST /webhooks"] == 1, "no write after it"
    assert engine.process.wait(timeout=15) == 0, "and the process ends by itself"


def test_a_provider_started_ahead_ends_when_its_engine_is_gone_though_never_called(
    engines: list[Engine], tmp_path: Path
) -> None:
    """A destroy's preview only configures the provider. Its launcher, killed (the engine's last
    resort), cannot pass the engine's signal on to it, and nothing else of the engine's reaches it."""
    with socket.socket() as engine_socket:
        engine_socket.bind(("127.0.0.1", 0))
        engine_socket.listen()
        engine = start_spare(PROVIDER, URN, f"127.0.0.1:{engine_socket.getsockname()[1]}", tmp_path)
        engines.append(engine)
        engine.configure({})
        time.sleep(1.5)
        assert engine.process.poll() is None, "it serves while its engine is there"
    assert engine.process.wait(timeout=15) == 0


def test_a_provider_started_ahead_and_never_taken_ends_with_its_pulumi(tmp_path: Path) -> None:
    """It serves no engine, so nothing can be in flight: it ends at once, and its description with it."""
    cli = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1.5)"])
    spare_dir = tmp_path / "spare"
    spare_dir.mkdir()
    spare = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi_webhooks.spare", "--cli", str(cli.pid), "--spare-dir", str(spare_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        time.sleep(0.5)
        assert spare.poll() is None, "it waits while its pulumi runs"
        cli.wait(timeout=10)
        assert spare.wait(timeout=5) == 0
        assert not spare_dir.exists()
        assert spare.stdout is not None and spare.stdout.read() == b"", "it never served"
    finally:
        spare.kill()
        cli.kill()


def test_a_new_address_of_the_same_account_plans_with_one_read_and_another_account_stops(
    api: Api, engines: list[Engine]
) -> None:
    made = start_engine(PROVIDER, URN)
    engines.append(made)
    made.configure({"webhooks:apiUrl": api.url, "webhooks:apiUserName": USER, "webhooks:apiPassword": PASSWORD})
    hooks = [made.create({**BEARER, "endpoint": f"https://ops.example.com/{i}"}) for i in range(3)]

    alias = start_engine(PROVIDER, URN)  # the same server by another name: the same account
    engines.append(alias)
    alias.configure({"webhooks:apiUrl": api.url.replace("127.0.0.1", "localhost"), "webhooks:apiToken": STATIC_TOKEN})
    api.post("/_admin/reset-stats")
    for webhook_id, outs in hooks:
        planned = alias.diff(webhook_id, state_of(outs), BEARER | {"endpoint": outs["endpoint"]})
        assert planned.changes == provider_pb2.DiffResponse.DIFF_NONE
    assert api.stats()["requests"] == {"GET /webhooks/<id>": 1}, "one read tells that it is one account"

    other = start_engine(PROVIDER, URN)  # bob's account, where none of them is
    engines.append(other)
    other.configure(
        {"webhooks:apiUrl": api.url, "webhooks:apiUserName": OTHER_USER, "webhooks:apiPassword": OTHER_PASSWORD}
    )
    webhook_id, outs = hooks[0]
    with pytest.raises(grpc.RpcError) as raised:
        other.diff(webhook_id, state_of(outs), BEARER | {"endpoint": outs["endpoint"]})
    assert f"as {OTHER_USER}, but made at {api.url} as {USER}" in raised.value.details()  # type: ignore[attr-defined]

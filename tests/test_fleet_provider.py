"""A fleet's provider as the engine sees it: the dynamic-provider server, driven request by request,
against a real local API server. One resource holds many hooks; a partial failure reaches the
engine as ErrorResourceInitFailed, with what was made."""

from __future__ import annotations

import socket
import time
from typing import Any

import grpc
import pytest
from google.rpc import status_pb2
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime.proto import provider_pb2

from harness.api import PASSWORD, USER, Api
from pulumi_webhooks.provider import FleetProvider
from tests.provider_server import Engine, plain, start_engine
from tests.support import ApiFactory

URN = "urn:pulumi:dev::proj::pulumi-python:dynamic/webhooks:WebhookFleet::fleet"
PROVIDER = serialize_provider(FleetProvider())
TOKEN = "fleet-T0ken-grpc-secret"


def fleet(count: int, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """A fleet's inputs: `count` bearer hooks of team ops, plus `extra` hooks by key."""
    version = "v1"
    hooks = {
        f"ops/h{i:02d}": {"endpoint": f"https://ops.example.com/{version}/{i}", "authType": "bearer"}
        for i in range(count)
    }
    hooks |= extra or {}
    secrets = {key: {"token": TOKEN} for key, hook in hooks.items() if hook["authType"] == "bearer"}
    return {"hooks": hooks, "secrets": secrets}


def connect(engines: list[Engine], api: Api, **settings: str) -> Engine:
    engine = start_engine(PROVIDER, URN)
    engines.append(engine)
    engine.configure(
        {"webhooks:apiUrl": api.url, "webhooks:apiUserName": USER, "webhooks:apiPassword": PASSWORD, **settings}
    )
    return engine


def state(outs: dict[str, Any]) -> dict[str, Any]:
    return {**outs, "__provider": PROVIDER}


def init_failure(error: grpc.RpcError) -> provider_pb2.ErrorResourceInitFailed | None:
    """The ErrorResourceInitFailed a failed call carries, if any."""
    for key, value in error.trailing_metadata() or ():  # type: ignore[attr-defined]
        if key == "grpc-status-details-bin":
            status = status_pb2.Status.FromString(value)
            for detail in status.details:
                failed = provider_pb2.ErrorResourceInitFailed()
                if detail.Unpack(failed):
                    return failed
    return None


def test_check_names_every_broken_hook_by_its_key(api: Api, engines: list[Engine]) -> None:
    engine = connect(engines, api)
    broken = fleet(2, {"ops/bad": {"endpoint": "ftp://x", "authType": "basic"}})
    failures = [(f.property, f.reason) for f in engine.check(broken).failures]
    assert (
        "hooks",
        "ops/bad: endpoint: endpoint must be an absolute http:// or https:// URL, for example "
        "https://ops.example.com/hook",
    ) in failures
    assert any(reason.startswith("ops/bad: userName: userName is required") for _, reason in failures)
    assert not [reason for _, reason in failures if reason.startswith("ops/h")], "the valid hooks pass"
    assert not engine.check(fleet(3)).failures


def test_create_makes_every_hook_at_once_within_the_connection_s_limit(
    start_api: ApiFactory, engines: list[Engine]
) -> None:
    api = start_api("--latency-ms", "100")
    engine = connect(engines, api, **{"webhooks:maxConcurrentRequests": "8"})
    fleet_id, outs = engine.create(fleet(40))
    stats = api.stats()
    live = {str(h["webhookId"]): h for h in api.webhooks()}
    assert len(live) == 40 and set(outs["webhookIds"].values()) == set(live)
    assert outs["hooks"]["ops/h07"] == {
        **fleet(40)["hooks"]["ops/h07"],
        "isAlertHook": False,
        "webhookId": outs["webhookIds"]["ops/h07"],
    }
    assert outs["secrets"]["ops/h07"] == {"token": TOKEN}, "kept for state, where the engine encrypts it"
    assert stats["requests"]["POST /webhooks"] == 40 and stats["requests"]["GET /webhooks"] == 1
    assert 4 < stats["peakInFlight"] <= 8, "more at once than the SDK server's four threads, never above the setting"
    assert fleet_id


def test_diff_update_read_and_delete_touch_only_what_changed(api: Api, engines: list[Engine]) -> None:
    engine = connect(engines, api)
    fleet_id, outs = engine.create(fleet(5))
    assert engine.diff(fleet_id, state(outs), fleet(5)).changes == provider_pb2.DiffResponse.DIFF_NONE
    unset = fleet(5)
    unset["secrets"]["ops/h00"]["password"] = ""  # an empty secret is no secret, as in the rules
    assert engine.diff(fleet_id, state(outs), unset).changes == provider_pb2.DiffResponse.DIFF_NONE
    changed = fleet(5)
    changed["hooks"]["ops/h01"]["endpoint"] = "https://ops.example.com/v2/1"
    del changed["hooks"]["ops/h04"], changed["secrets"]["ops/h04"]
    changed["hooks"]["ops/new"] = {"endpoint": "https://ops.example.com/new", "authType": "none", "isAlertHook": True}
    assert engine.diff(fleet_id, state(outs), changed).changes == provider_pb2.DiffResponse.DIFF_SOME
    api.post("/_admin/reset-stats")
    outs = engine.update(fleet_id, state(outs), changed)
    writes = {route: n for route, n in api.stats()["requests"].items() if not route.startswith("GET")}
    assert writes == {"PUT /webhooks/<id>": 1, "DELETE /webhooks/<id>": 1, "POST /webhooks": 1}
    assert sorted(outs["hooks"]) == ["ops/h00", "ops/h01", "ops/h02", "ops/h03", "ops/new"]
    assert "ops/new" not in outs["secrets"]

    # Drift: one hook edited and one deleted out of band. A refresh lists the fleet, and reads by id the two
    # hooks the list shows otherwise than state: a list is a hint, and only a read by id proves a hook gone.
    edited_id, gone_id = outs["webhookIds"]["ops/h02"], outs["webhookIds"]["ops/h03"]
    api.put(
        f"/webhooks/{edited_id}", {"endpoint": "https://ops.example.com/edited", "authType": "bearer", "token": "x"}
    )
    api.session().delete(f"{api.url}/webhooks/{gone_id}", timeout=10)
    api.post("/_admin/reset-stats")
    read = engine.read(fleet_id, state(outs))
    assert {k: v for k, v in api.stats()["requests"].items() if v} == {"GET /webhooks": 1, "GET /webhooks/<id>": 2}
    refreshed = plain(read.properties)
    assert refreshed["hooks"]["ops/h02"]["endpoint"] == "https://ops.example.com/edited"
    assert "ops/h03" not in refreshed["hooks"], "deleted out of band: the next up makes it again"
    assert refreshed["secrets"]["ops/h02"] == {"token": TOKEN}, "a masked read never overwrites the secret"
    assert plain(read.inputs)["hooks"]["ops/h02"] == {
        "endpoint": "https://ops.example.com/edited",
        "authType": "bearer",
        "isAlertHook": False,
    }

    engine.delete(fleet_id, state(refreshed))
    assert api.webhooks() == []


def test_a_failed_hook_is_named_and_the_others_reach_state_as_made(api: Api, engines: list[Engine]) -> None:
    engine = connect(engines, api)
    inputs = fleet(3, {"ops/legacy": {"endpoint": "https://ops.example.com/l", "authType": "none", "adoptId": "999"}})
    with pytest.raises(grpc.RpcError) as raised:
        engine.create(inputs)
    error = raised.value
    assert error.code() == grpc.StatusCode.UNKNOWN  # type: ignore[attr-defined]
    assert "ops/legacy: GET /webhooks/999 failed (HTTP 404): there is no webhook 999 to adopt" in error.details()  # type: ignore[attr-defined]
    assert "Traceback" not in error.details()  # type: ignore[attr-defined]
    failed = init_failure(error)
    assert failed is not None and failed.id, "the engine records the fleet with what was made"
    made = plain(failed.properties)
    assert sorted(made["hooks"]) == ["ops/h00", "ops/h01", "ops/h02"] and made["__provider"] == PROVIDER
    assert list(failed.reasons) == [error.details().splitlines()[1].removeprefix("  - ")]  # type: ignore[attr-defined]
    assert len(api.webhooks()) == 3

    # The next `up` updates the fleet from what was made: only the failed hook is left to do.
    api.post("/webhooks", {"endpoint": "https://ops.example.com/l", "authType": "none"})
    legacy_id = next(str(h["webhookId"]) for h in api.webhooks() if h["endpoint"].endswith("/l"))
    inputs["hooks"]["ops/legacy"]["adoptId"] = legacy_id
    api.post("/_admin/reset-stats")
    outs = engine.update(failed.id, state(made), inputs)
    assert outs["webhookIds"]["ops/legacy"] == legacy_id
    assert {k: v for k, v in api.stats()["requests"].items() if not k.startswith("GET")} == {"PUT /webhooks/<id>": 1}


def test_a_fleet_whose_every_hook_fails_leaves_nothing_to_record(api: Api, engines: list[Engine]) -> None:
    engine = connect(engines, api)
    with pytest.raises(grpc.RpcError) as raised:
        engine.create(
            {
                "hooks": {"ops/a": {"endpoint": "https://x.example.com/a", "authType": "none", "adoptId": "404"}},
                "secrets": {},
            }
        )
    assert init_failure(raised.value) is None, "nothing was made: a plain failure"
    assert "1 hook(s) of the fleet failed" in raised.value.details()  # type: ignore[attr-defined]


@pytest.mark.list_lag(30)
def test_a_refresh_the_list_is_behind_on_reads_by_id_what_it_does_not_show(api: Api, engines: list[Engine]) -> None:
    engine = connect(engines, api)
    fleet_id, outs = engine.create(fleet(5))
    changed = fleet(5)
    changed["hooks"]["ops/h01"]["endpoint"] = "https://ops.example.com/v2/1"
    outs = engine.update(fleet_id, state(outs), changed)
    api.post("/_admin/reset-stats")
    read = engine.read(fleet_id, state(outs))  # the list still shows none of the five: it is 30 s behind
    assert plain(read.properties)["hooks"] == outs["hooks"], "every hook as the API holds it now"
    assert api.stats()["requests"]["GET /webhooks/<id>"] == 5


def test_a_refresh_that_would_drop_most_of_the_fleet_or_hooks_of_another_account_drops_nothing(
    api: Api, engines: list[Engine]
) -> None:
    engine = connect(engines, api)
    fleet_id, outs = engine.create(fleet(6))
    assert outs["apiAccount"] == {"apiUrl": api.url, "principal": USER}
    for key in ("ops/h00", "ops/h01", "ops/h02", "ops/h03"):
        api.session().delete(f"{api.url}/webhooks/{outs['webhookIds'][key]}", timeout=10)
    with pytest.raises(grpc.RpcError) as raised:
        engine.read(fleet_id, state(outs))
    assert raised.value.details().startswith("4 of the 6 hooks of the fleet are not found in the API at ")  # type: ignore[attr-defined]

    elsewhere = dict(outs, apiAccount={"apiUrl": "https://api.example.com", "principal": USER})
    with pytest.raises(grpc.RpcError) as raised:
        engine.read(fleet_id, state(elsewhere))
    assert raised.value.details().startswith(  # type: ignore[attr-defined]
        f"4 hook(s) of the fleet are not found at {api.url} as {USER}, but made at https://api.example.com as "
    )
    allowed = connect(engines, api, **{"webhooks:allowManyGone": "true"})
    read = allowed.read(fleet_id, state(outs))
    assert sorted(plain(read.properties)["hooks"]) == ["ops/h04", "ops/h05"]


@pytest.mark.slow
def test_an_api_down_fails_the_fleet_in_one_retry_budget_with_one_line_per_cause(engines: list[Engine]) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{probe.getsockname()[1]}"
    engine = start_engine(PROVIDER, URN)
    engines.append(engine)
    engine.configure({"webhooks:apiUrl": down, "webhooks:apiToken": "t0ken-of-a-down-api"})
    started = time.monotonic()
    with pytest.raises(grpc.RpcError) as raised:
        engine.create(fleet(40))
    seconds = time.monotonic() - started
    details = raised.value.details()  # type: ignore[attr-defined]
    lines = details.splitlines()
    assert lines[0] == "40 hook(s) of the fleet failed:", details
    assert len(lines) == 2 and lines[1].startswith(
        "  - 40 hooks (ops/h00, ops/h01, ops/h02, ops/h03, ops/h04 and 35 more): "
    )
    assert "could not reach the API at" in lines[1]
    assert seconds < 60, f"one call's retries, then every other call at once: {seconds:.0f} s"

"""Each fault knob, against a server started with it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from .support import (
    STATIC_TOKEN,
    TIMEOUT,
    StartServer,
    assert_json_error,
    basic_hook,
    bearer,
)

AUTH = bearer(STATIC_TOKEN)


def _stats(url: str) -> dict[str, dict[str, int]]:
    response = requests.get(f"{url}/_admin/stats", headers=AUTH, timeout=TIMEOUT)
    assert response.status_code == 200
    stats: dict[str, dict[str, int]] = response.json()
    return stats


def test_rate_limit_answers_429_with_retry_after(start_server: StartServer) -> None:
    url = start_server("--rate-limit", "1").url
    statuses = []
    for _ in range(10):
        response = requests.get(f"{url}/webhooks", headers=AUTH, timeout=TIMEOUT)
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert_json_error(response, 429)
            assert int(response.headers["Retry-After"]) >= 1
    # A burst of 1, refilled at 1/s: of 10 quick requests, only a few can pass
    # (even on a slow machine).
    assert statuses[0] == 200
    assert statuses.count(429) >= 5
    assert set(statuses) <= {200, 429}
    # Refused requests are counted too; the admin route itself is never limited.
    assert _stats(url)["status"]["429"] == statuses.count(429)

    time.sleep(1.1)
    assert requests.get(f"{url}/webhooks", headers=AUTH, timeout=TIMEOUT).status_code == 200


def test_fail_rate_one_answers_only_5xx(start_server: StartServer) -> None:
    url = start_server("--fail-rate", "1.0", "--seed", "3").url
    seen = set()
    for _ in range(12):
        response = requests.post(f"{url}/webhooks", json=basic_hook(), headers=AUTH, timeout=TIMEOUT)
        assert response.status_code in {500, 502, 503, 504}
        assert_json_error(response, response.status_code)
        seen.add(response.status_code)
    login = requests.post(f"{url}/authtoken", json={"userName": "x", "password": "y"}, timeout=TIMEOUT)
    assert login.status_code >= 500
    assert len(seen) > 1
    # Refused before any processing: nothing was created.
    assert not any(key.startswith("20") for key in _stats(url)["status"])
    assert requests.get(f"{url}/healthz", timeout=TIMEOUT).status_code == 200


def test_seed_makes_faults_reproducible(start_server: StartServer, tmp_path: Path) -> None:
    runs = []
    for name in ("a.sqlite", "b.sqlite"):
        server = start_server("--fail-rate", "0.5", "--seed", "42", db=tmp_path / name)
        runs.append(
            [requests.get(f"{server.url}/webhooks", headers=AUTH, timeout=TIMEOUT).status_code for _ in range(16)]
        )
    assert runs[0] == runs[1]
    assert 200 in runs[0] and any(code >= 500 for code in runs[0])


def test_create_without_id(start_server: StartServer) -> None:
    url = start_server("--create-without-id").url
    created = requests.post(f"{url}/webhooks", json=basic_hook(), headers=AUTH, timeout=TIMEOUT)
    assert created.status_code == 201
    assert created.json() == {"message": "Webhook created successfully"}
    listed = requests.get(f"{url}/webhooks", headers=AUTH, timeout=TIMEOUT).json()
    assert [hook["endpoint"] for hook in listed] == [basic_hook()["endpoint"]]


@pytest.mark.parametrize("id_field", ["id", "_id", "hookId"])
def test_id_field(start_server: StartServer, id_field: str) -> None:
    url = start_server("--id-field", id_field).url
    created = requests.post(f"{url}/webhooks", json=basic_hook(), headers=AUTH, timeout=TIMEOUT)
    assert created.status_code == 201
    body = created.json()
    assert set(body) == {"message", id_field}
    assert type(body[id_field]) is int
    read = requests.get(f"{url}/webhooks/{body[id_field]}", headers=AUTH, timeout=TIMEOUT)
    assert read.json()[id_field] == body[id_field] and "webhookId" not in read.json()
    listed = requests.get(f"{url}/webhooks", headers=AUTH, timeout=TIMEOUT).json()
    assert [hook[id_field] for hook in listed] == [body[id_field]] and "webhookId" not in listed[0]


def test_dropped_create_response_still_commits(start_server: StartServer) -> None:
    server = start_server("--drop-create-response-rate", "1.0")
    url = server.url
    with pytest.raises(requests.ConnectionError):
        requests.post(f"{url}/webhooks", json=basic_hook(), headers=AUTH, timeout=TIMEOUT)

    listed = requests.get(f"{url}/webhooks", headers=AUTH, timeout=TIMEOUT).json()
    assert len(listed) == 1 and listed[0]["endpoint"] == basic_hook()["endpoint"]
    # Other routes answer as usual.
    update = requests.put(f"{url}/webhooks/{listed[0]['webhookId']}", json=basic_hook(), headers=AUTH, timeout=TIMEOUT)
    assert update.status_code == 200
    assert _stats(url)["status"].get("dropped") == 1

    assert server.stop() == 0
    log = server.log_text()
    assert "Traceback" not in log
    assert "POST /webhooks dropped" in log


def test_latency_is_applied(start_server: StartServer) -> None:
    url = start_server("--latency-ms", "300").url
    started = time.monotonic()
    response = requests.get(f"{url}/webhooks", headers=AUTH, timeout=TIMEOUT)
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3


def test_without_route_answers_404_after_auth_as_if_the_api_lacked_it(start_server: StartServer) -> None:
    lacking = ("GET /webhooks/<id>", "delete /webhooks/<id>", "POST /authtoken")
    url = start_server(*(arg for route in lacking for arg in ("--without-route", route))).url
    created = requests.post(f"{url}/webhooks", json=basic_hook(), headers=AUTH, timeout=TIMEOUT)
    assert created.status_code == 201
    hook = f"{url}/webhooks/{created.json()['webhookId']}"

    unknown = assert_json_error(requests.get(f"{url}/no-such-route", headers=AUTH, timeout=TIMEOUT), 404)
    for method in ("GET", "DELETE"):
        assert assert_json_error(requests.request(method, hook, headers=AUTH, timeout=TIMEOUT), 404) == unknown
    # Like an unknown route, a lacking one tells nothing to a client without a token.
    assert_json_error(requests.get(hook, timeout=TIMEOUT), 401)
    login = requests.post(f"{url}/authtoken", json={"userName": "alice", "password": "x"}, timeout=TIMEOUT)
    assert assert_json_error(login, 404) == unknown

    # The rule's other methods still work, and the 404s touched nothing.
    assert requests.put(hook, json=basic_hook(isAlertHook=True), headers=AUTH, timeout=TIMEOUT).status_code == 200
    listed = requests.get(f"{url}/webhooks", headers=AUTH, timeout=TIMEOUT).json()
    assert [h["isAlertHook"] for h in listed] == [True]
    assert _stats(url)["requests"]["DELETE /webhooks/<id>"] == 1

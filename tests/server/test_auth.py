"""POST /authtoken and bearer auth on every route."""

from __future__ import annotations

import base64
import json
import time
from datetime import datetime, timedelta

import pytest
import requests

from webhooks_standin.testing import ServerProcess

from .support import (
    ALICE_PASSWORD,
    ALICE_STATIC_TOKEN,
    STATIC_TOKEN,
    TIMEOUT,
    StartServer,
    assert_json_error,
    basic_hook,
    bearer,
    login,
)

# Every route that needs a token, including ones that do not exist.
PROTECTED = [
    ("POST", "/webhooks"),
    ("GET", "/webhooks"),
    ("GET", "/webhooks/1"),
    ("PUT", "/webhooks/1"),
    ("DELETE", "/webhooks/1"),
    ("GET", "/webhooks/not-a-number"),
    ("PUT", "/webhooks/not-a-number"),
    ("GET", "/webhooks/1/extra"),
    ("PATCH", "/webhooks/1"),
    ("GET", "/no-such-route"),
    ("GET", "/_admin/stats"),
    ("POST", "/_admin/reset-stats"),
    ("POST", "/_admin/revoke-tokens"),
]


def _decode_segment(segment: str) -> dict[str, object]:
    decoded: dict[str, object] = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    return decoded


def _parse_utc(text: str) -> datetime:
    assert text.endswith("Z")
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _call(url: str, method: str, path: str, headers: dict[str, str]) -> requests.Response:
    # A body that would fail validation: auth must be checked first.
    return requests.request(method, f"{url}{path}", headers=headers, json={"bogus": 1}, timeout=TIMEOUT)


def test_login_returns_a_bearer_jwt(shared_server: ServerProcess) -> None:
    response = requests.post(
        f"{shared_server.url}/authtoken",
        json={"userName": "alice", "password": ALICE_PASSWORD},
        timeout=TIMEOUT,
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"type", "token", "expiresIn", "issued", "expires"}
    assert body["type"] == "Bearer"
    assert body["expiresIn"] == "3600"
    issued, expires = _parse_utc(body["issued"]), _parse_utc(body["expires"])
    assert expires - issued == timedelta(seconds=3600)

    header, payload, signature = body["token"].split(".")
    assert _decode_segment(header) == {"alg": "HS256", "typ": "JWT"}
    claims = _decode_segment(payload)
    assert claims["sub"] == "alice"
    assert claims["exp"] == int(issued.timestamp()) + 3600
    assert signature


@pytest.mark.parametrize(
    "raw_body",
    [
        b"{not json",
        b"",
        b"[]",
        b'"alice"',
        b"null",
        b"{}",
        b'{"userName": "alice"}',
        b'{"password": "x"}',
        b'{"userName": 1, "password": "x"}',
        b'{"userName": "alice", "password": null}',
        b'{"userName": "", "password": "x"}',
        b'{"userName": ["alice"], "password": {"a": 1}}',
    ],
)
def test_login_malformed_is_400(shared_server: ServerProcess, raw_body: bytes) -> None:
    response = requests.post(
        f"{shared_server.url}/authtoken",
        data=raw_body,
        headers={"Content-Type": "application/json"},
        timeout=TIMEOUT,
    )
    assert "invalid grant" in assert_json_error(response, 400)


def test_login_unknown_user_is_404(shared_server: ServerProcess) -> None:
    response = requests.post(
        f"{shared_server.url}/authtoken",
        json={"userName": "mallory", "password": ALICE_PASSWORD},
        timeout=TIMEOUT,
    )
    assert_json_error(response, 404)
    assert ALICE_PASSWORD not in response.text


def test_login_wrong_password_is_401(shared_server: ServerProcess) -> None:
    response = requests.post(
        f"{shared_server.url}/authtoken",
        json={"userName": "alice", "password": "wrong-Guess-123"},
        timeout=TIMEOUT,
    )
    assert_json_error(response, 401)
    assert "wrong-Guess-123" not in response.text


@pytest.mark.parametrize(("method", "path"), PROTECTED)
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": "Bearer a.b.c"},
        {"Authorization": f"Basic {STATIC_TOKEN}"},
        {"Authorization": STATIC_TOKEN},
    ],
    ids=["none", "empty", "garbage", "fake-jwt", "basic-scheme", "no-scheme"],
)
def test_every_protected_route_needs_a_token(
    shared_server: ServerProcess, method: str, path: str, headers: dict[str, str]
) -> None:
    assert_json_error(_call(shared_server.url, method, path, headers), 401)


def test_tampered_jwt_is_rejected(shared_server: ServerProcess) -> None:
    token = login(shared_server.url, "alice", ALICE_PASSWORD)
    header, payload, signature = token.split(".")
    forged_claims = {"sub": "bob", "exp": int(time.time()) + 3600}
    forged = base64.urlsafe_b64encode(json.dumps(forged_claims).encode()).rstrip(b"=").decode()
    for bad in (f"{header}.{forged}.{signature}", f"{header}.{payload}.{signature[:-2]}xx"):
        response = requests.get(f"{shared_server.url}/webhooks", headers=bearer(bad), timeout=TIMEOUT)
        assert_json_error(response, 401)


def test_valid_token_passes_on_the_same_routes(shared_server: ServerProcess) -> None:
    token = login(shared_server.url, "alice", ALICE_PASSWORD)
    for method, path in PROTECTED:
        if path == "/_admin/revoke-tokens":
            continue  # would revoke this very token
        response = _call(shared_server.url, method, path, bearer(token))
        assert response.status_code != 401, (method, path)
        assert response.status_code < 500


def test_static_tokens(shared_server: ServerProcess) -> None:
    url = shared_server.url
    jwt = login(url, "alice", ALICE_PASSWORD)
    created = requests.post(f"{url}/webhooks", json=basic_hook(), headers=bearer(jwt), timeout=TIMEOUT)
    assert created.status_code == 201
    hook_id = created.json()["webhookId"]

    # alice=TOKEN acts as alice; a plain TOKEN acts as "default".
    as_alice = requests.get(f"{url}/webhooks/{hook_id}", headers=bearer(ALICE_STATIC_TOKEN), timeout=TIMEOUT)
    assert as_alice.status_code == 200
    as_default = requests.get(f"{url}/webhooks/{hook_id}", headers=bearer(STATIC_TOKEN), timeout=TIMEOUT)
    assert_json_error(as_default, 404)


@pytest.mark.slow
def test_expired_token_is_401(start_server: StartServer) -> None:
    server = start_server("--token-ttl", "1")
    login_response = requests.post(
        f"{server.url}/authtoken", json={"userName": "alice", "password": ALICE_PASSWORD}, timeout=TIMEOUT
    )
    assert login_response.json()["expiresIn"] == "1"
    token = login_response.json()["token"]
    # exp has a one-second resolution: after 2.1 s the token is expired for sure.
    time.sleep(2.1)
    response = requests.get(f"{server.url}/webhooks", headers=bearer(token), timeout=TIMEOUT)
    assert_json_error(response, 401)
    fresh = login(server.url, "alice", ALICE_PASSWORD)
    assert requests.get(f"{server.url}/webhooks", headers=bearer(fresh), timeout=TIMEOUT).status_code == 200


def test_revoke_tokens_invalidates_issued_jwts_only(start_server: StartServer) -> None:
    server = start_server()
    url = server.url
    old = login(url, "alice", ALICE_PASSWORD)
    assert requests.get(f"{url}/webhooks", headers=bearer(old), timeout=TIMEOUT).status_code == 200

    revoked = requests.post(f"{url}/_admin/revoke-tokens", headers=bearer(old), timeout=TIMEOUT)
    assert revoked.status_code == 200

    assert_json_error(requests.get(f"{url}/webhooks", headers=bearer(old), timeout=TIMEOUT), 401)
    assert requests.get(f"{url}/webhooks", headers=bearer(STATIC_TOKEN), timeout=TIMEOUT).status_code == 200
    new = login(url, "alice", ALICE_PASSWORD)
    assert requests.get(f"{url}/webhooks", headers=bearer(new), timeout=TIMEOUT).status_code == 200


def test_healthz_needs_no_token(shared_server: ServerProcess) -> None:
    response = requests.get(f"{shared_server.url}/healthz", timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}

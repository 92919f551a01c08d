"""Hypothesis-driven requests against the real server: hostile input never gets a 500,
auth holds on every route, and no secret comes back in any answer or log line."""

from __future__ import annotations

import json
from typing import Any

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webhooks_standin.testing import ServerProcess

from .support import ALICE_PASSWORD, ALICE_STATIC_TOKEN, BOB_PASSWORD, STATIC_TOKEN, TIMEOUT, bearer, login

HOOK_SECRET = "fuzz-Hook-Secret-7d2e"
SECRETS = (ALICE_PASSWORD, BOB_PASSWORD, STATIC_TOKEN, ALICE_STATIC_TOKEN, HOOK_SECRET)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=8,
)
webhook_bodies = st.fixed_dictionaries(
    {},
    optional={
        "endpoint": st.one_of(st.just("https://fuzz.example.test/h"), json_values),
        "authType": st.one_of(st.sampled_from(["none", "basic", "bearer", "header", "Bearer", ""]), json_values),
        "isAlertHook": json_values,
        "userName": json_values,
        "password": st.one_of(st.just(HOOK_SECRET), json_values),
        "token": st.one_of(st.just(HOOK_SECRET), json_values),
        "extra": json_values,
    },
)
paths = st.sampled_from(
    [
        "/webhooks",
        "/webhooks/1",
        "/webhooks/999999",
        "/webhooks/abc",
        "/webhooks/%00",
        "/authtoken",
        "/nope",
        "/webhooks/1/extra",
    ]
)
methods = st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"])
bodies = st.one_of(
    webhook_bodies.map(lambda b: json.dumps(b).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=200),
    st.just(b"{" * 5000),
    st.just(b'{"endpoint": "' + b"x" * 70000 + b'"}'),
)
content_types = st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded", None])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(method=methods, path=paths, body=bodies, content_type=content_types, authed=st.booleans())
def test_no_500_auth_everywhere_and_no_secret_echoed(
    shared_server: ServerProcess, method: str, path: str, body: bytes, content_type: str | None, authed: bool
) -> None:
    headers: dict[str, str] = {}
    if content_type:
        headers["Content-Type"] = content_type
    if authed:
        headers.update(bearer(STATIC_TOKEN))
    response = requests.request(method, shared_server.url + path, data=body, headers=headers, timeout=TIMEOUT)
    assert response.status_code < 500, (method, path, response.status_code, response.text[:200])
    if not authed and path != "/authtoken":
        assert response.status_code == 401, (method, path, response.status_code)
    if response.status_code >= 400:
        message: Any = response.json()["message"]
        assert isinstance(message, str) and message
    for secret in SECRETS:
        assert secret not in response.text


def test_the_log_of_the_fuzzed_server_has_no_secret(shared_server: ServerProcess) -> None:
    token = login(shared_server.url, "alice", ALICE_PASSWORD)
    requests.post(
        f"{shared_server.url}/webhooks?token={HOOK_SECRET}",
        json={"endpoint": "https://fuzz.example.test/h", "authType": "bearer", "token": HOOK_SECRET},
        headers=bearer(token),
        timeout=TIMEOUT,
    )
    log = shared_server.log_text()
    assert log, "the server logged its requests"
    for secret in SECRETS:
        assert secret not in log

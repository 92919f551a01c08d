"""The body rules of create and update, and bodies that must never cause a 500."""

from __future__ import annotations

import itertools

import pytest
import requests

from webhooks_standin.testing import ServerProcess

from .support import ALICE_PASSWORD, TIMEOUT, assert_json_error, basic_hook, bearer, login

AUTH_TYPES = ["none", "basic", "querystring", "authheader", "header", "bearer"]
CREDENTIALS = ("userName", "password", "token")
VALUES = {"userName": "val-User-3c1d", "password": "val-Pass-8e2f", "token": "val-Token-4b6a"}
SECRETS = (VALUES["password"], VALUES["token"])
SUBSETS = [frozenset(combo) for size in range(4) for combo in itertools.combinations(CREDENTIALS, size)]
# How a client may leave a credential out: all three mean "absent".
ABSENT_FORMS = ["missing", "null", "empty"]


def _expected_valid(auth_type: str, present: frozenset[str]) -> bool:
    """docs/api.md's credential rules, spelled out as the exact set each type allows."""
    if auth_type == "none":
        return present == frozenset()
    if auth_type == "basic":
        return present == {"userName", "password"}
    return present == {"token"}


def _body(auth_type: str, present: frozenset[str], absent_form: str) -> dict[str, object]:
    body: dict[str, object] = {"endpoint": "https://v.example.test/hook", "authType": auth_type}
    for name in CREDENTIALS:
        if name in present:
            body[name] = VALUES[name]
        elif absent_form == "null":
            body[name] = None
        elif absent_form == "empty":
            body[name] = ""
    return body


@pytest.fixture(scope="module")
def existing_id(shared_server: ServerProcess) -> int:
    """A webhook of alice's that update checks run against."""
    token = login(shared_server.url, "alice", ALICE_PASSWORD)
    response = requests.post(f"{shared_server.url}/webhooks", json=basic_hook(), headers=bearer(token), timeout=TIMEOUT)
    return int(response.json()["webhookId"])


@pytest.mark.parametrize("present", SUBSETS, ids=lambda s: "+".join(sorted(s)) or "nothing")
@pytest.mark.parametrize("auth_type", AUTH_TYPES)
def test_credential_table(
    shared_server: ServerProcess,
    alice: requests.Session,
    existing_id: int,
    auth_type: str,
    present: frozenset[str],
) -> None:
    url = shared_server.url
    valid = _expected_valid(auth_type, present)
    for absent_form in ABSENT_FORMS:
        body = _body(auth_type, present, absent_form)
        created = alice.post(f"{url}/webhooks", json=body, timeout=TIMEOUT)
        updated = alice.put(f"{url}/webhooks/{existing_id}", json=body, timeout=TIMEOUT)
        for response in (created, updated):
            assert all(secret not in response.text for secret in SECRETS)
        if valid:
            assert created.status_code == 201, (absent_form, created.text)
            assert updated.status_code == 200, (absent_form, updated.text)
            read = alice.get(f"{url}/webhooks/{created.json()['webhookId']}", timeout=TIMEOUT).json()
            # Absent, null and "" are all stored as null.
            assert read["userName"] == (VALUES["userName"] if "userName" in present else None)
            assert read["password"] == ("********" if "password" in present else None)
            assert read["token"] == ("********" if "token" in present else None)
        else:
            message = assert_json_error(created, 400)
            assert assert_json_error(updated, 400) == message
            assert any(name in message for name in CREDENTIALS), message


def test_table_has_six_valid_cells() -> None:
    valid = [(a, s) for a in AUTH_TYPES for s in SUBSETS if _expected_valid(a, s)]
    assert len(SUBSETS) == 8 and len(valid) == 6


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"endpoint": None}, "endpoint"),
        ({"endpoint": ""}, "endpoint"),
        ({"endpoint": 42}, "endpoint"),
        ({"endpoint": ["https://x"]}, "endpoint"),
        ({"authType": None}, "authType"),
        ({"authType": "Basic"}, "authType"),
        ({"authType": "oauth"}, "authType"),
        ({"authType": 1}, "authType"),
        ({"isAlertHook": "yes"}, "isAlertHook"),
        ({"isAlertHook": 1}, "isAlertHook"),
        ({"isAlertHook": 0}, "isAlertHook"),
        ({"isAlertHook": "true"}, "isAlertHook"),
        ({"isAlertHook": []}, "isAlertHook"),
        ({"userName": 5}, "userName"),
        ({"password": True}, "password"),
        ({"password": {"value": "x"}}, "password"),
        ({"extra": "x"}, "extra"),
        ({"webhookId": 3}, "webhookId"),
        ({"EndPoint": "https://x"}, "EndPoint"),
    ],
)
def test_field_errors_name_the_field(
    shared_server: ServerProcess, alice: requests.Session, overrides: dict[str, object], field: str
) -> None:
    body = basic_hook(**overrides)
    if "endpoint" in overrides and overrides["endpoint"] is None:
        del body["endpoint"]
    response = alice.post(f"{shared_server.url}/webhooks", json=body, timeout=TIMEOUT)
    assert field in assert_json_error(response, 400)
    assert "hook-Secret-pw-5e6f" not in response.text


def test_is_alert_hook_defaults_to_false(shared_server: ServerProcess, alice: requests.Session) -> None:
    url = shared_server.url
    body = basic_hook()
    del body["isAlertHook"]
    for sent, stored in ((body, False), (basic_hook(isAlertHook=None), False), (basic_hook(isAlertHook=True), True)):
        created = alice.post(f"{url}/webhooks", json=sent, timeout=TIMEOUT)
        assert created.status_code == 201
        read = alice.get(f"{url}/webhooks/{created.json()['webhookId']}", timeout=TIMEOUT)
        assert read.json()["isAlertHook"] is stored


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"{not json", 400),
        (b"", 400),
        (b'{"endpoint": "https://x", "authType": "none"', 400),
        (b"\xff\xfe\x00garbage", 400),
        (b"[" * 10_000 + b"]" * 10_000, 400),
        (b"[]", 400),
        (b'[{"endpoint": "https://x", "authType": "none"}]', 400),
        (b'"a string"', 400),
        (b"42", 400),
        (b"null", 400),
        (b"true", 400),
    ],
    ids=[
        "broken",
        "empty",
        "truncated",
        "not-utf8",
        "deep",
        "array",
        "array-of-object",
        "string",
        "number",
        "null",
        "bool",
    ],
)
def test_bad_bodies_are_400_on_create_and_update(
    shared_server: ServerProcess, alice: requests.Session, existing_id: int, raw: bytes, status: int
) -> None:
    url = shared_server.url
    headers = {"Content-Type": "application/json"}
    for method, path in (("POST", "/webhooks"), ("PUT", f"/webhooks/{existing_id}")):
        response = alice.request(method, f"{url}{path}", data=raw, headers=headers, timeout=TIMEOUT)
        assert_json_error(response, status)


def test_oversized_body_is_413(shared_server: ServerProcess, alice: requests.Session, existing_id: int) -> None:
    url = shared_server.url
    big = basic_hook(endpoint="https://x.example.test/" + "a" * 70_000)
    assert_json_error(alice.post(f"{url}/webhooks", json=big, timeout=TIMEOUT), 413)
    assert_json_error(alice.put(f"{url}/webhooks/{existing_id}", json=big, timeout=TIMEOUT), 413)
    login_body = {"userName": "alice", "password": "p" * 70_000}
    assert_json_error(requests.post(f"{url}/authtoken", json=login_body, timeout=TIMEOUT), 413)


def test_oversized_chunked_body_is_413(shared_server: ServerProcess, alice: requests.Session) -> None:
    # A generator body goes out chunked, without Content-Length.
    chunks = (b'{"endpoint": "' + b"a" * 10_000 for _ in range(10))
    response = alice.post(
        f"{shared_server.url}/webhooks",
        data=chunks,
        headers={"Content-Type": "application/json"},
        timeout=TIMEOUT,
    )
    assert_json_error(response, 413)


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_wrong_content_type_is_415(
    shared_server: ServerProcess, alice: requests.Session, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = alice.post(
        f"{shared_server.url}/webhooks",
        data=b'{"endpoint": "https://x", "authType": "none"}',
        headers=headers,
        timeout=TIMEOUT,
    )
    assert_json_error(response, 415)


def test_json_with_charset_is_accepted(shared_server: ServerProcess, alice: requests.Session) -> None:
    response = alice.post(
        f"{shared_server.url}/webhooks",
        data=b'{"endpoint": "https://x", "authType": "none"}',
        headers={"Content-Type": "application/json; charset=utf-8"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 201

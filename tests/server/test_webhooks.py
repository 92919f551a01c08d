"""CRUD on /webhooks: bodies, masking, the not-found quirks, account isolation."""

from __future__ import annotations

import pytest
import requests

from webhooks_standin.testing import ServerProcess

from .support import TIMEOUT, assert_json_error, basic_hook

TOKEN_SECRET = "hook-Token-value-77aa"
PASSWORD_SECRET = "hook-Secret-pw-5e6f"


def _create(session: requests.Session, url: str, body: dict[str, object]) -> int:
    response = session.post(f"{url}/webhooks", json=body, timeout=TIMEOUT)
    assert response.status_code == 201, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    created = response.json()
    assert created["message"] == "Webhook created successfully"
    assert set(created) == {"message", "webhookId"}
    assert type(created["webhookId"]) is int
    return int(created["webhookId"])


def test_create_read_update_delete(shared_server: ServerProcess, alice: requests.Session) -> None:
    url = shared_server.url
    hook_id = _create(alice, url, basic_hook(isAlertHook=True))

    read = alice.get(f"{url}/webhooks/{hook_id}", timeout=TIMEOUT)
    assert read.status_code == 200
    assert read.json() == {
        "webhookId": hook_id,
        "isAlertHook": True,
        "endpoint": "https://hooks.example.test/in",
        "authType": "basic",
        "userName": "hook-user",
        "password": "********",
        "token": None,
    }

    new_body = {"endpoint": "https://other.example.test/x", "authType": "bearer", "token": TOKEN_SECRET}
    updated = alice.put(f"{url}/webhooks/{hook_id}", json=new_body, timeout=TIMEOUT)
    assert updated.status_code == 200
    assert updated.json() == {"message": "Webhook updated successfully"}
    # PUT replaces the whole body: the basic credentials are gone.
    assert alice.get(f"{url}/webhooks/{hook_id}", timeout=TIMEOUT).json() == {
        "webhookId": hook_id,
        "isAlertHook": False,
        "endpoint": "https://other.example.test/x",
        "authType": "bearer",
        "userName": None,
        "password": None,
        "token": "********",
    }

    deleted = alice.delete(f"{url}/webhooks/{hook_id}", timeout=TIMEOUT)
    assert deleted.status_code == 200
    assert deleted.json() == {"message": "Webhook deleted successfully"}
    assert_json_error(alice.get(f"{url}/webhooks/{hook_id}", timeout=TIMEOUT), 404)
    assert_json_error(alice.delete(f"{url}/webhooks/{hook_id}", timeout=TIMEOUT), 404)


def test_secrets_are_masked_everywhere(shared_server: ServerProcess, alice: requests.Session) -> None:
    url = shared_server.url
    basic_id = _create(alice, url, basic_hook(password=PASSWORD_SECRET))
    token_id = _create(alice, url, {"endpoint": "https://t.example.test", "authType": "header", "token": TOKEN_SECRET})

    one = alice.get(f"{url}/webhooks/{basic_id}", timeout=TIMEOUT)
    listed = alice.get(f"{url}/webhooks", timeout=TIMEOUT)
    other = alice.get(f"{url}/webhooks/{token_id}", timeout=TIMEOUT)
    for response in (one, listed, other):
        assert PASSWORD_SECRET not in response.text
        assert TOKEN_SECRET not in response.text
    by_id = {hook["webhookId"]: hook for hook in listed.json()}
    assert by_id[basic_id]["password"] == "********"
    assert by_id[basic_id]["token"] is None
    assert by_id[token_id]["token"] == "********"
    assert by_id[token_id]["password"] is None
    assert other.json()["token"] == "********"


def test_list_is_ordered_by_id(shared_server: ServerProcess, alice: requests.Session) -> None:
    url = shared_server.url
    created = [_create(alice, url, basic_hook(endpoint=f"https://e{i}.example.test")) for i in range(3)]
    listed = alice.get(f"{url}/webhooks", timeout=TIMEOUT).json()
    ids = [hook["webhookId"] for hook in listed]
    assert ids == sorted(ids)
    assert set(created) <= set(ids)
    assert all(type(hook_id) is int for hook_id in ids)


def test_update_of_missing_webhook_is_400_not_found(shared_server: ServerProcess, alice: requests.Session) -> None:
    url = shared_server.url
    hook_id = _create(alice, url, basic_hook())
    assert alice.delete(f"{url}/webhooks/{hook_id}", timeout=TIMEOUT).status_code == 200
    for path in (f"/webhooks/{hook_id}", "/webhooks/999999", "/webhooks/abc", "/webhooks/-1"):
        response = alice.put(f"{url}{path}", json=basic_hook(), timeout=TIMEOUT)
        assert assert_json_error(response, 400) == "Webhook not found"


@pytest.mark.parametrize("raw_id", ["abc", "1.5", "-1", "0", "99999999999999999999999", "1e3", "%201"])
def test_odd_ids_are_404(shared_server: ServerProcess, alice: requests.Session, raw_id: str) -> None:
    url = shared_server.url
    assert_json_error(alice.get(f"{url}/webhooks/{raw_id}", timeout=TIMEOUT), 404)
    assert_json_error(alice.delete(f"{url}/webhooks/{raw_id}", timeout=TIMEOUT), 404)
    assert_json_error(alice.put(f"{url}/webhooks/{raw_id}", json=basic_hook(), timeout=TIMEOUT), 400)


def test_accounts_are_isolated(shared_server: ServerProcess, alice: requests.Session, bob: requests.Session) -> None:
    url = shared_server.url
    alice_id = _create(alice, url, basic_hook(endpoint="https://alice.example.test"))
    bob_id = _create(bob, url, basic_hook(endpoint="https://bob.example.test"))

    assert alice_id not in [hook["webhookId"] for hook in bob.get(f"{url}/webhooks", timeout=TIMEOUT).json()]
    assert bob_id not in [hook["webhookId"] for hook in alice.get(f"{url}/webhooks", timeout=TIMEOUT).json()]
    assert_json_error(bob.get(f"{url}/webhooks/{alice_id}", timeout=TIMEOUT), 404)
    assert assert_json_error(bob.put(f"{url}/webhooks/{alice_id}", json=basic_hook(), timeout=TIMEOUT), 400) == (
        "Webhook not found"
    )
    assert_json_error(bob.delete(f"{url}/webhooks/{alice_id}", timeout=TIMEOUT), 404)
    # alice's webhook is untouched.
    still = alice.get(f"{url}/webhooks/{alice_id}", timeout=TIMEOUT)
    assert still.json()["endpoint"] == "https://alice.example.test"


def test_unknown_route_and_method(shared_server: ServerProcess, alice: requests.Session) -> None:
    url = shared_server.url
    assert_json_error(alice.get(f"{url}/nothing-here", timeout=TIMEOUT), 404)
    assert_json_error(alice.get(f"{url}/webhooks/1/extra", timeout=TIMEOUT), 404)
    not_allowed = alice.patch(f"{url}/webhooks/1", json={}, timeout=TIMEOUT)
    assert_json_error(not_allowed, 405)
    assert set(not_allowed.headers["Allow"].split(", ")) == {"GET", "PUT", "DELETE"}
    assert_json_error(alice.delete(f"{url}/webhooks", timeout=TIMEOUT), 405)
    assert_json_error(requests.get(f"{url}/authtoken", timeout=TIMEOUT), 405)


def test_admin_stats_count_requests_by_route(shared_server: ServerProcess, alice: requests.Session) -> None:
    url = shared_server.url
    assert alice.post(f"{url}/_admin/reset-stats", timeout=TIMEOUT).status_code == 200
    hook_id = _create(alice, url, basic_hook())
    alice.get(f"{url}/webhooks/{hook_id}", timeout=TIMEOUT)
    alice.get(f"{url}/webhooks/{hook_id + 1000}", timeout=TIMEOUT)
    requests.get(f"{url}/webhooks", timeout=TIMEOUT)  # refused by auth: counted too

    stats = alice.get(f"{url}/_admin/stats", timeout=TIMEOUT).json()
    assert stats["requests"] == {"POST /webhooks": 1, "GET /webhooks/<id>": 2, "GET /webhooks": 1}
    assert stats["status"] == {"201": 1, "200": 1, "404": 1, "401": 1}

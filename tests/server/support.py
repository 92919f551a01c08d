"""Accounts the test servers start with, and small HTTP helpers for the tests."""

from __future__ import annotations

from collections.abc import Callable

import requests

from webhooks_standin.testing import ServerProcess

ALICE_PASSWORD = "alice-Pa55-word-7f3a"
BOB_PASSWORD = "bob-Pa55-word-91c2"
STATIC_TOKEN = "static-Token-d41d8cd9"
ALICE_STATIC_TOKEN = "alice-static-Token-0cc175b9"

ACCOUNT_FLAGS = [
    "--user",
    f"alice:{ALICE_PASSWORD}",
    "--user",
    f"bob:{BOB_PASSWORD}",
    "--api-token",
    STATIC_TOKEN,
    "--api-token",
    f"alice={ALICE_STATIC_TOKEN}",
]

# start_server(*flags, db=None, accounts=True) -> a running server
StartServer = Callable[..., ServerProcess]

TIMEOUT = 10  # seconds, for every HTTP call of the tests


def login(url: str, user: str, password: str) -> str:
    response = requests.post(f"{url}/authtoken", json={"userName": user, "password": password}, timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def session_for(token: str) -> requests.Session:
    session = requests.Session()
    session.headers.update(bearer(token))
    return session


def basic_hook(**overrides: object) -> dict[str, object]:
    """A valid create/update body (basic auth), with fields overridden."""
    body: dict[str, object] = {
        "isAlertHook": False,
        "endpoint": "https://hooks.example.test/in",
        "authType": "basic",
        "userName": "hook-user",
        "password": "hook-Secret-pw-5e6f",
    }
    body.update(overrides)
    return body


def assert_json_error(response: requests.Response, status: int) -> str:
    """The response has this status and a JSON {"message": str} body; return the message."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["Content-Type"].startswith("application/json")
    message = response.json()["message"]
    assert isinstance(message, str) and message
    return message

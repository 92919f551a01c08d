"""A running local API server as the tests and the benchmark see it: its accounts and an admin view."""

from __future__ import annotations

import sqlite3
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from webhooks_standin.testing import ServerProcess

USER = "alice"
PASSWORD = "alice-Passw0rd-s3cret"
STATIC_TOKEN = "static-T0ken-s3cret-alice"
OTHER_USER = "bob"
OTHER_PASSWORD = "bob-Passw0rd-s3cret"

CREDENTIAL_ARGS = [
    "--user",
    f"{USER}:{PASSWORD}",
    "--user",
    f"{OTHER_USER}:{OTHER_PASSWORD}",
    "--api-token",
    f"{USER}={STATIC_TOKEN}",
]


class Api:
    """A running local API server plus a raw admin view of its data (as alice)."""

    def __init__(self, process: ServerProcess) -> None:
        self.process = process
        self.url = process.url

    _auth = {"Authorization": f"Bearer {STATIC_TOKEN}"}  # noqa: RUF012

    def session(self) -> requests.Session:
        """Authenticated as alice; retries the 5xx a fault knob injects before processing."""
        session = requests.Session()
        session.headers.update(self._auth)
        retry = Retry(
            total=10,
            connect=3,
            read=0,
            status=10,
            status_forcelist={500, 502, 503, 504},
            allowed_methods=None,
            backoff_factor=0.05,
            raise_on_status=False,
        )
        session.mount("http://", HTTPAdapter(max_retries=retry))
        return session

    def _get(self, path: str) -> Any:
        response = self.session().get(f"{self.url}{path}", timeout=10)
        response.raise_for_status()
        return response.json()

    def webhooks(self) -> list[dict[str, Any]]:
        """Alice's webhooks as they are now, whole: not paged, not behind (as the vendor's list may be)."""
        return self._get("/_admin/webhooks")

    def stats(self) -> dict[str, Any]:
        return self._get("/_admin/stats")

    def post(self, path: str, body: Any = None) -> requests.Response:
        return self.session().post(f"{self.url}{path}", json=body, timeout=10)

    def put(self, path: str, body: Any) -> requests.Response:
        return self.session().put(f"{self.url}{path}", json=body, timeout=10)

    def log(self) -> str:
        return self.process.log_text()

    def stored_secrets(self) -> dict[str, tuple[str | None, str | None]]:
        """(password, token) of each webhook as the server stored them: what the API never shows."""
        with sqlite3.connect(self.process.db_path) as db:
            return {str(i): (p, t) for i, p, t in db.execute("SELECT id, password, token FROM webhooks")}

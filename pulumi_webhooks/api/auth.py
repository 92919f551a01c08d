"""The API's own bearer token: static, or obtained at POST /authtoken and cached."""

from __future__ import annotations

import base64
import json
import math
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ..errors import ServerError

# Renew this long before the token's stated expiry (or a tenth of a short lifetime).
RENEW_MARGIN_SECONDS = 60.0
# Lifetime assumed when the API's answer does not say; and the least one trusted, so
# that an answer of "0" cannot make every call log in again.
DEFAULT_LIFETIME_SECONDS = 300.0
MIN_LIFETIME_SECONDS = 1.0

Login = Callable[[], dict[str, Any]]
"""Performs POST /authtoken and returns its JSON body; raises on failure."""


class TokenSource:
    """Hands out a valid API token; shared by all threads of the provider process."""

    def __init__(self, static_token: str | None = None, login: Login | None = None) -> None:
        if (static_token is None) == (login is None):
            raise ValueError("give exactly one of static_token and login")
        self._static_token = static_token
        self._login = login
        self._lock = threading.Lock()
        self._token: str | None = None
        self._renew_at = 0.0

    @property
    def renewable(self) -> bool:
        return self._login is not None

    def current(self) -> str:
        if self._static_token is not None:
            return self._static_token
        with self._lock:
            if self._token is None or time.monotonic() >= self._renew_at:
                self._fetch()
            assert self._token is not None
            return self._token

    def invalidate(self, token: str) -> None:
        """Forget `token` after the API refused it, unless another thread already renewed it."""
        with self._lock:
            if self._token == token:
                self._token = None

    def _fetch(self) -> None:
        assert self._login is not None
        started = time.monotonic()
        body = self._login()
        token = body.get("token")
        if not isinstance(token, str) or not token:
            raise ServerError("POST", "/authtoken", 200, "the API's answer holds no token")
        lifetime = max(lifetime_seconds(body), MIN_LIFETIME_SECONDS)
        self._token = token
        self._renew_at = started + lifetime - min(RENEW_MARGIN_SECONDS, lifetime / 10)


def lifetime_seconds(body: dict[str, Any]) -> float:
    """Seconds the token lives, from `expiresIn`, else from `issued`/`expires`."""
    try:
        seconds = float(str(body["expiresIn"]).strip())
        if math.isfinite(seconds):  # "inf" or "nan" would mean: never renew
            return max(seconds, 0.0)
    except (KeyError, ValueError):
        pass
    try:
        issued = datetime.fromisoformat(str(body["issued"]))
        expires = datetime.fromisoformat(str(body["expires"]))
        return max((expires - issued).total_seconds(), 0.0)
    except (KeyError, ValueError, TypeError):
        return DEFAULT_LIFETIME_SECONDS


def jwt_claims(token: str) -> dict[str, Any]:
    """The claims of a JWT, read without verifying it (to show or compare, never to trust);
    empty for a token that is not one."""
    payload = token.split(".")[1] if token.count(".") == 2 else ""
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))) if payload else None
    except ValueError:
        claims = None
    return claims if isinstance(claims, dict) else {}

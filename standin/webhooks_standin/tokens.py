"""API tokens: HS256 JWTs issued by /authtoken, plus static bearer tokens.

The JWT signing key lives in the store (table `meta`) so that issued tokens
survive a restart; rotating it revokes every JWT at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol

SIGNING_KEY_NAME = "jwt_signing_key"
_HEADER = {"alg": "HS256", "typ": "JWT"}


class KeyStore(Protocol):
    """The part of the store that keeps the signing key."""

    def get_meta(self, name: str) -> str | None: ...

    def set_meta(self, name: str, value: str) -> None: ...


@dataclass(frozen=True)
class IssuedToken:
    token: str
    account: str
    issued_at: int
    expires_at: int


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    # JWTs drop the base64 padding; put it back before decoding.
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(key: bytes, signing_input: str) -> str:
    return _b64encode(hmac.new(key, signing_input.encode(), hashlib.sha256).digest())


class TokenAuthority:
    """Issues and verifies JWTs; also knows the static tokens given on the command line."""

    def __init__(self, keys: KeyStore, ttl_seconds: int, static_tokens: dict[str, str]) -> None:
        self._keys = keys
        self._ttl = ttl_seconds
        # token -> account
        self._static = dict(static_tokens)
        self._lock = threading.Lock()
        self._key = self._load_or_create_key()

    def _load_or_create_key(self) -> bytes:
        stored = self._keys.get_meta(SIGNING_KEY_NAME)
        if stored:
            return bytes.fromhex(stored)
        key = secrets.token_bytes(32)
        self._keys.set_meta(SIGNING_KEY_NAME, key.hex())
        return key

    def rotate_key(self) -> None:
        """Make every JWT issued so far invalid (static tokens are unaffected)."""
        key = secrets.token_bytes(32)
        with self._lock:
            self._keys.set_meta(SIGNING_KEY_NAME, key.hex())
            self._key = key

    def issue(self, account: str) -> IssuedToken:
        issued_at = int(time.time())
        expires_at = issued_at + self._ttl
        payload = {"sub": account, "iat": issued_at, "exp": expires_at, "jti": secrets.token_hex(8)}
        signing_input = (
            _b64encode(json.dumps(_HEADER, separators=(",", ":")).encode())
            + "."
            + _b64encode(json.dumps(payload, separators=(",", ":")).encode())
        )
        with self._lock:
            key = self._key
        return IssuedToken(
            token=f"{signing_input}.{_sign(key, signing_input)}",
            account=account,
            issued_at=issued_at,
            expires_at=expires_at,
        )

    def verify(self, token: str) -> str | None:
        """Return the account a bearer token acts as, or None when it is not valid."""
        account = self._verify_static(token)
        if account is not None:
            return account
        return self._verify_jwt(token)

    def _verify_static(self, token: str) -> str | None:
        found: str | None = None
        # Compare against every static token in constant time.
        for known, account in self._static.items():
            if hmac.compare_digest(known.encode(), token.encode()):
                found = account
        return found

    def _verify_jwt(self, token: str) -> str | None:
        parts = token.split(".")
        if len(parts) != 3:
            return None
        header_b64, payload_b64, signature = parts
        with self._lock:
            key = self._key
        expected = _sign(key, f"{header_b64}.{payload_b64}")
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            return None
        try:
            header: Any = json.loads(_b64decode(header_b64))
            payload: Any = json.loads(_b64decode(payload_b64))
        except ValueError:
            return None
        if not isinstance(header, dict) or header.get("alg") != "HS256":
            return None
        if not isinstance(payload, dict):
            return None
        account, expires_at = payload.get("sub"), payload.get("exp")
        if not isinstance(account, str) or not account:
            return None
        if not isinstance(expires_at, int | float) or isinstance(expires_at, bool):
            return None
        if time.time() >= expires_at:
            return None
        return account

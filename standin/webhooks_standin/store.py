"""SQLite persistence for webhooks and server metadata (the JWT signing key).

One connection shared by all request threads, guarded by a lock: simple, and
no write can be lost between threads.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS webhooks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account TEXT NOT NULL,
    is_alert_hook INTEGER,
    endpoint TEXT,
    auth_type TEXT,
    user_name TEXT,
    password TEXT,
    token TEXT,
    created_at TEXT,
    updated_at TEXT
);
CREATE INDEX IF NOT EXISTS webhooks_account ON webhooks (account, id);
CREATE TABLE IF NOT EXISTS idempotency_keys (
    account TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (account, key)
);
"""

_COLUMNS = "id, account, is_alert_hook, endpoint, auth_type, user_name, password, token"


@dataclass(frozen=True)
class WebhookFields:
    """What a client may write; empty credentials are already None here."""

    is_alert_hook: bool
    endpoint: str
    auth_type: str
    user_name: str | None
    password: str | None
    token: str | None


@dataclass(frozen=True)
class WebhookRow:
    id: int
    account: str
    fields: WebhookFields


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _row(raw: tuple[Any, ...]) -> WebhookRow:
    id_, account, is_alert_hook, endpoint, auth_type, user_name, password, token = raw
    return WebhookRow(
        id=int(id_),
        account=str(account),
        fields=WebhookFields(
            is_alert_hook=bool(is_alert_hook),
            endpoint=str(endpoint),
            auth_type=str(auth_type),
            user_name=user_name if isinstance(user_name, str) else None,
            password=password if isinstance(password, str) else None,
            token=token if isinstance(token, str) else None,
        ),
    )


class Store:
    def __init__(self, path: str | Path) -> None:
        # Autocommit (isolation_level=None): every statement below is its own
        # transaction, and the lock serialises them.
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA busy_timeout=5000")
            self._conn.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # --- meta -------------------------------------------------------------

    def get_meta(self, name: str) -> str | None:
        with self._lock:
            found = self._conn.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if found is None else str(found[0])

    def set_meta(self, name: str, value: str) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (name, value),
            )

    # --- webhooks ---------------------------------------------------------

    def create(self, account: str, fields: WebhookFields) -> int:
        now = _now()
        with self._lock:
            cursor = self._conn.execute(
                "INSERT INTO webhooks (account, is_alert_hook, endpoint, auth_type,"
                " user_name, password, token, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (account, *_values(fields), now, now),
            )
            new_id = cursor.lastrowid
        assert new_id is not None
        return new_id

    def get(self, account: str, webhook_id: int) -> WebhookRow | None:
        with self._lock:
            found = self._conn.execute(
                f"SELECT {_COLUMNS} FROM webhooks WHERE id = ? AND account = ?",
                (webhook_id, account),
            ).fetchone()
        return None if found is None else _row(found)

    def list(self, account: str) -> list[WebhookRow]:
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_COLUMNS} FROM webhooks WHERE account = ? ORDER BY id", (account,)
            ).fetchall()
        return [_row(raw) for raw in rows]

    def update(self, account: str, webhook_id: int, fields: WebhookFields) -> WebhookRow | None:
        """Replace every writable field; the webhook as it was, or None when the account has no such webhook."""
        before = self.get(account, webhook_id)
        if before is None:
            return None
        with self._lock:
            self._conn.execute(
                "UPDATE webhooks SET is_alert_hook = ?, endpoint = ?, auth_type = ?,"
                " user_name = ?, password = ?, token = ?, updated_at = ?"
                " WHERE id = ? AND account = ?",
                (*_values(fields), _now(), webhook_id, account),
            )
        return before

    def delete(self, account: str, webhook_id: int) -> WebhookRow | None:
        """Deletes the webhook; it as it was, or None when the account has no such webhook."""
        before = self.get(account, webhook_id)
        if before is None:
            return None
        with self._lock:
            self._conn.execute("DELETE FROM webhooks WHERE id = ? AND account = ?", (webhook_id, account))
        return before

    # --- idempotency keys ---------------------------------------------------

    def answer_for_key(self, account: str, key: str, max_age: float) -> tuple[str, str] | None:
        """(request hash, answer body) recorded for an idempotency key, if younger than `max_age` s."""
        with self._lock:
            self._conn.execute("DELETE FROM idempotency_keys WHERE created_at < ?", (time.time() - max_age,))
            found = self._conn.execute(
                "SELECT request_hash, response FROM idempotency_keys WHERE account = ? AND key = ?",
                (account, key),
            ).fetchone()
        return None if found is None else (str(found[0]), str(found[1]))

    def record_answer(self, account: str, key: str, request_hash: str, response: str) -> None:
        """The answer a create with this idempotency key gave: what a repeat of it answers."""
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO idempotency_keys VALUES (?, ?, ?, ?, ?)",
                (account, key, request_hash, response, time.time()),
            )


def _values(fields: WebhookFields) -> tuple[int, str, str, str | None, str | None, str | None]:
    """The writable columns, in the order the INSERT and UPDATE name them."""
    return (
        int(fields.is_alert_hook),
        fields.endpoint,
        fields.auth_type,
        fields.user_name,
        fields.password,
        fields.token,
    )

"""Request counters read by tests through /_admin/stats."""

from __future__ import annotations

import threading
from collections import Counter


class Stats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: Counter[str] = Counter()
        self._status: Counter[str] = Counter()

    def record(self, route: str, status: str) -> None:
        """`route` is "<METHOD> <rule>", `status` a status code or "dropped"."""
        with self._lock:
            self._requests[route] += 1
            self._status[status] += 1

    def snapshot(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {"requests": dict(self._requests), "status": dict(self._status)}

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._status.clear()

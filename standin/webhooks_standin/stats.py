"""Request counters read by tests through /_admin/stats: requests per route, answers per status,
and the most requests the server held at once (`peakInFlight`), to see a client's concurrency."""

from __future__ import annotations

import threading
from collections import Counter


class Stats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: Counter[str] = Counter()
        self._status: Counter[str] = Counter()
        self._in_flight = 0
        self._peak_in_flight = 0

    def arrived(self) -> None:
        with self._lock:
            self._in_flight += 1
            self._peak_in_flight = max(self._peak_in_flight, self._in_flight)

    def left(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def record(self, route: str, status: str) -> None:
        """`route` is "<METHOD> <rule>", `status` a status code or "dropped"."""
        with self._lock:
            self._requests[route] += 1
            self._status[status] += 1

    def snapshot(self) -> dict[str, object]:
        with self._lock:
            return {
                "requests": dict(self._requests),
                "status": dict(self._status),
                "peakInFlight": self._peak_in_flight,
            }

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._status.clear()
            self._peak_in_flight = self._in_flight

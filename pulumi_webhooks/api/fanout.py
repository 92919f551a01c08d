"""Many API calls at once, and never more than the connection allows: how hundreds of hooks are
worked through in one engine step.

One pool per client: every fleet of a connection shares its `max_concurrent_requests`, and its
threads (each with its own HTTP session) live as long as the client, so connections are reused
from one operation to the next. The rate limit, when set, still spaces every request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Generic, TypeVar

K = TypeVar("K")
T = TypeVar("T")


@dataclass
class Outcome(Generic[K, T]):
    """What each call gave, by key: its result, or the exception it raised."""

    results: dict[K, T] = field(default_factory=dict)
    failures: dict[K, Exception] = field(default_factory=dict)


class FanOut:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def run(self, calls: Mapping[K, Callable[[], T]]) -> Outcome[K, T]:
        """Runs every call, at most `limit` at once, and waits for all of them: one failing
        stops none of the others, so that the outcome says what was done."""
        outcome: Outcome[K, T] = Outcome()
        if not calls:
            return outcome
        pool = self._executor()
        futures = {pool.submit(call): key for key, call in calls.items()}
        for future in as_completed(futures):
            key = futures[future]
            try:
                outcome.results[key] = future.result()
            except Exception as failure:
                outcome.failures[key] = failure
        return outcome

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=self.limit, thread_name_prefix="webhooks-api")
            return self._pool

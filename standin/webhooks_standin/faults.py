"""Fault injection for tests: rate limiting, random 5xx, latency, lost create responses, missing routes.

Everything is off by default. One seeded random generator drives every random
choice, so a run with --seed is reproducible (for a given request order).
"""

from __future__ import annotations

import email.utils
import math
import random
import threading
import time
from dataclasses import dataclass

ID_FIELDS = ("webhookId", "id", "_id", "hookId")
RETRY_AFTER_FORMATS = ("seconds", "http-date")
SERVER_ERRORS = (500, 502, 503, 504)


@dataclass(frozen=True)
class FaultConfig:
    rate_limit: float | None = None
    fail_rate: float = 0.0
    latency_ms: int = 0
    create_without_id: bool = False
    id_field: str = "webhookId"
    drop_create_response_rate: float = 0.0
    fail_after_commit_rate: float = 0.0
    retry_after_format: str = "seconds"
    seed: int | None = None
    # "METHOD /rule" of vendor routes to answer 404, as if the API did not have them.
    without_routes: frozenset[str] = frozenset()


class TokenBucket:
    """Allows `rate` requests per second on average, with bursts of up to `rate`."""

    def __init__(self, rate: float) -> None:
        self._rate = rate
        self._capacity = max(rate, 1.0)
        self._tokens = self._capacity
        self._updated = time.monotonic()
        self._lock = threading.Lock()

    def acquire(self) -> int | None:
        """Take one token; None when allowed, else the seconds to wait (>= 1)."""
        with self._lock:
            now = time.monotonic()
            elapsed = now - self._updated
            self._tokens = min(self._capacity, self._tokens + elapsed * self._rate)
            self._updated = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return None
            return max(1, math.ceil((1.0 - self._tokens) / self._rate))


class Faults:
    def __init__(self, config: FaultConfig) -> None:
        self.config = config
        self._random = random.Random(config.seed)
        self._random_lock = threading.Lock()
        self._bucket = TokenBucket(config.rate_limit) if config.rate_limit else None

    def _chance(self, probability: float) -> bool:
        if probability <= 0.0:
            return False
        with self._random_lock:
            return self._random.random() < probability

    def delay(self) -> None:
        if self.config.latency_ms > 0:
            time.sleep(self.config.latency_ms / 1000.0)

    def rate_limited(self) -> str | None:
        """The Retry-After value when this request is over the limit, else None."""
        seconds = self._bucket.acquire() if self._bucket is not None else None
        if seconds is None:
            return None
        if self.config.retry_after_format == "http-date":
            return email.utils.formatdate(time.time() + seconds, usegmt=True)
        return str(seconds)

    def injected_error(self) -> int | None:
        """A 5xx status to answer with instead of handling the request, or None."""
        if not self._chance(self.config.fail_rate):
            return None
        with self._random_lock:
            return self._random.choice(SERVER_ERRORS)

    def drop_create_response(self) -> bool:
        return self._chance(self.config.drop_create_response_rate)

    def fail_after_commit(self) -> bool:
        return self._chance(self.config.fail_after_commit_rate)

"""A token bucket shared by every thread of a client: the API's quota is per account."""

from __future__ import annotations

import threading
import time


class TokenBucket:
    """Lets at most `rate` requests per second through, evenly spaced unless `burst` > 1; with
    `rate` None, any number.

    Even spacing is the default: a server's own bucket, whatever its burst,
    then never runs dry because of this client.

    `hold(seconds)` stops everyone for a while, as when the API answered 429
    with Retry-After: one thread's refusal is every thread's signal, with or without a rate.
    """

    def __init__(self, rate: float | None, burst: float | None = None) -> None:
        if rate is not None and rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.capacity = burst if burst is not None else 1.0
        self._tokens = self.capacity
        self._updated = time.monotonic()
        self._held_until = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Waits for a token; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = time.monotonic()
                if self.rate is None:
                    if now >= self._held_until:
                        return waited
                    delay = self._held_until - now
                else:
                    self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
                    self._updated = now
                    if now >= self._held_until and self._tokens >= 1:
                        self._tokens -= 1
                        return waited
                    delay = max(self._held_until - now, (1 - self._tokens) / self.rate)
            time.sleep(delay)
            waited += delay

    def hold(self, seconds: float) -> None:
        with self._lock:
            self._held_until = max(self._held_until, time.monotonic() + seconds)

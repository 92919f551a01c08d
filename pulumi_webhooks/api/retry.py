"""Retry policy of the API client, as urllib3 configuration."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from urllib3.connectionpool import ConnectionPool
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

from .ratelimit import TokenBucket
from .settings import ClientSettings

# 500 too: every method retried on a status is idempotent (a POST only on 429).
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class ApiRetry(Retry):
    """urllib3's Retry with the additions the API needs.

    - A POST is retried on `post_statuses` only, by default 429: the API refused
      it unprocessed. On a 5xx or a read error a create may have committed, so
      the client resolves that itself instead of blindly sending it again. (The
      login POST, which is idempotent, is retried like a GET.)
    - Retries stop once `max_elapsed` seconds have passed since the first
      failure, whatever the counts say, so a deployment never hangs on them.
    - With a shared `bucket`, a retry waits for its token like a first attempt,
      and a Retry-After holds back every thread, not just the refused one.
    - A 429 spends no retry: the API is pacing the client, not failing, so it is followed for
      as long as `max_elapsed` allows, however many stacks share the account.
    - A Retry-After given as an HTTP date is waited to the end of the second it names.
    - `on_retried` sees each answer that is retried: requests never gets those.
    """

    def __init__(
        self,
        *args: Any,
        max_elapsed: float = 120.0,
        post_statuses: frozenset[int] = frozenset({429}),
        bucket: TokenBucket | None = None,
        on_retried: Callable[[BaseHTTPResponse], None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.max_elapsed = max_elapsed
        self.post_statuses = post_statuses
        self.bucket = bucket
        self.on_retried = on_retried
        self.deadline: float | None = None

    def new(self, **kwargs: Any) -> Self:
        retry = super().new(**kwargs)
        retry.max_elapsed = self.max_elapsed
        retry.post_statuses = self.post_statuses
        retry.bucket = self.bucket
        retry.on_retried = self.on_retried
        retry.deadline = self.deadline if self.deadline is not None else time.monotonic() + self.max_elapsed
        return retry

    def parse_retry_after(self, retry_after: str) -> float:
        seconds = float(super().parse_retry_after(retry_after))
        if not retry_after.strip().isdigit():
            # An HTTP date counts whole seconds, so the moment it names may be most of a second
            # after the date it reads as: a retry at the date itself comes early, is refused
            # again, and burns an attempt. Wait out the second it names.
            seconds = min(seconds + 1.0, float(self.retry_after_max))
        return seconds

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if method.upper() == "POST":
            return status_code in self.post_statuses
        return super().is_retry(method, status_code, has_retry_after)

    def sleep(self, response: BaseHTTPResponse | None = None) -> None:
        if self.on_retried is not None and response is not None:
            self.on_retried(response)
        if self.bucket is not None and response is not None:
            retry_after = self.get_retry_after(response)
            if retry_after:
                self.bucket.hold(retry_after)
        super().sleep(response)
        if self.bucket is not None:
            self.bucket.acquire()

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> Self:
        retry = super().increment(method, url, response, error, _pool, _stacktrace)
        if response is not None and response.status == 429:
            retry.total, retry.status = self.total, self.status
        return retry

    def is_exhausted(self) -> bool:
        out_of_time = self.deadline is not None and time.monotonic() >= self.deadline
        return out_of_time or super().is_exhausted()


def api_retry(
    settings: ClientSettings,
    bucket: TokenBucket | None,
    retry_post_on_any_status: bool = False,
    on_retried: Callable[[BaseHTTPResponse], None] | None = None,
) -> Retry:
    """The policy for API calls; `retry_post_on_any_status` is for the idempotent login POST."""
    options: dict[str, Any] = dict(
        total=settings.max_retries,
        connect=settings.max_retries,
        read=settings.max_retries,
        status=settings.max_retries,
        other=0,
        status_forcelist=RETRY_STATUSES,
        backoff_factor=settings.backoff_factor,
        backoff_jitter=0.5,
        backoff_max=10.0,
        retry_after_max=60.0,
        respect_retry_after_header=True,
        raise_on_status=False,
        raise_on_redirect=False,
    )
    post_statuses = frozenset({429})
    if retry_post_on_any_status:
        post_statuses = RETRY_STATUSES
        options["allowed_methods"] = Retry.DEFAULT_ALLOWED_METHODS | {"POST"}
    return ApiRetry(
        max_elapsed=settings.max_retry_seconds,
        post_statuses=post_statuses,
        bucket=bucket,
        on_retried=on_retried,
        **options,
    )

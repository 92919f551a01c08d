"""The create protocol: a webhook is created once, whatever happens to the answer.

A create whose answer is lost (a timeout, a reset, a 5xx after the commit) may
still have made the webhook, and a blind retry would make a second one. So the
creator looks for it among the webhooks the API lists before it sends again. It
never takes as its own a webhook that was there before its first create (those
are the baseline), nor one it already took for another create. Creates of
look-alikes run one at a time, so none takes another's result.

It knows the API only through two functions, which makes it testable with a
plain list: `list_webhooks`, and the `post` each create is given.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from .. import errors
from ..model.live import LiveWebhook, match_key

log = logging.getLogger("pulumi_webhooks.creates")

ATTEMPTS = 5
SETTLE_SECONDS = 2.0
"""How long a create of unknown outcome is looked for before it is sent again."""

Post = Callable[[], "str | None"]
"""Sends the create: the new id, None when the answer holds none, or `OutcomeUnknown`."""


class OutcomeUnknown(errors.WebhooksError):
    """The create was sent but its answer is lost or a 5xx: it may have been made."""


class Creator:
    def __init__(
        self,
        list_webhooks: Callable[[], list[LiveWebhook]],
        create_look_alikes: bool = False,
        settle_seconds: float = SETTLE_SECONDS,
        pause: Callable[[float], None] = time.sleep,
    ) -> None:
        self._list = list_webhooks
        self._create_look_alikes = create_look_alikes
        self._settle_seconds = settle_seconds
        self._pause = pause
        self._baseline: _Baseline | None = None
        self._baseline_lock = threading.Lock()
        self._taken: set[str] = set()  # ids this creator took as its creates' results
        self._lock = threading.Lock()
        self._create_locks: dict[tuple[Any, ...], threading.Lock] = {}

    def create(self, body: Mapping[str, Any], post: Post) -> str:
        """Create the webhook `body` (API names) by calling `post`; its id, never a duplicate."""
        with self._one_at_a_time(body):
            baseline = self._baseline_ids()
            if not self._create_look_alikes:
                look_alikes = self._look_alikes(body)
                if look_alikes:
                    raise errors.LookAlikeExists(look_alikes)
            for attempt in range(1, ATTEMPTS + 1):
                try:
                    webhook_id = post()
                except OutcomeUnknown as unknown:
                    outcome = str(unknown)
                else:
                    webhook_id = webhook_id or self._find_created(body, baseline)
                    if webhook_id is None:
                        raise _created_without_trace()
                    return self._claim(webhook_id)
                # The create may have committed, or may still commit (a gateway's 504
                # while the backend works on): look, for a while, before sending again.
                log.info("create outcome unknown (%s); looking for the webhook before retrying", outcome)
                found = self._await_created(body, baseline)
                if found is not None:
                    return self._claim(found)
                if attempt < ATTEMPTS:
                    self._pause(random.uniform(0.2, 0.5) * 2**attempt)
            raise errors.ServerError(
                "POST",
                "/webhooks",
                None,
                f"the create failed {ATTEMPTS} times ({outcome})",
                "No matching webhook was listed after the last attempt; run the deployment again",
            )

    def updated(self, webhook_id: str, body: Mapping[str, Any]) -> None:
        """A webhook of the baseline now looks like `body`: that is what a create must not meet."""
        with self._baseline_lock:
            if self._baseline is not None:
                self._baseline.replace(webhook_id, match_key(body))

    def deleted(self, webhook_id: str) -> None:
        """A webhook is gone: it is no longer a look-alike of anything."""
        with self._baseline_lock:
            if self._baseline is not None:
                self._baseline.drop(webhook_id)

    @contextmanager
    def _one_at_a_time(self, body: Mapping[str, Any]) -> Iterator[None]:
        with self._lock:
            lock = self._create_locks.setdefault(match_key(body), threading.Lock())
        with lock:
            yield

    def _baseline_ids(self) -> frozenset[str]:
        with self._baseline_lock:
            if self._baseline is None:
                self._baseline = _Baseline(self._list())
            return self._baseline.ids()

    def _look_alikes(self, body: Mapping[str, Any]) -> list[str]:
        with self._baseline_lock:
            assert self._baseline is not None
            return sorted(self._baseline.with_key(match_key(body)), key=_id_order)

    def _claim(self, webhook_id: str) -> str:
        with self._lock:
            self._taken.add(webhook_id)
        return webhook_id

    def _await_created(self, body: Mapping[str, Any], baseline: Collection[str]) -> str | None:
        """After an unknown outcome: the created webhook, looked for over `settle_seconds`.

        If the API cannot even be listed, nobody can tell whether the webhook
        exists: that is an error that says how to find out, never a blind retry.
        """
        deadline = time.monotonic() + self._settle_seconds
        delay = 0.25
        while True:
            try:
                found = self._find_created(body, baseline)
            except (errors.Unreachable, errors.ServerError, errors.RateLimited) as failure:
                raise errors.AmbiguousCreate(
                    "POST",
                    "/webhooks",
                    None,
                    f"the create's outcome is unknown and the webhooks cannot be listed ({failure.message})",
                    "A webhook may have been created: check `python -m pulumi_webhooks list` and take it "
                    "over with adopt_id, or delete it, before running the deployment again",
                ) from None
            if found is not None or time.monotonic() + delay > deadline:
                return found
            self._pause(delay)
            delay *= 2

    def _find_created(self, body: Mapping[str, Any], baseline: Collection[str]) -> str | None:
        """The id of the webhook this create made, found by listing and matching; None if none is listed."""
        with self._lock:
            excluded = set(baseline) | self._taken
        candidates = [hook.id for hook in self._list() if hook.id not in excluded and hook.looks_like(body)]
        if len(candidates) > 1:
            raise errors.AmbiguousCreate(
                "POST",
                "/webhooks",
                None,
                f"webhooks {', '.join(candidates)} all match the one being created",
                "Nothing more was created. Delete the extra copies in the API, then run the deployment again",
            )
        return candidates[0] if candidates else None


class _Baseline:
    """The webhooks listed before the first create, by id and by match key, so that a
    create's look-alikes are one lookup rather than a scan."""

    def __init__(self, hooks: list[LiveWebhook]) -> None:
        self._keys: dict[str, tuple[Any, ...]] = {}
        self._ids: dict[tuple[Any, ...], set[str]] = {}
        for hook in hooks:
            self._add(hook.id, hook.match_key)

    def ids(self) -> frozenset[str]:
        return frozenset(self._keys)

    def with_key(self, key: tuple[Any, ...]) -> set[str]:
        return set(self._ids.get(key, ()))

    def replace(self, webhook_id: str, key: tuple[Any, ...]) -> None:
        """Only ids of the baseline change: a webhook created since is never a look-alike."""
        if webhook_id in self._keys:
            self.drop(webhook_id)
            self._add(webhook_id, key)

    def drop(self, webhook_id: str) -> None:
        key = self._keys.pop(webhook_id, None)
        if key is not None:
            self._ids[key].discard(webhook_id)

    def _add(self, webhook_id: str, key: tuple[Any, ...]) -> None:
        self._keys[webhook_id] = key
        self._ids.setdefault(key, set()).add(webhook_id)


def _created_without_trace() -> errors.AmbiguousCreate:
    return errors.AmbiguousCreate(
        "POST",
        "/webhooks",
        None,
        "the API reported the webhook created but returned no id, and no new matching webhook is listed",
        "Check the API's webhook list, then run `pulumi refresh` and the deployment again",
    )


def _id_order(webhook_id: str) -> tuple[int, str]:
    """Numeric ids in numeric order, others after them."""
    return (int(webhook_id), "") if webhook_id.isdigit() else (1 << 62, webhook_id)

"""The create protocol: a webhook is created once, whatever happens to the answer.

A create whose answer is lost (a timeout, a reset, a 5xx after the commit) may still have made
the webhook, and a blind retry would make a second one. Every attempt of one create carries the
same Idempotency-Key: an API that honours it (`webhooks:idempotentCreates`) answers a repeat with
the first one's result, so the create is simply sent again. Otherwise the creator looks for the
webhook in the API's list first, and a list may lag writes: it sends the create again only once a
whole list that started `settle_seconds` after the answer was lost does not show it. A create that
answered without an id is looked for the same way, and never sent again.

It never takes as its own a webhook that was there before its first create (those are the
baseline), nor one it already took for another create. A look-alike the baseline lists is read
by id before a create is refused for it: a lagging list may still show one deleted since.
Creates of look-alikes run one at a time, so none takes another's result. It knows the API
only through three functions, which makes it testable without one: `listing`, `read` (by id),
and the `post` each create is given.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from .. import errors
from ..model.live import LiveWebhook, match_key
from .listing import Listing

log = logging.getLogger("pulumi_webhooks.creates")

ATTEMPTS = 5
LONGEST_LOOK_PAUSE = 2.0
"""Seconds between two looks for a create of unknown outcome, at most."""

Post = Callable[[str], "str | None"]
"""Sends the create with the given idempotency key: the new id, None when the answer holds none, or
`OutcomeUnknown`."""
Listings = Callable[["float | None"], Listing]
"""The API's whole list; with a `time.monotonic()`, one that started after it (see `Lister.listing`)."""
Read = Callable[[str], "LiveWebhook | None"]
"""One webhook by id, as the API holds it now; None when it is gone."""


class OutcomeUnknown(errors.WebhooksError):
    """The create was sent but its answer is lost or a 5xx: it may have been made."""


class Creator:
    def __init__(
        self,
        listing: Listings,
        read: Read,
        create_look_alikes: bool = False,
        settle_seconds: float = 10.0,
        keys_honoured: bool = False,
        pause: Callable[[float], None] = time.sleep,
    ) -> None:
        self._listing = listing
        self._read = read
        self._create_look_alikes = create_look_alikes
        self._settle_seconds = settle_seconds
        self._keys_honoured = keys_honoured
        self._pause = pause
        self._baseline: _Baseline | None = None
        self._baseline_lock = threading.Lock()
        self._written: dict[str, tuple[Any, ...] | None] = {}  # what this process made of a webhook: its key, or gone
        self._taken: set[str] = set()  # ids this creator took as its creates' results
        self._lock = threading.Lock()
        self._create_locks: dict[tuple[Any, ...], threading.Lock] = {}

    def create(self, body: Mapping[str, Any], post: Post) -> str:
        """Create the webhook `body` (API names) by calling `post`; its id, never a duplicate."""
        key = uuid.uuid4().hex  # one create, one key: each attempt is the same request to the API
        with self._one_at_a_time(body):
            baseline = self._baseline_ids()
            if not self._create_look_alikes:
                look_alikes = self._look_alikes(body)
                if look_alikes:
                    raise errors.LookAlikeExists(look_alikes)
            for attempt in range(1, ATTEMPTS + 1):
                try:
                    webhook_id = post(key)
                except OutcomeUnknown as unknown:
                    outcome = str(unknown)
                else:
                    if webhook_id is None:  # made, but which one: the list will tell
                        webhook_id = self._look(body, baseline, since=time.monotonic())
                    if webhook_id is None:
                        raise _created_without_trace(self._settle_seconds)
                    return self._claim(webhook_id)
                if not self._keys_honoured:
                    # The create may have committed, or may still commit (a gateway's 504 while the
                    # backend works on): look until a settled list says, before sending it again.
                    log.info("create outcome unknown (%s); looking for the webhook before retrying", outcome)
                    found = self._look(body, baseline, since=time.monotonic())
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
        """A webhook now looks like `body`: that is what a create must not meet, whatever a lagging list says."""
        with self._baseline_lock:
            self._written[webhook_id] = match_key(body)
            if self._baseline is not None:
                self._baseline.replace(webhook_id, match_key(body))

    def deleted(self, webhook_id: str) -> None:
        """A webhook is gone: it is no longer a look-alike of anything, whatever a lagging list says."""
        with self._baseline_lock:
            self._written[webhook_id] = None
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
                self._baseline = _Baseline(self._listing(None).hooks)
                for webhook_id, key in self._written.items():  # newer than a lagging list
                    if key is None:
                        self._baseline.drop(webhook_id)
                    else:
                        self._baseline.replace(webhook_id, key)
            return self._baseline.ids()

    def _look_alikes(self, body: Mapping[str, Any]) -> list[str]:
        """The baseline's webhooks that look like `body`, each confirmed by a read by id."""
        key = match_key(body)
        with self._baseline_lock:
            assert self._baseline is not None
            listed = sorted(self._baseline.with_key(key), key=_id_order)
        confirmed = []
        for webhook_id in listed:
            live = self._read(webhook_id)
            with self._baseline_lock:
                if live is None:
                    self._baseline.drop(webhook_id)
                else:
                    self._baseline.replace(webhook_id, live.match_key)
            if live is not None and live.match_key == key:
                confirmed.append(webhook_id)
        return confirmed

    def _claim(self, webhook_id: str) -> str:
        with self._lock:
            self._taken.add(webhook_id)
        return webhook_id

    def _look(self, body: Mapping[str, Any], baseline: Collection[str], since: float) -> str | None:
        """The webhook this create made, as soon as a list shows it; None once a whole list that started
        `settle_seconds` after `since` does not.

        If the API cannot be listed whole, nobody can tell whether the webhook exists: that is an
        error that says how to find out, never a blind retry.
        """
        settled_at = since + self._settle_seconds
        fresher_than = since
        pause = 0.25
        while True:
            try:
                listing = self._listing(fresher_than)
            except errors.ApiError as failure:
                raise errors.AmbiguousCreate(
                    "POST",
                    "/webhooks",
                    None,
                    f"the create's outcome is unknown and the webhooks cannot be listed ({failure.message})",
                    "A webhook may have been created: check `pulumi-webhooks list` and take it over with "
                    "adopt_id (adoptId in YAML and the SDKs), or delete it, before running the deployment again",
                ) from None
            found = self._find_created(listing, body, baseline)
            if found is not None or listing.started >= settled_at:
                return found
            fresher_than = listing.started
            now = time.monotonic()
            self._pause(max(min(now + pause, settled_at) - now, 0.0))
            pause = min(pause * 2, LONGEST_LOOK_PAUSE)

    def _find_created(self, listing: Listing, body: Mapping[str, Any], baseline: Collection[str]) -> str | None:
        """The id of the webhook this create made, if `listing` shows it."""
        with self._lock:
            excluded = set(baseline) | self._taken
        candidates = [hook.id for hook in listing.hooks if hook.id not in excluded and hook.looks_like(body)]
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

    def __init__(self, hooks: Iterable[LiveWebhook]) -> None:
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


def _created_without_trace(settle_seconds: float) -> errors.AmbiguousCreate:
    return errors.AmbiguousCreate(
        "POST",
        "/webhooks",
        None,
        "the API reported the webhook created but returned no id, and no new matching webhook was listed "
        f"within {settle_seconds:g} s",
        "Check `pulumi-webhooks list` and take the webhook over with adopt_id (adoptId in YAML and the SDKs). "
        "If the API's list lags writes "
        "longer than that, raise webhooks:listSettleSeconds",
    )


def _id_order(webhook_id: str) -> tuple[int, str]:
    """Numeric ids in numeric order, others after them."""
    return (int(webhook_id), "") if webhook_id.isdigit() else (1 << 62, webhook_id)

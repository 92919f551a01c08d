"""The create protocol on its own, with a plain list standing in for the API's webhooks (and, when
told, a list that lags them).

Its HTTP half (lost answers, 5xx after the commit, a server killed mid-create, paged and lagging
lists) is tested against the real server in tests/test_client.py and the fault campaigns.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from pulumi_webhooks import errors
from pulumi_webhooks.api.creates import ATTEMPTS, Creator, OutcomeUnknown
from pulumi_webhooks.api.listing import Listing
from pulumi_webhooks.model.live import LiveWebhook

BODY = {"endpoint": "https://ops.example.com/hook", "authType": "bearer", "isAlertHook": False, "token": "t0k"}
OTHER = {**BODY, "endpoint": "https://ops.example.com/other"}


class Webhooks:
    """The API's webhooks as a list that shows each one `lag` seconds after its create, and a create
    that commits and answers as told."""

    def __init__(self, *existing: dict[str, Any], lag: float = 0.0) -> None:
        self.hooks = [LiveWebhook.of(str(i), body) for i, body in enumerate(existing, start=1)]
        self.made: dict[str, float] = {}  # when each create committed
        self.lag = lag
        self.posts = 0
        self.listings = 0
        self.keys: list[str] = []
        self.gone: set[str] = set()  # deleted, though the list still shows them
        self._lock = threading.Lock()

    def read(self, webhook_id: str) -> LiveWebhook | None:
        with self._lock:
            return next((hook for hook in self.hooks if hook.id == webhook_id and hook.id not in self.gone), None)

    def list(self, fresher_than: float | None = None) -> Listing:
        with self._lock:
            self.listings += 1
            now = time.monotonic()
            shown = [hook for hook in self.hooks if now - self.made.get(hook.id, 0.0) >= self.lag]
            return Listing(tuple(shown), started=now)

    def post(self, body: dict[str, Any], *answers: str) -> Callable[[str], str | None]:
        """Each call answers the next of `answers`: "id", "no id", "lost" (committed) or "refused" (not)."""
        script = iter(answers)

        def post(key: str) -> str | None:
            answer = next(script, answers[-1])
            with self._lock:
                self.posts += 1
                self.keys.append(key)
                if answer == "refused":
                    raise OutcomeUnknown("HTTP 503")
                webhook_id = str(100 + len(self.hooks))
                self.hooks.append(LiveWebhook.of(webhook_id, body))
                self.made[webhook_id] = time.monotonic()
            time.sleep(0.002)  # the answer's way back: other threads' creates may commit meanwhile
            if answer == "lost":
                raise OutcomeUnknown("no response: connection reset")
            return webhook_id if answer == "id" else None

        return post


def creator(api: Webhooks, look_alikes: bool = False) -> Creator:
    return Creator(api.list, api.read, look_alikes, settle_seconds=0.01, pause=lambda _seconds: None)


def test_the_answer_s_id_is_the_result() -> None:
    api = Webhooks(OTHER)
    assert creator(api).create(BODY, api.post(BODY, "id")) == "101"
    assert api.posts == 1


def test_an_answer_without_an_id_is_found_by_listing() -> None:
    api = Webhooks(OTHER)
    assert creator(api).create(BODY, api.post(BODY, "no id")) == "101"


def test_a_lost_answer_is_looked_for_and_found_not_sent_again() -> None:
    api = Webhooks()
    assert creator(api).create(BODY, api.post(BODY, "lost")) == "100"
    assert api.posts == 1


def test_a_create_that_did_not_commit_is_sent_again() -> None:
    api = Webhooks()
    assert creator(api).create(BODY, api.post(BODY, "refused", "refused", "id")) == "100"
    assert api.posts == 3 and len(api.hooks) == 1


def test_it_gives_up_after_its_attempts_and_says_so() -> None:
    api = Webhooks()
    with pytest.raises(errors.ServerError, match=f"failed {ATTEMPTS} times"):
        creator(api).create(BODY, api.post(BODY, "refused"))
    assert api.posts == ATTEMPTS and api.hooks == []


def test_an_existing_look_alike_is_refused_and_named() -> None:
    api = Webhooks(OTHER, BODY, BODY)
    with pytest.raises(errors.LookAlikeExists) as raised:
        creator(api).create(BODY, api.post(BODY, "id"))
    assert raised.value.webhook_ids == ["2", "3"]
    assert api.posts == 0


def test_when_look_alikes_are_allowed_an_old_one_is_never_taken_for_the_new() -> None:
    api = Webhooks(BODY)
    assert creator(api, look_alikes=True).create(BODY, api.post(BODY, "no id")) == "101"
    lost = Webhooks(BODY)
    assert creator(lost, look_alikes=True).create(BODY, lost.post(BODY, "lost")) == "101"


def test_a_look_alike_deleted_or_changed_meanwhile_no_longer_refuses() -> None:
    api = Webhooks(BODY, BODY)
    create = creator(api)
    with pytest.raises(errors.LookAlikeExists):
        create.create(BODY, api.post(BODY, "id"))
    create.deleted("1")
    create.updated("2", OTHER)
    assert create.create(BODY, api.post(BODY, "id")) == "102"


def test_two_new_candidates_are_never_guessed_between() -> None:
    api = Webhooks()
    own = api.post(BODY, "no id")

    def post(key: str) -> str | None:
        api.hooks.append(LiveWebhook.of("50", BODY))  # someone else's, made after the baseline was listed
        return own(key)

    with pytest.raises(errors.AmbiguousCreate, match="webhooks 50, 101 all match"):
        creator(api).create(BODY, post)


def test_an_unlistable_api_after_a_lost_answer_is_an_error_not_a_blind_retry() -> None:
    api = Webhooks()
    calls = {"list": 0}

    def flaky_list(fresher_than: float | None) -> Listing:
        calls["list"] += 1
        if calls["list"] > 1:  # the baseline is listed; the look after the lost answer fails
            raise errors.Unreachable("GET", "/webhooks", None, "connection refused")
        return api.list()

    with pytest.raises(errors.AmbiguousCreate, match="cannot be listed"):
        Creator(flaky_list, api.read, settle_seconds=0.01, pause=lambda _s: None).create(BODY, api.post(BODY, "lost"))
    assert api.posts == 1


def test_concurrent_creates_of_look_alikes_each_take_their_own() -> None:
    api = Webhooks()
    create = creator(api, look_alikes=True)
    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(lambda _: create.create(BODY, api.post(BODY, "no id")), range(16)))
    assert sorted(ids, key=int) == [str(100 + i) for i in range(16)]
    assert api.posts == 16


def test_a_lagging_list_is_looked_at_until_it_shows_the_lost_create() -> None:
    api = Webhooks(lag=0.3)
    create = Creator(api.list, api.read, settle_seconds=2.0, pause=time.sleep)
    assert create.create(BODY, api.post(BODY, "lost")) == "100"
    assert api.posts == 1 and api.listings > 2, "looked more than once, sent once"


def test_a_create_that_did_not_commit_is_sent_again_only_once_the_list_has_settled() -> None:
    api = Webhooks()
    started = time.monotonic()
    create = Creator(api.list, api.read, settle_seconds=0.5, pause=time.sleep)
    assert create.create(BODY, api.post(BODY, "refused", "id")) == "100"
    assert time.monotonic() - started >= 0.5, "not sent again before a list that started 0.5 s later"
    assert api.posts == 2 and len(api.hooks) == 1


def test_a_list_behind_longer_than_the_settle_window_is_the_one_case_that_duplicates() -> None:
    """What webhooks:listSettleSeconds is for: the bound this protocol relies on, shown."""
    api = Webhooks(lag=1.0)
    create = Creator(api.list, api.read, settle_seconds=0.2, pause=time.sleep)
    create.create(BODY, api.post(BODY, "lost", "id"))
    assert api.posts == 2 and len(api.hooks) == 2


def test_an_answer_without_an_id_is_waited_for_but_never_sent_again() -> None:
    api = Webhooks(lag=0.3)
    looking = Creator(api.list, api.read, settle_seconds=2.0, pause=time.sleep)
    assert looking.create(BODY, api.post(BODY, "no id")) == "100"
    hidden = Webhooks(lag=5.0)
    with pytest.raises(errors.AmbiguousCreate, match=r"no new matching webhook was listed within 0\.2 s"):
        Creator(hidden.list, hidden.read, settle_seconds=0.2, pause=time.sleep).create(BODY, hidden.post(BODY, "no id"))
    assert hidden.posts == 1


def test_every_attempt_of_one_create_carries_the_same_idempotency_key_and_another_create_another() -> None:
    api = Webhooks()
    create = creator(api)
    create.create(BODY, api.post(BODY, "refused", "refused", "id"))
    create.create(OTHER, api.post(OTHER, "id"))
    assert len(set(api.keys[:3])) == 1 and api.keys[3] != api.keys[0]


def test_with_keys_honoured_a_lost_create_is_sent_again_without_looking() -> None:
    api = Webhooks()
    create = Creator(api.list, api.read, keys_honoured=True, pause=lambda _s: None)
    create.create(BODY, api.post(BODY, "refused", "id"))
    assert api.listings == 1, "only the baseline: the key makes the second attempt safe"


def test_a_look_alike_that_a_lagging_list_still_shows_after_its_delete_refuses_nothing() -> None:
    api = Webhooks(BODY, OTHER)
    api.gone.add("1")
    assert creator(api).create(BODY, api.post(BODY, "id")) == "102"

"""When a refresh may take webhooks for deleted: one at a time, yes; most of a stack at once, or in
another account, not without the user's word.

A webhook is gone when `GET /webhooks/{id}` answers 404, never because a list left it out. But
when most of a stack's webhooks answer 404 at once, deletions are the least likely reason: the
stack points at another account or API, or its token may not read them. Dropping them would make
the next `up` create every one again, a second copy in the wrong place. So the refresh stops,
says so, and drops nothing, unless `webhooks:allowManyGone` says it is meant.

Each webhook's state records the account it was made in (`apiAccount`: the API's URL and who
signs in, never a secret): one that is missing from an account other than its own is never
dropped either, and a plan made with settings of another account checks first, with one read
by id, that the webhooks are still found there (the engine refreshes with the settings of the
last `up`, so a repointed stack's plan is where it shows first).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..api.settings import ClientSettings, another_account
from ..errors import AccountChanged, ManyGone

if TYPE_CHECKING:
    from ..api.client import WebhooksClient

FEW = 3
"""This many webhooks may go at once, however large a share of the stack they are."""
QUORUM = 8
QUORUM_WAIT_SECONDS = 1.0

ALLOW = (
    "run the refresh again with WEBHOOKS_ALLOW_MANY_GONE=true (or webhooks:allowManyGone set to true for that "
    "run): they are then dropped from state, and the next `up` makes them again"
)
MOVE = (
    "If the stack is meant to move there, run `pulumi up` and then `pulumi refresh` with "
    "WEBHOOKS_ALLOW_MANY_GONE=true: its webhooks are dropped from state, and the next `up` makes them there"
)


def too_many(gone: int, total: int) -> bool:
    """More than half of them, and more than a few."""
    return gone > FEW and gone * 2 > total


def check_account(recorded: Any, settings: ClientSettings, what: str) -> None:
    """Raises `AccountChanged` when `what`, missing now, was made in another account than the settings'."""
    current = settings.account()
    if settings.allow_many_gone or not another_account(recorded, current):
        return
    raise _account_changed(what, recorded, current, "dropped from state")


def check_still_there(recorded: Any, client: WebhooksClient, webhook_id: str, what: str) -> None:
    """Before a plan: when state says `what` was made in another account than the settings', raises
    `AccountChanged` unless webhook `webhook_id` is found by id in this one (a new address or user
    name of the same account, say: then the two are one account for the rest of the process)."""
    current = client.settings.account()
    if client.settings.allow_many_gone or not another_account(recorded, current):
        return
    same = (_shown(recorded), _shown(current))
    if same in _same_accounts:
        return
    if client.get(webhook_id) is not None:
        _same_accounts.add(same)
        return
    raise _account_changed(what, recorded, current, "changed")


_same_accounts: set[tuple[str, str]] = set()
"""(recorded, current) accounts a webhook was found in both of: one account, whatever their names."""


def _account_changed(what: str, recorded: Any, current: Mapping[str, Any], untouched: str) -> AccountChanged:
    return AccountChanged(
        f"{what} not found at {_shown(current)}, but made at {_shown(recorded)}: the stack points at another "
        f"account or API than the one that holds its webhooks. Nothing was {untouched}. Set webhooks:apiUrl and "
        f"the credentials back. {MOVE}"
    )


def check_share(gone: int, total: int, examples: list[str], settings: ClientSettings, what: str) -> None:
    """Raises `ManyGone` when `gone` webhooks (`examples` of them named) are too large a share of the `total`
    read, `what` they are."""
    if settings.allow_many_gone or not too_many(gone, total):
        return
    shown = ", ".join(examples[:5]) + (f" and {gone - 5} more" if gone > 5 else "")
    raise ManyGone(
        f"{gone} of the {total} {what} are not found in the API at {_shown(settings.account())} "
        f"({shown}): so many at once is more likely another account or API, or a token that may not read "
        f"them, than deletions. Nothing was dropped from state. If they were deleted, {ALLOW}"
    )


class ReadTally:
    """The per-webhook reads of one connection in this provider process: how many found their webhook,
    how many did not. A refresh reads each `Webhook` in a call of its own, so whether one that is gone
    is one of many is known only here: a read that finds its webhook gone waits (briefly) for a few
    others before it says so."""

    def __init__(self) -> None:
        self.found = 0
        self.gone = 0
        self._changed = threading.Condition()

    def saw_found(self) -> None:
        with self._changed:
            self.found += 1
            self._changed.notify_all()

    def saw_gone(self) -> tuple[int, int]:
        """Counts one gone, waits for a quorum of reads (or a moment), and returns (gone, read)."""
        with self._changed:
            self.gone += 1
            self._changed.notify_all()
            self._changed.wait_for(lambda: self.found + self.gone >= QUORUM, timeout=QUORUM_WAIT_SECONDS)
            return self.gone, self.found + self.gone


_tallies: dict[str | None, ReadTally] = {}
_tallies_lock = threading.Lock()


def tally(connection: str | None) -> ReadTally:
    with _tallies_lock:
        return _tallies.setdefault(connection, ReadTally())


def _shown(account: Mapping[str, Any]) -> str:
    principal = account.get("principal")
    return f"{account.get('apiUrl')}" + (f" as {principal}" if principal else "")

"""How `GET /webhooks` answers: in pages, in one of the styles real APIs use, and from a view
that may lag behind writes, as a read replica or a search index does.

The vendor documents no listing at all; these are the shapes a client meets elsewhere:

| style | asks with | answers |
|---|---|---|
| `none` | - | the whole list, a JSON list (the default) |
| `link` | `page`, `per_page` | a JSON list; `Link: <...>; rel="next"` while there is more (GitHub) |
| `cursor` | `cursor`, `limit` | `{"items", "nextCursor", "hasMore"}` |
| `next-url` | `page`, `page_size` | `{"count", "next", "previous", "results"}`, `next` a URL (Django REST framework) |
| `has-more` | `starting_after`, `limit` | `{"object": "list", "data", "has_more", "url"}` (Stripe) |
| `page` | `page`, `pageSize` | `{"items", "page", "pageSize", "totalCount"}` |
| `offset` | `offset`, `limit` | `{"items", "offset", "limit", "total"}` |

A page holds `page_size` webhooks unless the client asks for another size; a size above
`page_max` is cut to it, as most APIs do. Reads by id are never lagged: a webhook's absence is
proven by `GET /webhooks/{id}`, never by a listing.
"""

from __future__ import annotations

import base64
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from .store import WebhookRow

PAGE_STYLES = ("none", "link", "cursor", "next-url", "has-more", "page", "offset")


@dataclass(frozen=True)
class ListingConfig:
    page_style: str = "none"
    page_size: int = 30
    page_max: int = 100
    lag_seconds: float = 0.0
    # A bug some APIs have: the last page's next link or cursor leads back to the first page.
    page_loop: bool = False
    # Refuse a size above `page_max` with a 400, as Stripe does, rather than cut it.
    page_max_refused: bool = False


class BadListRequest(Exception):
    """A paging parameter the server cannot take: answered 400 with this message."""


@dataclass(frozen=True)
class Page:
    body: Any
    headers: dict[str, str]


Render = Callable[[WebhookRow], dict[str, Any]]


def page_of(config: ListingConfig, rows: list[WebhookRow], args: Mapping[str, str], url: str, render: Render) -> Page:
    """The page of `rows` (the account's webhooks, by id) that `args` (the query) asks for;
    `url` is the route's absolute URL, for next links."""
    style = config.page_style
    if style == "none":
        return Page([render(row) for row in rows], {})
    if style in ("link", "next-url", "page"):
        return _numbered(config, rows, args, url, render)
    if style in ("cursor", "has-more"):
        return _after(config, rows, args, render)
    return _offset(config, rows, args, render)


def _numbered(config: ListingConfig, rows: list[WebhookRow], args: Mapping[str, str], url: str, render: Render) -> Page:
    size_name = {"link": "per_page", "next-url": "page_size", "page": "pageSize"}[config.page_style]
    size = _size(config, args, size_name)
    page = _number(args, "page", default=1, lowest=1)
    last = max(1, math.ceil(len(rows) / size))
    total = len(rows)
    if config.page_loop:  # one page more than there is, and that page is the first again
        last, total = last + 1, total + size
        if page == last:
            page = 1
    shown = [render(row) for row in rows[(page - 1) * size : page * size]]
    next_page = page + 1 if page < last else None
    # Like GitHub, a link repeats the page size only when the client gave one.
    kept = {size_name: str(size)} if size_name in args else {}

    def link(number: int) -> str:
        return f"{url}?{urlencode({'page': number, **kept})}"

    if config.page_style == "link":
        rels = {"next": next_page, "last": last, "first": 1 if page > 1 else None, "prev": page - 1 or None}
        header = ", ".join(f'<{link(n)}>; rel="{rel}"' for rel, n in rels.items() if n is not None)
        return Page(shown, {"Link": header} if header else {})
    if config.page_style == "next-url":
        previous = link(page - 1) if page > 1 else None
        return Page(
            {"count": total, "next": link(next_page) if next_page else None, "previous": previous, "results": shown}, {}
        )
    return Page({"items": shown, "page": page, "pageSize": size, "totalCount": total}, {})


def _after(config: ListingConfig, rows: list[WebhookRow], args: Mapping[str, str], render: Render) -> Page:
    """Keyset pages: the webhooks after a position (an id, or a cursor that encodes one)."""
    size = _size(config, args, "limit")
    if config.page_style == "cursor":
        after = _cursor_position(args.get("cursor"))
    else:
        after = _number(args, "starting_after", default=0, lowest=0)
    rest = [row for row in rows if row.id > after]
    shown = rest[:size]
    more = len(rest) > size
    if config.page_style == "cursor":
        next_cursor = _cursor(shown[-1].id) if more and shown else None
        if config.page_loop and not more and after:
            next_cursor = _cursor(0)  # back to the start
        body = {"items": [render(row) for row in shown], "nextCursor": next_cursor, "hasMore": next_cursor is not None}
        return Page(body, {})
    return Page({"object": "list", "data": [render(row) for row in shown], "has_more": more, "url": "/webhooks"}, {})


def _offset(config: ListingConfig, rows: list[WebhookRow], args: Mapping[str, str], render: Render) -> Page:
    size = _size(config, args, "limit")
    offset = _number(args, "offset", default=0, lowest=0)
    total = len(rows)
    if config.page_loop:  # claims one page more than there is, and serves the first as that page
        total += size
        offset = 0 if offset >= len(rows) else offset
    shown = [render(row) for row in rows[offset : offset + size]]
    return Page({"items": shown, "offset": offset, "limit": size, "total": total}, {})


def _size(config: ListingConfig, args: Mapping[str, str], name: str) -> int:
    if name not in args:
        return config.page_size
    asked = _number(args, name, default=config.page_size, lowest=1)
    if asked > config.page_max and config.page_max_refused:
        raise BadListRequest(f"{name} must be at most {config.page_max}")
    return min(asked, config.page_max)


def _number(args: Mapping[str, str], name: str, default: int, lowest: int) -> int:
    raw = args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < lowest or len(raw) > 18:
        raise BadListRequest(f"{name} must be a whole number from {lowest}")
    return int(raw)


def _cursor(after: int) -> str:
    return base64.urlsafe_b64encode(f"after:{after}".encode()).decode().rstrip("=")


def _cursor_position(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except ValueError:
        text = ""
    prefix, _, number = text.partition(":")
    if prefix != "after" or not number.isdigit():
        raise BadListRequest("cursor is not one this server gave")
    return int(number)


class LaggingView:
    """The account's webhooks as a list shows them: as they were `lag` seconds ago.

    Every write is logged with the row it replaced (None for a create); a list undoes the
    writes younger than the lag, newest first. The log lives in memory: after a restart the
    view has caught up, as a replica would have.
    """

    def __init__(self, lag: float) -> None:
        self.lag = lag
        self._log: deque[tuple[float, str, int, WebhookRow | None]] = deque()
        self._lock = threading.Lock()
        self.writing = threading.Lock()
        """Held around a write and its log entry, so that the log's order is the store's."""

    def record(self, account: str, webhook_id: int, before: WebhookRow | None) -> None:
        if self.lag <= 0:
            return
        now = time.monotonic()
        with self._lock:
            self._log.append((now, account, webhook_id, before))
            while self._log and self._log[0][0] < now - self.lag:
                self._log.popleft()

    def as_listed(self, account: str, rows: list[WebhookRow]) -> list[WebhookRow]:
        """`rows`, the account's webhooks now, as a list `lag` seconds behind shows them."""
        if self.lag <= 0:
            return rows
        cutoff = time.monotonic() - self.lag
        with self._lock:
            recent = [entry for entry in self._log if entry[0] >= cutoff and entry[1] == account]
        by_id = {row.id: row for row in rows}
        for _, _, webhook_id, before in reversed(recent):
            if before is None:
                by_id.pop(webhook_id, None)
            else:
                by_id[webhook_id] = before
        return [by_id[webhook_id] for webhook_id in sorted(by_id)]

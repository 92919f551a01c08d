"""The account's whole list of webhooks, however the API pages it: `Lister`.

The vendor documents no listing. Real APIs page theirs, each its own way, and may serve them
from a replica that lags writes. So a listing here is a hint, never proof that a webhook is
gone (only `GET /webhooks/{id}` is), and it is whole or it is an error:

- The style is read off the first answer (or set by `webhooks:listPaging`): an RFC 8288
  `Link: <...>; rel="next"` header; an envelope with a next URL, a cursor, a `hasMore`, a page
  number and a total, or an offset and a total; or one plain list.
- Once the style shows which parameter sets the page size, pages are asked at
  `webhooks:listPageSize` (the API cuts what it does not allow): the first listing of a
  process reads one page at the API's default size, then starts again at that size.
- It follows to the end. A next page asked for twice, a page of webhooks already seen, more
  than `webhooks:listMaxPages` pages, a next page on another host, or a total it cannot reach
  is an `IncompleteListing`, never a short list: callers must not read absence into it.
- Many threads share one walk: a caller that needs a listing fresher than a moment gets the
  one under way if it started after that moment.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import requests

from .. import errors
from ..model.live import LiveWebhook, id_of
from .settings import LIST_STYLES, ClientSettings
from .transport import Transport

PATH = "/webhooks"

# Where envelopes keep what paging needs, by the names the APIs we know use: at the top, or
# one level down in one of NESTS.
ITEMS = ("webhooks", "hooks", "data", "items", "results", "content", "records", "values")
NESTS = ("meta", "pagination", "paging", "page", "pageInfo", "page_info", "links", "_links", "response_metadata")
NEXT_URLS = ("next", "nextUrl", "next_url", "nextLink", "next_link", "@odata.nextLink", "next_page_url", "nextPageUrl")
CURSORS = {  # the answer's name -> the parameter that asks for the page after it
    "nextCursor": "cursor",
    "next_cursor": "cursor",
    "nextPageToken": "pageToken",
    "next_page_token": "page_token",
    "nextToken": "nextToken",
    "continuationToken": "continuationToken",
    "endCursor": "after",
    "next": "cursor",
}
HAS_MORE = ("hasMore", "has_more", "hasNextPage", "has_next_page")
PAGE_NUMBERS = {"page": "page", "pageNumber": "pageNumber", "page_number": "page_number", "currentPage": "page",
                "current_page": "page", "number": "page"}  # fmt: skip
OFFSETS = ("offset", "skip", "start")
SIZES = ("pageSize", "page_size", "per_page", "perPage", "limit", "size", "pagelen", "maxResults", "max_results")
TOTALS = ("totalCount", "total_count", "total", "totalItems", "total_items", "totalElements", "total_elements",
          "totalResults", "count")  # fmt: skip
PAGE_COUNTS = ("totalPages", "total_pages", "pageCount", "page_count", "lastPage", "last_page")
TOTAL_HEADERS = ("X-Total-Count", "X-Total")
# The parameter each style asks a page size with, when the answer names none.
SIZE_PARAMS = {"link": "per_page", "next-url": "page_size", "cursor": "limit", "has-more": "limit",
               "page": "per_page", "offset": "limit"}  # fmt: skip
STYLE_NAMES = {
    "link": "Link headers (rel=next)",
    "next-url": "a next-page URL in the body",
    "cursor": "a cursor in the body",
    "has-more": "has-more with the last id",
    "page": "page numbers with a total",
    "offset": "offsets with a total",
}


@dataclass(frozen=True)
class Listing:
    """Every webhook the API listed, from first page to last."""

    hooks: tuple[LiveWebhook, ...]
    started: float
    """`time.monotonic()` when the first page was asked for: the list shows no earlier state than that
    (a lagging API's shows the state of some seconds before)."""
    pages: int = 1
    style: str = "none"
    page_size: int | None = None
    """Webhooks on a full page, when there was more than one page."""
    asked: str | None = None
    """The page size asked for, as sent (`pageSize=100`), if one was."""

    def describe(self) -> str:
        """How the API listed, for `list` and `doctor`: 'paged by page numbers with a total: 3 pages of up to 100
        (asked pageSize=100)'."""
        if self.style == "none":
            return "not paged"
        pages = f"{self.pages} pages of up to {self.page_size}" if self.pages > 1 else "1 page"
        return f"paged by {STYLE_NAMES[self.style]}: {pages}" + (f" (asked {self.asked})" if self.asked else "")


@dataclass(frozen=True)
class _Paging:
    """How the account pages: set in config, or learned from an answer."""

    style: str
    size_param: str | None = None
    position_param: str | None = None
    size_refused: bool = False
    """The API refused a page size: never ask one again."""


@dataclass
class _Page:
    """One answer, read: its webhooks, and how to ask for the next page (None: this is the last)."""

    items: list[dict[str, Any]]
    style: str
    next: str | dict[str, str] | None = None
    """A URL to follow, or parameters to ask the route with."""
    size_param: str | None = None
    claims_more: str = ""
    """What in the answer says there is more although it gives no way to it."""


@dataclass
class _Walk:
    """One listing under way: what it asked and what it saw."""

    base: dict[str, str]
    """The parameters of every page: the page size, when asked."""
    params: dict[str, str] | None = None
    """The parameters of the page being read; None when it was a URL the API gave."""
    ids: dict[str, LiveWebhook] = field(default_factory=dict)
    asked: set[str] = field(default_factory=set)
    pages: int = 0
    largest: int = 0
    first_number: int | None = None
    """The first page's number, as the answer gave it: 0 or 1."""


class Lister:
    def __init__(self, transport: Transport, settings: ClientSettings) -> None:
        self._transport = transport
        self._settings = settings
        configured = settings.list_paging
        self._paging: _Paging | None = None if configured == "auto" else _configured(settings)
        self._lock = threading.Lock()
        self._running: tuple[float, Future[Listing]] | None = None
        self._last: Listing | None = None

    def listing(self, fresher_than: float | None = None) -> Listing:
        """The whole list. With `fresher_than` (a `time.monotonic()`), any listing that started after
        that moment will do: one under way is waited for rather than walked again."""
        shared: Future[Listing] | None = None
        with self._lock:
            if fresher_than is not None and self._last is not None and self._last.started > fresher_than:
                return self._last
            if fresher_than is not None and self._running is not None and self._running[0] > fresher_than:
                shared = self._running[1]
            else:
                own: Future[Listing] = Future()
                started = time.monotonic()
                self._running = (started, own)
        if shared is not None:
            return shared.result()  # the walk's own bounds (timeouts, retries, pages) bound the wait
        try:
            result = self._walk(started)
        except BaseException as failure:
            own.set_exception(failure)
            raise
        finally:
            with self._lock:
                if self._running is not None and self._running[1] is own:
                    self._running = None
        with self._lock:
            if self._last is None or self._last.started < started:
                self._last = result
        own.set_result(result)
        return result

    def _walk(self, started: float) -> Listing:
        # At most three walks: one that learns the style, one at the largest page, and one without a
        # page size if the API refuses it.
        for _ in range(3):
            paging = self._paging
            try:
                return self._follow(started, paging, sized=paging is not None and paging.size_param is not None)
            except _AskUnsized:
                assert paging is not None
                self._paging = replace(paging, size_param=None, size_refused=True)
            except _AskSized:
                pass  # the first page showed the style: self._paging holds it
        raise AssertionError("a listing restarted more than twice")

    def _follow(self, started: float, paging: _Paging | None, sized: bool) -> Listing:
        """One walk from the first page to the last."""
        size_param = paging.size_param if paging is not None else None
        style = paging.style if paging is not None else "none"  # until a page shows a next one
        walk = _Walk(base={size_param: str(self._settings.list_page_size)} if sized and size_param else {})
        walk.params = dict(walk.base)
        target = _path(walk.params)
        while True:
            walk.asked.add(target)
            response, payload = self._get(target, sized and walk.pages == 0)
            page = _read(response, payload, paging, walk)
            walk.pages += 1
            self._take(page, walk, target)
            if paging is None and page.style != "none":
                style = page.style
            if page.next is None:
                if page.claims_more:
                    raise _incomplete(f"{page.claims_more}, and gives no way to the next page", paging_hint=True)
                break
            if walk.pages == 1 and (paging is None or (paging.size_param is None and not paging.size_refused)):
                # Paged, and the style is now known: remember it, and ask larger pages if it shows how.
                position = paging.position_param if paging is not None else None
                learned = _Paging(style, page.size_param or SIZE_PARAMS.get(style), position)
                self._paging = learned
                if learned.size_param and self._settings.list_page_size > len(page.items):
                    raise _AskSized()
            if isinstance(page.next, dict):
                walk.params = {**walk.base, **page.next}
                target = _path(walk.params)
            else:
                walk.params = None
                target = self._within_api(page.next, walk.base)
            if target in walk.asked:
                raise _incomplete(f"the API gave page {walk.pages + 1} as the same request as an earlier one "
                                  f"({target}): its list goes round in a loop")  # fmt: skip
            if walk.pages >= self._settings.list_max_pages:
                raise _incomplete(
                    f"the list is longer than {self._settings.list_max_pages} pages",
                    "Raise webhooks:listMaxPages, or webhooks:listPageSize if the API allows larger pages",
                )
        return Listing(
            hooks=tuple(walk.ids.values()),
            started=started,
            pages=walk.pages,
            style=style,
            page_size=walk.largest if walk.pages > 1 else None,
            asked=urlencode(walk.base) or None,
        )

    def _get(self, target: str, may_refuse_size: bool) -> tuple[requests.Response, Any]:
        try:
            response = self._transport.send("GET", target)
            return response, self._transport.payload("GET", PATH, response)
        except errors.ValidationFailed:
            if may_refuse_size:  # the API takes no page size (or not ours): ask as it likes
                raise _AskUnsized() from None
            raise

    def _take(self, page: _Page, walk: _Walk, target: str) -> None:
        new = 0
        for item in page.items:
            hook = LiveWebhook.from_api(item)
            if hook is not None and hook.id not in walk.ids:
                walk.ids[hook.id] = hook
                new += 1
        walk.largest = max(walk.largest, len(page.items))
        if page.items and not new and walk.pages > 1:
            raise _incomplete(
                f"page {walk.pages} ({target}) holds only webhooks of earlier pages: the API ignores the paging "
                "parameters it was asked with",
                paging_hint=True,
            )

    def _within_api(self, url: str, base: dict[str, str]) -> str:
        """The path of a next-page URL under the API's base URL, never another host's (it would be sent
        this client's credentials), with the page size asked if the URL forgot it."""
        api = urlsplit(self._transport.base)
        full = urlsplit(urljoin(self._transport.base + PATH, url))
        same_host = (full.scheme, full.hostname, full.port or _port(full.scheme)) == (
            api.scheme,
            api.hostname,
            api.port or _port(api.scheme),
        )
        if not same_host or not full.path.startswith(api.path.rstrip("/") + "/"):
            raise _incomplete(
                f"the API's next page is at {full.scheme}://{full.netloc}{full.path}, outside {self._transport.base}: "
                "this client sends its credentials nowhere else",
                "Ask the API's owner why; if the API moved, set webhooks:apiUrl to its new address",
            )
        query = dict(parse_qsl(full.query, keep_blank_values=True))
        forgotten = {name: value for name, value in base.items() if name not in query}
        query_text = "&".join(part for part in (full.query, urlencode(forgotten)) if part)
        return full.path[len(api.path.rstrip("/")) :] + (f"?{query_text}" if query_text else "")


class _AskSized(errors.WebhooksError):
    """The first page showed the style and how to ask for larger pages: start again so."""


class _AskUnsized(errors.WebhooksError):
    """The API refused the page size: ask without one."""


def _configured(settings: ClientSettings) -> _Paging:
    """The paging set in config; unless named, the size parameter is read off the first answer."""
    return _Paging(settings.list_paging, settings.list_size_param, settings.list_page_param)


def _path(params: Mapping[str, str]) -> str:
    return PATH + (f"?{urlencode(params)}" if params else "")


def _port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def _read(response: requests.Response, payload: Any, paging: _Paging | None, walk: _Walk) -> _Page:
    """What one answer holds and where the next page is: by `paging` when it is known, else by what
    the answer shows."""
    style = paging.style if paging is not None else "auto"
    items, envelope = _items(payload)
    seen = len(walk.ids) + len(items)
    link = response.links.get("next", {}).get("url")
    if style in ("auto", "link") and link:
        return _Page(items, "link", next=link, size_param=_size_in(link))
    if style == "link":
        return _Page(items, "link")
    fields = dict(_fields(envelope)) if envelope is not None else {}
    next_url = next((url for name in NEXT_URLS if (url := _url(fields.get(name)))), None)
    if style in ("auto", "next-url") and next_url:
        return _Page(items, "next-url", next=next_url, size_param=_size_in(next_url))
    has_more = next((fields[name] for name in HAS_MORE if isinstance(fields.get(name), bool)), None)
    cursor = next((name for name in CURSORS if _cursor(fields.get(name))), None)
    if style == "cursor" or (style == "auto" and cursor is not None):
        if cursor is None or has_more is False:
            return _Page(items, "cursor", claims_more="the API says it has more" if has_more else "")
        param = (paging.position_param if paging else None) or CURSORS[cursor]
        return _Page(items, "cursor", next={param: str(fields[cursor])}, size_param=_size_name(fields))
    numbered = _number_in(fields, PAGE_NUMBERS)
    if style == "has-more" or (style == "auto" and has_more is not None and numbered is None):
        last = id_of(items[-1]) if items else None
        if not has_more or last is None:
            return _Page(items, "has-more", claims_more="the API says it has more" if has_more else "")
        param = (paging.position_param if paging else None) or "starting_after"
        return _Page(items, "has-more", next={param: last}, size_param=_size_name(fields))
    total = _number_in(fields, TOTALS)
    pages = _number_in(fields, PAGE_COUNTS)
    offset = _number_in(fields, OFFSETS)
    counted = total is not None or pages is not None or has_more is not None
    if style == "page" or (style == "auto" and numbered is not None and counted):
        return _Page(items, "page", next=_next_number(items, fields, paging, walk), size_param=_size_name(fields))
    if style == "offset" or (style == "auto" and offset is not None and counted):
        return _Page(items, "offset", next=_next_offset(items, fields, paging, walk), size_param=_size_name(fields))
    if has_more:
        return _Page(items, "none", claims_more="the API says it has more")
    if total is None and envelope is None:
        header = next((response.headers[h] for h in TOTAL_HEADERS if h in response.headers), "")
        total = ("header", int(header)) if header.isdigit() else None
    if total is not None and total[1] > seen:
        return _Page(items, "none", claims_more=f"the API lists {seen} webhooks but says its total is {total[1]}")
    return _Page(items, "none")


def _more(items: list[dict[str, Any]], fields: Mapping[str, Any], walk: _Walk) -> bool:
    """Whether a page counted by number or offset has a next: by the total, the flag, or (with neither)
    while pages come full."""
    total = _number_in(fields, TOTALS)
    if total is not None:
        return len(walk.ids) + len(items) < total[1]
    has_more = next((fields[name] for name in HAS_MORE if isinstance(fields.get(name), bool)), None)
    if has_more is not None:
        return bool(has_more)
    return bool(items) and len(items) >= walk.largest


def _next_number(
    items: list[dict[str, Any]], fields: Mapping[str, Any], paging: _Paging | None, walk: _Walk
) -> dict[str, str] | None:
    echoed = _number_in(fields, PAGE_NUMBERS)
    param = (paging.position_param if paging else None) or (PAGE_NUMBERS[echoed[0]] if echoed else "page")
    current = echoed[1] if echoed else int((walk.params or {}).get(param, "1"))
    if walk.first_number is None:
        walk.first_number = current
    pages = _number_in(fields, PAGE_COUNTS)
    more = current - walk.first_number + 1 < pages[1] if pages is not None else _more(items, fields, walk)
    return {param: str(current + 1)} if more and items else None


def _next_offset(
    items: list[dict[str, Any]], fields: Mapping[str, Any], paging: _Paging | None, walk: _Walk
) -> dict[str, str] | None:
    echoed = _number_in(fields, OFFSETS)
    param = (paging.position_param if paging else None) or (echoed[0] if echoed else "offset")
    current = echoed[1] if echoed else int((walk.params or {}).get(param, "0"))
    return {param: str(current + len(items))} if _more(items, fields, walk) and items else None


def items_of(payload: Any) -> list[dict[str, Any]]:
    """The webhooks one answer of `GET /webhooks` lists, as the API wrote them."""
    return _items(payload)[0]


def _items(payload: Any) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The listed webhooks, and the envelope they came in (None for a plain list)."""
    if isinstance(payload, list):
        return [item for item in payload if isinstance(item, dict)], None
    if not isinstance(payload, dict):
        raise errors.ServerError("GET", PATH, 200, "the answer is not a JSON list, nor an object holding one")
    key = next((k for k in ITEMS if isinstance(payload.get(k), list)), None)
    key = key or next((k for k, v in payload.items() if isinstance(v, list)), None)
    if key is None:
        raise errors.ServerError("GET", PATH, 200, "the answer is an object without a list of webhooks")
    return [item for item in payload[key] if isinstance(item, dict)], payload


def _fields(envelope: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """The envelope's fields, nested ones (`meta.total`, `_links.next.href`) after the top's, first name wins."""
    for nest in reversed(NESTS):
        inner = envelope.get(nest)
        if isinstance(inner, dict):
            for name, value in inner.items():
                yield name, value.get("href") if isinstance(value, dict) else value
    yield from ((name, value) for name, value in envelope.items() if not isinstance(value, (dict, list)))


def _url(value: Any) -> str | None:
    """A next-page URL or path, as APIs give them."""
    if isinstance(value, str) and value.startswith(("http://", "https://", "/", "?")):
        return value
    return None


def _cursor(value: Any) -> bool:
    return isinstance(value, str) and bool(value) and _url(value) is None


def _number_in(fields: Mapping[str, Any], names: Any) -> tuple[str, int] | None:
    """The first of `names` the fields hold as a whole number, and that number."""
    for name in names:
        value = fields.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            return name, value
        if isinstance(value, str) and value.isdigit():
            return name, int(value)
    return None


def _size_name(fields: Mapping[str, Any]) -> str | None:
    """The page size's name, when the answer echoes it: the parameter that asks it, by convention."""
    found = _number_in(fields, SIZES)
    return found[0] if found else None


def _size_in(url: str) -> str | None:
    query = dict(parse_qsl(urlsplit(url).query))
    return next((name for name in SIZES if name in query), None)


def _incomplete(what: str, hint: str = "", paging_hint: bool = False) -> errors.IncompleteListing:
    if paging_hint:
        hint = (
            "Nothing was taken for missing. Set webhooks:listPaging to the API's paging style "
            f"({', '.join(LIST_STYLES[1:])}), and webhooks:listPageParam / listPageSizeParam to its parameters"
        )
    return errors.IncompleteListing("GET", PATH, 200, f"the webhook list is not whole: {what}", hint)

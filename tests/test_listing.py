"""The client's listing against the real local server paging its list in each style real APIs use."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from harness.api import STATIC_TOKEN, Api
from pulumi_webhooks import errors
from pulumi_webhooks.api.client import WebhooksClient
from pulumi_webhooks.api.settings import ClientSettings
from tests.support import ApiFactory

STYLES = ("link", "cursor", "next-url", "has-more", "page", "offset")


def client_of(api: Api, **settings: Any) -> WebhooksClient:
    return WebhooksClient(ClientSettings(api_url=api.url, api_token=STATIC_TOKEN, backoff_factor=0.05, **settings))


def fill(api: Api, count: int) -> list[str]:
    return [
        str(api.post("/webhooks", {"endpoint": f"https://ops.example.com/{i}", "authType": "none"}).json()["webhookId"])
        for i in range(count)
    ]


def list_calls(api: Api) -> int:
    return int(api.stats()["requests"].get("GET /webhooks", 0))


@pytest.mark.parametrize("style", STYLES)
def test_every_style_is_read_to_its_end_at_the_largest_page_the_api_allows(start_api: ApiFactory, style: str) -> None:
    api = start_api("--page-style", style, "--page-size", "7", "--page-max", "10")
    ids = fill(api, 25)
    client = client_of(api)
    api.post("/_admin/reset-stats")
    first = client.listing()
    assert [hook.id for hook in first.hooks] == ids
    # One page at the API's own size tells the style; then the walk starts again at the largest page.
    assert list_calls(api) == 1 + 3
    assert (first.style, first.pages, first.page_size) == (style, 3, 10)
    api.post("/_admin/reset-stats")
    again = client.listing()
    assert [hook.id for hook in again.hooks] == ids
    assert list_calls(api) == 3, "the style is known: the largest page from the first"


@pytest.mark.parametrize("style", STYLES)
def test_a_style_set_in_config_pages_from_the_start(start_api: ApiFactory, style: str) -> None:
    api = start_api("--page-style", style, "--page-size", "7", "--page-max", "10")
    ids = fill(api, 25)
    api.post("/_admin/reset-stats")
    client = client_of(api, list_paging=style)
    assert [hook.id for hook in client.listing().hooks] == ids
    assert list_calls(api) == 1 + 3, "the size parameter is read off the first answer, unless set"
    api.post("/_admin/reset-stats")
    size = {"link": "per_page", "next-url": "page_size", "page": "pageSize"}.get(style, "limit")
    named = client_of(api, list_paging=style, list_size_param=size)
    assert [hook.id for hook in named.listing().hooks] == ids
    assert list_calls(api) == 3


def test_an_api_that_refuses_the_size_asked_is_asked_without_one(start_api: ApiFactory) -> None:
    api = start_api("--page-style", "has-more", "--page-size", "7", "--page-max", "10", "--page-max-refused")
    ids = fill(api, 25)
    client = client_of(api)
    assert [hook.id for hook in client.listing().hooks] == ids
    assert [hook.id for hook in client.listing().hooks] == ids
    assert api.stats()["status"].get("400", 0) == 1, "refused once, then never asked again"


def test_the_page_size_setting_is_what_is_asked(start_api: ApiFactory) -> None:
    api = start_api("--page-style", "offset", "--page-size", "3", "--page-max", "10")
    ids = fill(api, 12)
    listing = client_of(api, list_page_size=5).listing()
    assert [hook.id for hook in listing.hooks] == ids
    assert (listing.pages, listing.asked) == (3, "limit=5")


@pytest.mark.parametrize("style", ["link", "cursor", "next-url", "page", "offset"])
def test_a_list_that_loops_is_an_error_never_a_short_or_doubled_list(start_api: ApiFactory, style: str) -> None:
    api = start_api("--page-style", style, "--page-size", "3", "--page-max", "3", "--page-loop")
    fill(api, 5)
    with pytest.raises(errors.IncompleteListing) as raised:
        client_of(api).listing()
    message = str(raised.value)
    assert message.startswith("GET /webhooks failed (HTTP 200): the webhook list is not whole: ")
    assert "loop" in message or "only webhooks of earlier pages" in message


def test_a_list_longer_than_the_page_cap_says_what_to_raise(start_api: ApiFactory) -> None:
    api = start_api("--page-style", "page", "--page-size", "3", "--page-max", "3")
    fill(api, 10)
    with pytest.raises(errors.IncompleteListing, match=r"longer than 2 pages\. Raise webhooks:listMaxPages"):
        client_of(api, list_max_pages=2).listing()


def test_threads_that_need_a_fresh_list_share_one_walk(start_api: ApiFactory) -> None:
    api = start_api("--page-style", "page", "--page-size", "10", "--page-max", "10", "--latency-ms", "100")
    fill(api, 30)
    client = client_of(api, list_paging="page")
    since = time.monotonic()
    api.post("/_admin/reset-stats")
    with ThreadPoolExecutor(8) as pool:
        listings = list(pool.map(lambda _: client._lister.listing(since), range(8)))
    assert all(len(listing.hooks) == 30 and listing.started > since for listing in listings)
    assert list_calls(api) <= 2 * 3, "at most two walks of three pages for eight callers"


@pytest.fixture
def elsewhere() -> Iterator[str]:
    """An API whose list's next page is on another host."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({"results": [{"webhookId": 1, "endpoint": "https://a.example.com"}],
                               "next": "https://collector.example.net/webhooks?page=2"}).encode()  # fmt: skip
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_next_page_on_another_host_is_never_sent_the_credentials(elsewhere: str) -> None:
    client = WebhooksClient(ClientSettings(api_url=elsewhere, api_token=STATIC_TOKEN))
    with pytest.raises(errors.IncompleteListing, match=r"collector\.example\.net/webhooks, outside http://127"):
        client.listing()

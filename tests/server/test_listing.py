"""How the server lists: each paging style, page sizes, a lagging list, idempotency keys."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from .support import STATIC_TOKEN, TIMEOUT, StartServer, assert_json_error, bearer

AUTH = bearer(STATIC_TOKEN)


def _hook(i: int) -> dict[str, Any]:
    return {"endpoint": f"https://hooks.example.test/{i}", "authType": "bearer", "token": f"t0ken-{i}"}


def _fill(url: str, count: int) -> list[int]:
    ids = []
    for i in range(count):
        response = requests.post(f"{url}/webhooks", json=_hook(i), headers=AUTH, timeout=TIMEOUT)
        assert response.status_code == 201, response.text
        ids.append(response.json()["webhookId"])
    return ids


def _get(url: str, **params: Any) -> requests.Response:
    response = requests.get(url, params=params, headers=AUTH, timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return response


def _walk(url: str, style: str, size: int | None = None, max_pages: int = 100) -> tuple[list[int], int]:
    """Every id the list gives, followed page by page as its style says (at most `max_pages`),
    and the pages read."""
    size_name = {"link": "per_page", "next-url": "page_size", "page": "pageSize"}.get(style, "limit")
    sized = {} if size is None else {size_name: size}
    ids: list[int] = []
    pages = 0
    next_url: str | None = f"{url}/webhooks"
    params: dict[str, Any] = dict(sized)
    while next_url and pages < max_pages:
        answer = _get(next_url, **params)
        pages += 1
        body = answer.json()
        items = body if style == "link" else body[{"next-url": "results", "has-more": "data"}.get(style, "items")]
        ids += [hook["webhookId"] for hook in items]
        more: dict[str, Any] | None = None  # the parameters of the next page, if there is one
        if style == "link":
            next_url, params = answer.links.get("next", {}).get("url"), {}
            continue
        if style == "next-url":
            next_url, params = body["next"], {}
            continue
        if style == "cursor" and body["hasMore"]:
            more = {"cursor": body["nextCursor"]}
        elif style == "has-more" and body["has_more"]:
            more = {"starting_after": items[-1]["webhookId"]}
        elif style == "page" and body["page"] * body["pageSize"] < body["totalCount"]:
            more = {"page": body["page"] + 1}
        elif style == "offset" and body["offset"] + len(items) < body["total"]:
            more = {"offset": body["offset"] + len(items)}
        next_url, params = (f"{url}/webhooks", {**sized, **more}) if more is not None else (None, {})
    return ids, pages


@pytest.mark.parametrize("style", ["link", "cursor", "next-url", "has-more", "page", "offset"])
def test_each_style_pages_the_whole_list_at_its_default_size_and_at_an_asked_one(
    start_server: StartServer, style: str
) -> None:
    url = start_server("--page-style", style, "--page-size", "4", "--page-max", "6").url
    ids = _fill(url, 11)
    assert _walk(url, style) == (ids, 3), "11 webhooks at 4 a page"
    assert _walk(url, style, size=5) == (ids, 3), "asked for 5"
    assert _walk(url, style, size=50) == (ids, 2), "asked for 50, cut to the maximum of 6"


def test_link_pages_name_next_and_last_and_keep_an_asked_size(start_server: StartServer) -> None:
    url = start_server("--page-style", "link", "--page-size", "2").url
    _fill(url, 5)
    first = _get(f"{url}/webhooks")
    assert first.links["next"]["url"] == f"{url}/webhooks?page=2"
    assert first.links["last"]["url"] == f"{url}/webhooks?page=3"
    asked = _get(f"{url}/webhooks", per_page=3)
    assert asked.links["next"]["url"] == f"{url}/webhooks?page=2&per_page=3"
    assert "next" not in _get(f"{url}/webhooks", page=3).links


def test_without_a_style_the_list_is_one_json_list(start_server: StartServer) -> None:
    url = start_server().url
    ids = _fill(url, 35)
    answer = _get(f"{url}/webhooks", page=2, per_page=5)  # paging parameters mean nothing here
    assert [hook["webhookId"] for hook in answer.json()] == ids
    assert "Link" not in answer.headers


@pytest.mark.parametrize(
    ("style", "params"),
    [
        ("page", {"page": "0"}),
        ("offset", {"offset": "-1"}),
        ("cursor", {"cursor": "bm9wZQ"}),
        ("link", {"per_page": "x"}),
    ],
)
def test_a_paging_parameter_it_cannot_take_is_a_400(
    start_server: StartServer, style: str, params: dict[str, str]
) -> None:
    url = start_server("--page-style", style).url
    response = requests.get(f"{url}/webhooks", params=params, headers=AUTH, timeout=TIMEOUT)
    assert_json_error(response, 400)


@pytest.mark.parametrize("style", ["link", "cursor", "next-url", "page", "offset"])
def test_a_looping_list_leads_back_to_its_first_page(start_server: StartServer, style: str) -> None:
    url = start_server("--page-style", style, "--page-size", "3", "--page-loop").url
    ids = _fill(url, 5)
    seen, _ = _walk(url, style, max_pages=4)  # a client that follows blindly reads the first page again
    assert seen == ids + ids


def test_a_lagging_list_shows_writes_only_once_they_are_older_than_the_lag(start_server: StartServer) -> None:
    url = start_server("--list-lag-seconds", "1.5").url
    [kept, changed, removed] = _fill(url, 3)
    time.sleep(1.6)
    created = requests.post(f"{url}/webhooks", json=_hook(9), headers=AUTH, timeout=TIMEOUT).json()["webhookId"]
    changed_body = {"endpoint": "https://hooks.example.test/changed", "authType": "none"}
    assert requests.put(f"{url}/webhooks/{changed}", json=changed_body, headers=AUTH, timeout=TIMEOUT).ok
    assert requests.delete(f"{url}/webhooks/{removed}", headers=AUTH, timeout=TIMEOUT).ok

    listed = {hook["webhookId"]: hook for hook in _get(f"{url}/webhooks").json()}
    assert sorted(listed) == [kept, changed, removed], "the list is 1.5 s behind: no create, no delete yet"
    assert listed[changed]["endpoint"] == "https://hooks.example.test/1", "nor the update"
    # A read by id is never behind.
    assert _get(f"{url}/webhooks/{created}").json()["webhookId"] == created
    assert requests.get(f"{url}/webhooks/{removed}", headers=AUTH, timeout=TIMEOUT).status_code == 404
    assert {hook["webhookId"] for hook in _get(f"{url}/_admin/webhooks").json()} == {kept, changed, created}

    time.sleep(1.6)
    listed = {hook["webhookId"]: hook for hook in _get(f"{url}/webhooks").json()}
    assert sorted(listed) == [kept, changed, created]
    assert listed[changed]["endpoint"] == "https://hooks.example.test/changed"


def test_idempotency_keys_answer_a_repeat_as_the_first_and_make_nothing(start_server: StartServer) -> None:
    url = start_server("--idempotency-keys").url
    keyed = {**AUTH, "Idempotency-Key": "key-1"}
    first = requests.post(f"{url}/webhooks", json=_hook(1), headers=keyed, timeout=TIMEOUT)
    again = requests.post(f"{url}/webhooks", json=_hook(1), headers=keyed, timeout=TIMEOUT)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    other = requests.post(f"{url}/webhooks", json=_hook(2), headers=keyed, timeout=TIMEOUT)
    assert "other parameters" in assert_json_error(other, 422)
    unkeyed = requests.post(f"{url}/webhooks", json=_hook(1), headers=AUTH, timeout=TIMEOUT)
    assert unkeyed.json()["webhookId"] != first.json()["webhookId"]
    assert len(_get(f"{url}/_admin/webhooks").json()) == 2


def test_idempotency_keys_are_ignored_unless_honoured_and_outlive_a_restart(
    start_server: StartServer, tmp_path: Any
) -> None:
    keyed = {**AUTH, "Idempotency-Key": "key-1"}
    plain = start_server(db=tmp_path / "plain.sqlite")
    requests.post(f"{plain.url}/webhooks", json=_hook(1), headers=keyed, timeout=TIMEOUT)
    requests.post(f"{plain.url}/webhooks", json=_hook(1), headers=keyed, timeout=TIMEOUT)
    assert len(_get(f"{plain.url}/_admin/webhooks").json()) == 2, "a vendor that ignores the header"

    server = start_server("--idempotency-keys", db=tmp_path / "keys.sqlite")
    first = requests.post(f"{server.url}/webhooks", json=_hook(1), headers=keyed, timeout=TIMEOUT).json()
    server.stop()
    restarted = start_server("--idempotency-keys", db=tmp_path / "keys.sqlite")
    again = requests.post(f"{restarted.url}/webhooks", json=_hook(1), headers=keyed, timeout=TIMEOUT).json()
    assert again == first

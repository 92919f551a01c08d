"""The API client against the real local server over a loopback socket."""

from __future__ import annotations

import email.utils
import json
import logging
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from harness.api import PASSWORD, STATIC_TOKEN, USER, Api
from pulumi_webhooks import errors
from pulumi_webhooks.api.client import WebhooksClient
from pulumi_webhooks.api.retry import api_retry
from pulumi_webhooks.api.settings import ClientSettings
from pulumi_webhooks.api.transport import Transport
from pulumi_webhooks.model.spec import MASK, AuthType, parse
from tests.support import ApiFactory

HOOK_TOKEN = "hook-T0ken-never-shown"
HOOK_PASSWORD = "hook-Passw0rd-never-shown"


def login_client(api: Api, **overrides: object) -> WebhooksClient:
    settings = {"backoff_factor": 0.1, **overrides}
    return WebhooksClient(ClientSettings(api_url=api.url, user_name=USER, password=PASSWORD, **settings))  # type: ignore[arg-type]


def bearer(endpoint: str = "https://ops.example.com/hook", token: str = HOOK_TOKEN):
    return parse({"endpoint": endpoint, "authType": "bearer", "token": token, "isAlertHook": True})


def requests_to(api: Api, route: str) -> int:
    return int(api.stats()["requests"].get(route, 0))


def test_lifecycle_with_login_caches_the_token(api: Api) -> None:
    client = login_client(api)
    webhook_id = client.create(bearer())
    live = client.get(webhook_id)
    assert live is not None
    assert live.endpoint == "https://ops.example.com/hook"
    assert live.secrets_set == {"token"}
    assert [h.id for h in client.listing().hooks] == [webhook_id]

    basic = parse(
        {"endpoint": "https://ops.example.com/v2", "authType": "basic", "userName": "u", "password": HOOK_PASSWORD}
    )
    client.update(webhook_id, basic)
    live = client.get(webhook_id)
    assert live is not None
    assert live.as_api() | {"webhookId": "-"} == {
        "webhookId": "-",
        "endpoint": "https://ops.example.com/v2",
        "authType": "basic",
        "isAlertHook": False,
        "userName": "u",
        "password": MASK,
        "token": None,
    }

    assert client.delete(webhook_id) is True
    assert client.get(webhook_id) is None
    assert client.delete(webhook_id) is False, "deleting a gone webhook is not an error"
    assert requests_to(api, "POST /authtoken") == 1, "one login for the whole lifecycle"


def test_static_token_never_logs_in(api: Api) -> None:
    client = WebhooksClient(ClientSettings(api_url=api.url, api_token=STATIC_TOKEN))
    client.create(bearer())
    assert requests_to(api, "POST /authtoken") == 0


def test_a_401_mid_run_renews_the_token_once(api: Api) -> None:
    client = login_client(api)
    client.create(bearer())
    assert api.post("/_admin/revoke-tokens").status_code == 200
    assert len(client.listing().hooks) == 1
    assert requests_to(api, "POST /authtoken") == 2


@pytest.mark.slow
def test_expired_token_is_renewed_before_use(start_api: ApiFactory) -> None:
    api = start_api("--token-ttl", "2")
    client = login_client(api)
    client.listing()
    time.sleep(2.1)
    client.listing()
    assert requests_to(api, "POST /authtoken") == 2
    assert api.stats()["status"].get("401", 0) == 0, "renewed ahead of expiry, not after a refusal"


@pytest.mark.parametrize(("user", "password"), [(USER, "wrong-Passw0rd-xyz"), ("nobody", "wrong-Passw0rd-xyz")])
def test_bad_login_is_unauthorized_and_names_the_settings(api: Api, user: str, password: str) -> None:
    client = WebhooksClient(
        ClientSettings(api_url=api.url, user_name=user, password=password, credential_hint="check webhooks:apiPassword")
    )
    with pytest.raises(errors.Unauthorized) as raised:
        client.listing()
    assert "POST /authtoken" in str(raised.value)
    assert "check webhooks:apiPassword" in str(raised.value)
    assert "wrong-Passw0rd-xyz" not in str(raised.value)


def test_bad_static_token_is_unauthorized_without_echoing_it(api: Api) -> None:
    client = WebhooksClient(ClientSettings(api_url=api.url, api_token="bad-T0ken-xyz", credential_hint="fix it"))
    with pytest.raises(errors.Unauthorized) as raised:
        client.listing()
    assert raised.value.status == 401
    assert "bad-T0ken-xyz" not in str(raised.value)


def test_refused_credentials_are_asked_once_then_every_call_fails_at_once(api: Api) -> None:
    client = WebhooksClient(
        ClientSettings(api_url=api.url, user_name=USER, password="wrong-Passw0rd-xyz", credential_hint="check both")
    )
    with ThreadPoolExecutor(4) as pool:
        failures = list(pool.map(lambda _: _failure(client.listing), range(12)))
    assert all(isinstance(f, errors.Unauthorized) and "check both" in str(f) for f in failures), failures
    assert requests_to(api, "POST /authtoken") == 1, "logins run one at a time, so only the first is sent"
    assert requests_to(api, "GET /webhooks") == 0
    assert sum("not sent again" in str(f) for f in failures) == 11


def test_a_refused_static_token_is_sent_at_most_once_per_thread(api: Api) -> None:
    client = WebhooksClient(ClientSettings(api_url=api.url, api_token="bad-T0ken-xyz", credential_hint="fix it"))
    with ThreadPoolExecutor(4) as pool:
        failures = list(pool.map(lambda _: _failure(client.listing), range(40)))
    assert all(isinstance(f, errors.Unauthorized) for f in failures)
    assert 1 <= requests_to(api, "GET /webhooks") <= 4, "only calls already in flight reach the API"


def _failure(call: object) -> BaseException | None:
    try:
        call()  # type: ignore[operator]
    except Exception as failure:
        return failure
    return None


@pytest.mark.slow
def test_429_is_retried_honouring_retry_after(start_api: ApiFactory) -> None:
    api = start_api("--rate-limit", "3")
    client = login_client(api)
    with ThreadPoolExecutor(4) as pool:
        ids = list(pool.map(lambda i: client.create(bearer(f"https://ops.example.com/{i}")), range(12)))
    assert len(set(ids)) == 12
    assert len(api.webhooks()) == 12, "no create lost or duplicated by the retries"
    assert api.stats()["status"].get("429", 0) > 0, "the server did rate-limit"


@pytest.mark.slow
def test_5xx_on_reads_and_updates_is_retried(start_api: ApiFactory) -> None:
    api = start_api("--fail-rate", "0.4", "--seed", "7")
    client = login_client(api, max_retries=8, backoff_factor=0.05)
    webhook_id = client.create(bearer())
    for _ in range(5):
        assert client.get(webhook_id) is not None
        client.update(webhook_id, bearer("https://ops.example.com/again"))
    statuses = api.stats()["status"]
    assert sum(int(statuses.get(code, 0)) for code in ("500", "502", "503", "504")) > 0
    assert len(api.webhooks()) == 1


def test_create_without_id_finds_the_new_webhook(start_api: ApiFactory) -> None:
    api = start_api("--create-without-id")
    client = login_client(api)
    first = client.create(bearer())
    second = client.create(bearer())  # identical: must not adopt the first
    assert first != second
    assert sorted(str(h["webhookId"]) for h in api.webhooks()) == sorted([first, second])


@pytest.mark.parametrize("id_field", ["id", "_id", "hookId"])
def test_create_reads_the_id_under_other_names(start_api: ApiFactory, id_field: str) -> None:
    api = start_api("--id-field", id_field)
    client = login_client(api)
    webhook_id = client.create(bearer())
    assert requests_to(api, "GET /webhooks") == 1, "only the one-off baseline listing"
    assert [str(h[id_field]) for h in api.webhooks()] == [webhook_id]
    assert [h.id for h in client.listing().hooks] == [webhook_id]
    live = client.get(webhook_id)
    assert live is not None and live.id == webhook_id and live.secrets_set == {"token"}


def test_dropped_create_responses_make_no_duplicates(start_api: ApiFactory) -> None:
    api = start_api("--drop-create-response-rate", "0.5", "--seed", "3")
    client = login_client(api)
    with ThreadPoolExecutor(4) as pool:
        ids = list(pool.map(lambda i: client.create(bearer(f"https://ops.example.com/{i % 5}")), range(20)))
    hooks = api.webhooks()
    assert len(hooks) == 20
    assert sorted(ids, key=int) == [str(h["webhookId"]) for h in hooks]


def test_an_ambiguous_create_never_adopts_an_older_look_alike(start_api: ApiFactory) -> None:
    plain = start_api()
    older = plain.post(
        "/webhooks",
        {"endpoint": "https://ops.example.com/hook", "authType": "bearer", "token": "x", "isAlertHook": True},
    )
    plain.process.stop()
    api = start_api("--drop-create-response-rate", "1", db=plain.process.db_path)
    client = login_client(api, create_look_alikes=True)  # past the guard below, to the ambiguous create
    webhook_id = client.create(bearer())
    hooks = api.webhooks()
    assert len(hooks) == 2
    assert webhook_id != str(older.json()["webhookId"])
    assert webhook_id == str(max(int(h["webhookId"]) for h in hooks))


def test_a_create_never_duplicates_a_look_alike_that_this_run_did_not_make(api: Api) -> None:
    """The orphan of an interrupted `up` looks exactly like this: the create is refused, naming it."""
    body = {"endpoint": "https://ops.example.com/hook", "authType": "bearer", "token": "x", "isAlertHook": True}
    orphan = str(api.post("/webhooks", body).json()["webhookId"])
    api.post("/webhooks", {**body, "isAlertHook": False})  # differs in one field: not a look-alike
    client = login_client(api)
    with pytest.raises(errors.LookAlikeExists) as raised:
        client.create(bearer())
    assert f"webhook {orphan} already has exactly these settings" in str(raised.value)
    assert f'adopt_id="{orphan}"' in str(raised.value) and "recover --stack" in str(raised.value)
    assert HOOK_TOKEN not in str(raised.value)
    assert len(api.webhooks()) == 2

    # Gone (deleted by this run), it no longer blocks; a look-alike this run made never did.
    assert client.delete(orphan)
    first = client.create(bearer())
    second = client.create(bearer())
    assert first != second and len(api.webhooks()) == 3


def test_a_look_alike_this_run_updated_away_no_longer_blocks(api: Api) -> None:
    """Moving an endpoint from one webhook to a new one in the same `up`: update, then create."""
    body = {"endpoint": "https://ops.example.com/hook", "authType": "bearer", "token": "x", "isAlertHook": True}
    old = str(api.post("/webhooks", body).json()["webhookId"])
    client = login_client(api)
    client.create(bearer("https://ops.example.com/unrelated"))  # the baseline is taken here
    client.update(old, bearer("https://ops.example.com/moved"))
    client.create(bearer())
    assert len(api.webhooks()) == 3


def test_look_alikes_can_be_created_on_purpose(api: Api) -> None:
    body = {"endpoint": "https://ops.example.com/hook", "authType": "bearer", "token": "x", "isAlertHook": True}
    api.post("/webhooks", body)
    login_client(api, create_look_alikes=True).create(bearer())
    assert len(api.webhooks()) == 2


def test_an_unresolvable_create_fails_and_creates_nothing_more(start_api: ApiFactory) -> None:
    api = start_api("--create-without-id")
    client = login_client(api)
    client.create(bearer("https://ops.example.com/other"))  # the client's baseline is now taken
    # Someone else creates a look-alike after the baseline: two candidates, no way to tell.
    api.post(
        "/webhooks",
        {"endpoint": "https://ops.example.com/hook", "authType": "bearer", "token": "x", "isAlertHook": True},
    )
    with pytest.raises(errors.AmbiguousCreate) as raised:
        client.create(bearer())
    assert "Nothing more was created" in str(raised.value)
    assert len(api.webhooks()) == 3
    assert HOOK_TOKEN not in str(raised.value)


def test_update_of_a_webhook_deleted_out_of_band_is_not_found(api: Api) -> None:
    client = login_client(api)
    webhook_id = client.create(bearer())
    client.delete(webhook_id)
    with pytest.raises(errors.NotFound) as raised:
        client.update(webhook_id, bearer())
    assert raised.value.status == 400, "the API reports a missing webhook on update as 400"
    assert "pulumi refresh" in str(raised.value)


def test_validation_errors_carry_the_server_message_without_secrets(api: Api) -> None:
    client = login_client(api)
    # Bypass the spec to let the server judge: a token with authType none.
    spec = parse({"endpoint": "https://ops.example.com/hook", "authType": "bearer", "token": HOOK_TOKEN})
    invalid = spec.model_copy(update={"auth_type": AuthType.NONE})
    with pytest.raises(errors.ValidationFailed) as raised:
        client.create(invalid)
    text = str(raised.value)
    assert text.startswith("POST /webhooks failed (HTTP 400): ")
    assert "token" in text
    assert HOOK_TOKEN not in text


def test_unreachable_api_fails_fast_and_clearly() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = WebhooksClient(ClientSettings(api_url=f"http://127.0.0.1:{port}", api_token=STATIC_TOKEN, max_retries=1))
    started = time.monotonic()
    with pytest.raises(errors.Unreachable) as raised:
        client.listing()
    assert time.monotonic() - started < 10
    assert f"could not reach the API at http://127.0.0.1:{port}" in str(raised.value)
    assert STATIC_TOKEN not in str(raised.value)


def test_slow_api_times_out_naming_the_route(start_api: ApiFactory) -> None:
    api = start_api("--latency-ms", "1500")
    client = WebhooksClient(ClientSettings(api_url=api.url, api_token=STATIC_TOKEN, read_timeout=0.3, max_retries=1))
    started = time.monotonic()
    with pytest.raises(errors.Unreachable) as raised:
        client.listing()
    assert time.monotonic() - started < 6
    assert str(raised.value).startswith("GET /webhooks failed (no response): timed out")


def test_debug_log_has_no_secret(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client = login_client(api)
    webhook_id = client.create(bearer())
    client.update(webhook_id, bearer())
    assert "POST /webhooks -> 201" in caplog.text
    for secret in (PASSWORD, HOOK_TOKEN):
        assert secret not in caplog.text


@pytest.mark.slow
@pytest.mark.parametrize("retry_after_format", ["seconds", "http-date"])
def test_client_rate_limit_keeps_429s_near_zero(start_api: ApiFactory, retry_after_format: str) -> None:
    api = start_api("--rate-limit", "10", "--retry-after-format", retry_after_format)
    client = login_client(api, max_requests_per_second=10)
    started = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda i: client.create(bearer(f"https://ops.example.com/{i}")), range(30)))
    elapsed = time.monotonic() - started
    assert len(api.webhooks()) == 30
    assert api.stats()["status"].get("429", 0) <= 2
    assert elapsed >= 1.5, "the client kept to about 10 requests per second"


@pytest.mark.slow
def test_retry_after_as_an_http_date_is_honoured(start_api: ApiFactory) -> None:
    api = start_api("--rate-limit", "2", "--retry-after-format", "http-date")
    client = login_client(api)
    with ThreadPoolExecutor(4) as pool:
        ids = list(pool.map(lambda i: client.create(bearer(f"https://ops.example.com/{i}")), range(8)))
    assert len(set(ids)) == 8
    assert api.stats()["status"].get("429", 0) > 0


@pytest.mark.slow
def test_retry_after_is_waited_for(start_api: ApiFactory) -> None:
    api = start_api("--rate-limit", "1")
    client = login_client(api, backoff_factor=0.01)  # backoff alone would retry within milliseconds
    client.listing()  # login and the first list use up the burst
    started = time.monotonic()
    client.listing()
    client.listing()
    assert api.stats()["status"].get("429", 0) >= 1
    assert time.monotonic() - started >= 1.0, "each 429 said Retry-After: 1"


@pytest.mark.slow
def test_a_429_spends_no_retry_so_calls_outwait_a_crowded_account(start_api: ApiFactory) -> None:
    """Eight calls at once against 2 requests per second, with one retry allowed: each waits its
    turn, however many 429s that takes, as many stacks sharing one account must."""
    api = start_api("--rate-limit", "2")
    client = WebhooksClient(ClientSettings(api_url=api.url, api_token=STATIC_TOKEN, max_retries=1))
    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(lambda i: client.create(bearer(f"https://ops.example.com/{i}")), range(8)))
    assert len(set(ids)) == 8 and len(api.webhooks()) == 8
    assert api.stats()["status"].get("429", 0) > 8, "calls met more 429s than one retry each"


@pytest.mark.slow
def test_429s_are_followed_for_max_retry_seconds_then_named(start_api: ApiFactory) -> None:
    api = start_api("--rate-limit", "1")
    client = WebhooksClient(ClientSettings(api_url=api.url, api_token=STATIC_TOKEN, max_retry_seconds=1.5))
    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(lambda _: _failure(client.listing), range(8)))
    refused = [o for o in outcomes if isinstance(o, errors.RateLimited)]
    assert refused, "some calls could not get through in 1.5 s"
    assert "kept rate-limiting for 1.5 s" in str(refused[0])
    assert "webhooks:maxRequestsPerSecond" in str(refused[0])
    assert time.monotonic() - started < 30, "bounded by max_retry_seconds, not by counts"


@pytest.mark.slow
def test_on_response_sees_every_answer_even_those_the_retries_consumed(start_api: ApiFactory) -> None:
    api = start_api("--rate-limit", "1")
    seen: list[requests.Response] = []
    client = WebhooksClient(ClientSettings(api_url=api.url, api_token=STATIC_TOKEN), on_response=seen.append)
    for _ in range(3):
        client.listing()
    assert [r.status_code for r in seen if r.status_code != 429] == [200, 200, 200]
    refused = [r for r in seen if r.status_code == 429]
    assert refused and all(r.headers["Retry-After"] == "1" for r in refused), "a retried 429 shows its headers"
    assert len(seen) == requests_to(api, "GET /webhooks"), "each answer once"


def test_a_5xx_after_the_commit_is_resolved_without_a_duplicate(start_api: ApiFactory) -> None:
    api = start_api("--fail-after-commit-rate", "1")
    client = login_client(api)
    webhook_id = client.create(bearer())
    assert [str(h["webhookId"]) for h in api.webhooks()] == [webhook_id]
    assert api.stats()["requests"]["POST /webhooks"] == 1, "found by listing, not sent again"


def test_an_unknown_outcome_that_cannot_be_listed_is_an_error_not_a_retry(start_api: ApiFactory) -> None:
    api = start_api("--fail-after-commit-rate", "1", "--latency-ms", "400")
    client = WebhooksClient(ClientSettings(api_url=api.url, api_token=STATIC_TOKEN, max_retries=1, backoff_factor=0.01))
    with ThreadPoolExecutor(1) as pool:
        outcome = pool.submit(client.create, bearer())
        # The create commits, then answers 500; the server goes away before the lookup.
        deadline = time.monotonic() + 20
        while not api.stored_secrets() and time.monotonic() < deadline:
            time.sleep(0.02)
        api.process.stop()
        with pytest.raises(errors.AmbiguousCreate) as raised:
            outcome.result(timeout=60)
    assert "A webhook may have been created" in str(raised.value)
    assert "adopt_id" in str(raised.value)
    assert len(api.stored_secrets()) == 1, "sent once, never blindly again"


def test_a_long_server_message_is_redacted_before_it_is_shortened() -> None:
    transport = Transport(ClientSettings(api_url="http://127.0.0.1:9", api_token=STATIC_TOKEN))
    response = requests.Response()
    response.status_code = 400
    response._content = json.dumps({"message": "x" * 480 + f" echoed {HOOK_TOKEN} back"}).encode()
    with pytest.raises(errors.ValidationFailed) as raised:
        transport.payload("POST", "/webhooks", response, [HOOK_TOKEN])
    message = raised.value.message
    assert len(message) <= 500
    assert HOOK_TOKEN[:8] not in message, "no half of the secret survives the cut"


def test_a_retry_after_date_is_waited_to_the_end_of_its_second() -> None:
    retry = api_retry(ClientSettings(api_url="http://127.0.0.1:9"), None)
    now = email.utils.formatdate(time.time(), usegmt=True)  # truncated to the second: already past
    assert 1.0 >= retry.parse_retry_after(now) > 0.0
    assert retry.parse_retry_after("2") == 2

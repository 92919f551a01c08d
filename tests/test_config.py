"""Provider settings: every mistake names the config key and the variable and says what to do."""

from __future__ import annotations

import dataclasses

import pytest

from harness.api import USER
from pulumi_webhooks.api.client import WebhooksClient
from pulumi_webhooks.api.config import client_settings
from pulumi_webhooks.api.settings import ClientSettings
from pulumi_webhooks.errors import ConfigError, Unauthorized, Unreachable
from tests.support import ApiFactory

URL = {"webhooks:apiUrl": "https://api.example.com"}


def settings(
    config: dict[str, str], environ: dict[str, str] | None = None, connection: str | None = None
) -> ClientSettings:
    return client_settings(config.get, environ or {}, connection)


def test_concurrency_is_sixteen_unless_set() -> None:
    assert settings({**URL, "webhooks:apiToken": "t"}).max_concurrent_requests == 16
    chosen = settings({**URL, "webhooks:apiToken": "t"}, {"WEBHOOKS_MAX_CONCURRENT_REQUESTS": "4"})
    assert chosen.max_concurrent_requests == 4


@pytest.mark.parametrize(
    ("config", "environ", "fragments"),
    [
        ({}, {}, ["webhooks:apiUrl", "WEBHOOKS_API_URL", "pulumi config set webhooks:apiUrl"]),
        (
            {"webhooks:apiUrl": "ftp://api.example.com"},
            {},
            ["webhooks:apiUrl (or WEBHOOKS_API_URL)", "http:// or https://"],
        ),
        ({"webhooks:apiUrl": "api.example.com"}, {}, ["must be an http:// or https:// URL with a host"]),
        (URL, {}, ["no webhooks API credentials", "webhooks:apiToken (or WEBHOOKS_API_TOKEN)", "--secret"]),
        (
            {**URL, "webhooks:apiToken": "t", "webhooks:apiUserName": "u"},
            {},
            ["set either webhooks:apiToken", "not both"],
        ),
        ({**URL, "webhooks:apiUserName": "u"}, {}, ["webhooks:apiPassword (or WEBHOOKS_API_PASSWORD) is not set"]),
        (
            {**URL, "webhooks:apiToken": "t", "webhooks:timeoutSeconds": "soon"},
            {},
            ["webhooks:timeoutSeconds", "seconds"],
        ),
        (
            {**URL, "webhooks:apiToken": "t"},
            {"WEBHOOKS_MAX_REQUESTS_PER_SECOND": "-1"},
            ["WEBHOOKS_MAX_REQUESTS_PER_SECOND"],
        ),
        (
            {**URL, "webhooks:apiToken": "t", "webhooks:maxConcurrentRequests": "2.5"},
            {},
            ["webhooks:maxConcurrentRequests (or WEBHOOKS_MAX_CONCURRENT_REQUESTS)", "whole number from 1 to 256"],
        ),
        (
            {**URL, "webhooks:apiToken": "t", "webhooks:maxConcurrentRequests": "1000"},
            {},
            ["webhooks:maxConcurrentRequests", "whole number from 1 to 256"],
        ),
        (
            {**URL, "webhooks:apiToken": "t", "webhooks:listPaging": "pages"},
            {},
            ["webhooks:listPaging (or WEBHOOKS_LIST_PAGING) must be one of auto, none, link, next-url, cursor"],
        ),
        (
            {**URL, "webhooks:apiToken": "t"},
            {"WEBHOOKS_LIST_PAGE_SIZE": "0"},
            ["webhooks:listPageSize (or WEBHOOKS_LIST_PAGE_SIZE) must be a whole number from 1 to 10,000"],
        ),
        (
            {**URL, "webhooks:apiToken": "t", "webhooks:listPageParam": "page number"},
            {},
            ["webhooks:listPageParam (or WEBHOOKS_LIST_PAGE_PARAM) must be a query parameter's name"],
        ),
        (
            {**URL, "webhooks:apiToken": "t", "webhooks:listSettleSeconds": "forever"},
            {},
            ["webhooks:listSettleSeconds (or WEBHOOKS_LIST_SETTLE_SECONDS)", "seconds"],
        ),
        (
            {**URL, "webhooks:apiToken": "t", "webhooks:allowManyGone": "yes"},
            {},
            ["webhooks:allowManyGone (or WEBHOOKS_ALLOW_MANY_GONE) must be true or false"],
        ),
    ],
)
def test_mistakes_name_the_key_and_the_variable(
    config: dict[str, str], environ: dict[str, str], fragments: list[str]
) -> None:
    with pytest.raises(ConfigError) as raised:
        settings(config, environ)
    for fragment in fragments:
        assert fragment in str(raised.value)


def test_stack_config_wins_over_the_environment_as_a_group() -> None:
    chosen = settings(
        {**URL, "webhooks:apiToken": "from-config"}, {"WEBHOOKS_API_USERNAME": "u", "WEBHOOKS_API_PASSWORD": "p"}
    )
    assert (chosen.api_token, chosen.user_name) == ("from-config", None)
    from_env = settings(
        {}, {"WEBHOOKS_API_URL": "http://127.0.0.1:1", "WEBHOOKS_API_USERNAME": "u", "WEBHOOKS_API_PASSWORD": "p"}
    )
    assert (from_env.user_name, from_env.password, from_env.api_token) == ("u", "p", None)


def test_named_connections_read_their_own_keys() -> None:
    chosen = settings(
        {"webhooks:billing.apiUrl": "https://billing.example.com", "webhooks:billing.apiToken": "b"},
        connection="billing",
    )
    assert chosen.api_url == "https://billing.example.com"
    with pytest.raises(ConfigError, match="WEBHOOKS_BILLING_API_URL"):
        settings(URL, connection="billing")


def test_unreachable_host_is_named() -> None:
    chosen = settings({"webhooks:apiUrl": "http://127.0.0.1:9", "webhooks:apiToken": "some-T0ken"})
    # One retry is enough to see the message; the default five back off for 15 s.
    client = WebhooksClient(dataclasses.replace(chosen, max_retries=1))
    with pytest.raises(Unreachable, match=r"could not reach the API at http://127\.0\.0\.1:9"):
        client.listing()


def test_an_expired_or_revoked_static_token_says_which_setting_to_fix(start_api: ApiFactory) -> None:
    api = start_api("--api-token", f"{USER}=short-lived-T0ken")
    client = WebhooksClient(settings({"webhooks:apiUrl": api.url, "webhooks:apiToken": "expired-T0ken"}))
    with pytest.raises(Unauthorized) as raised:
        client.listing()
    assert (
        "The API refused the token from webhooks:apiToken (or WEBHOOKS_API_TOKEN): set a valid one "
        "(`pulumi config set --secret webhooks:apiToken ...`)"
    ) in str(raised.value)
    assert "expired-T0ken" not in str(raised.value)


def test_credentials_are_trimmed_and_control_characters_refused() -> None:
    chosen = settings({**URL, "webhooks:apiToken": "from-a-file-T0ken\n"})
    assert chosen.api_token == "from-a-file-T0ken"
    with pytest.raises(ConfigError, match=r"webhooks:apiToken .* contains a control character") as raised:
        settings({**URL, "webhooks:apiToken": "two\nlines-T0ken"})
    assert "two" not in str(raised.value)


def test_an_api_url_with_credentials_is_refused() -> None:
    with pytest.raises(ConfigError, match="must not carry credentials") as raised:
        settings({"webhooks:apiUrl": "https://me:url-Secret@api.example.com", "webhooks:apiToken": "some-T0ken"})
    assert "url-Secret" not in str(raised.value)


def test_create_look_alikes_is_a_flag_off_by_default() -> None:
    token = {**URL, "webhooks:apiToken": "t"}
    assert settings(token).create_look_alikes is False
    assert settings({**token, "webhooks:createLookAlikes": "true"}).create_look_alikes is True
    assert settings(token, {"WEBHOOKS_CREATE_LOOK_ALIKES": "TRUE"}).create_look_alikes is True
    with pytest.raises(ConfigError, match=r"webhooks:createLookAlikes \(or WEBHOOKS_CREATE_LOOK_ALIKES\) must be"):
        settings({**token, "webhooks:createLookAlikes": "yes"})


def test_list_settings_default_to_reading_the_api_s_own_paging() -> None:
    default = settings({**URL, "webhooks:apiToken": "t"})
    assert (default.list_paging, default.list_page_size, default.list_max_pages) == ("auto", 100, 1000)
    assert (default.list_settle_seconds, default.idempotent_creates, default.allow_many_gone) == (10.0, False, False)
    chosen = settings(
        {**URL, "webhooks:apiToken": "t", "webhooks:listPaging": "page", "webhooks:listPageSizeParam": "per_page"},
        {"WEBHOOKS_LIST_SETTLE_SECONDS": "2.5", "WEBHOOKS_IDEMPOTENT_CREATES": "true"},
    )
    assert (chosen.list_paging, chosen.list_size_param, chosen.list_settle_seconds) == ("page", "per_page", 2.5)
    assert chosen.idempotent_creates


def test_the_account_is_the_url_and_who_signs_in_never_a_secret() -> None:
    login = settings(
        {"webhooks:apiUrl": "HTTPS://API.Example.com/v1/", "webhooks:apiUserName": "ci", "webhooks:apiPassword": "pw"}
    )
    assert login.account() == {"apiUrl": "https://api.example.com/v1", "principal": "ci"}
    opaque = settings({**URL, "webhooks:apiToken": "opaque-static-token"})
    assert opaque.account() == {"apiUrl": "https://api.example.com", "principal": None}
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzZXJ2aWNlLWJvdCJ9.c2lnbmF0dXJl"  # {"sub": "service-bot"}
    assert settings({**URL, "webhooks:apiToken": jwt}).account()["principal"] == "service-bot"

"""What the dynamic-provider server sends the engine for a failure: our message alone, or a bug's traceback."""

from __future__ import annotations

import traceback

from pulumi_webhooks.errors import ConfigError, Unauthorized
from pulumi_webhooks.servicer import _PlainExpectedErrors
from pulumi_webhooks.spec import SpecError, parse

shown = _PlainExpectedErrors(traceback)


def formatted(failure: BaseException) -> str:
    try:
        raise failure
    except BaseException:
        return shown.format_exc()


def test_expected_failures_show_their_message_alone() -> None:
    refused = Unauthorized("GET", "/webhooks", 401, "Invalid token", "set webhooks:apiToken")
    assert formatted(refused) == "GET /webhooks failed (HTTP 401): Invalid token. set webhooks:apiToken"
    assert formatted(ConfigError("webhooks:apiUrl is not set")) == "webhooks:apiUrl is not set"
    try:
        parse({"endpoint": "ftp://x", "authType": "none"})
    except SpecError as broken:
        assert formatted(broken) == str(broken) and "endpoint must be" in str(broken)


def test_a_bug_keeps_its_traceback() -> None:
    text = formatted(KeyError("webhookId"))
    assert text.startswith("Traceback (most recent call last):")
    assert text.rstrip().endswith("KeyError: 'webhookId'")


def test_the_rest_of_the_traceback_module_is_untouched() -> None:
    assert shown.format_exception is traceback.format_exception

"""What the dynamic-provider server sends the engine for a failure: our message alone, or a bug's traceback."""

from __future__ import annotations

import traceback

import pytest

from pulumi_webhooks.errors import ConfigError, Unauthorized
from pulumi_webhooks.model.spec import SpecError, parse
from pulumi_webhooks.provider.servicer import _PlainExpectedErrors

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
    with pytest.raises(SpecError) as broken:
        parse({"endpoint": "ftp://x", "authType": "none"})
    assert formatted(broken.value) == str(broken.value) and str(broken.value).startswith("endpoint must be")


def test_a_bug_keeps_its_traceback() -> None:
    text = formatted(KeyError("webhookId"))
    assert text.startswith("Traceback (most recent call last):")
    assert text.rstrip().endswith("KeyError: 'webhookId'")

"""The user-facing resource: names, secrets and typing as a Pulumi program sees them.

The engine is replaced by Pulumi's own test monitor (`pulumi.runtime.set_mocks`);
what is under test is what the resource sends to it and exposes to the program.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

import pulumi
import pytest
from pulumi.runtime import rpc

from pulumi_webhooks import AuthType, Webhook, WebhookArgs, WebhookProvider
from pulumi_webhooks.model.spec import PYTHON_NAMES, WebhookSpec

SENT: list[pulumi.runtime.MockResourceArgs] = []


def secret(value: Any) -> dict[str, Any]:
    """A value as the engine receives it once the program marked it secret."""
    return {rpc._special_sig_key: rpc._special_secret_sig, "value": value}


class EngineMocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        SENT.append(args)
        outputs = {k: v for k, v in args.inputs.items() if k != "__provider"}
        return "42", {**outputs, "webhookId": "42"}

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, []


@pytest.fixture(autouse=True)
def mocks() -> None:
    SENT.clear()
    pulumi.runtime.set_mocks(EngineMocks(), preview=False)


def resolved(output: pulumi.Output[Any]) -> tuple[Any, bool]:
    """The value and secretness of an output, once the mock engine answered."""
    result: dict[str, Any] = {}

    async def grab() -> None:
        result["value"] = await output.future()
        result["secret"] = await output.is_secret()

    pulumi.runtime.sync_await._sync_await(grab())
    return result["value"], result["secret"]


@pulumi.runtime.test
def test_inputs_go_to_the_engine_in_camel_case_with_a_specific_type() -> pulumi.Output[Any]:
    hook = Webhook(
        "alerts", endpoint="https://ops.example.com/hook", auth_type=AuthType.BEARER, token="t0ken", is_alert_hook=True
    )

    def check(_: Any) -> None:
        [sent] = SENT
        assert sent.typ == "pulumi-python:dynamic/webhooks:Webhook"
        assert sent.name == "alerts"
        inputs = dict(sent.inputs)
        provider = inputs.pop("__provider")
        assert isinstance(provider, str) and len(provider) < 200, "plain: it holds no secret"
        assert inputs == {
            "endpoint": "https://ops.example.com/hook",
            "authType": "bearer",
            "isAlertHook": True,
            "token": secret("t0ken"),
        }

    return hook.webhook_id.apply(check)


@pulumi.runtime.test
def test_outputs_are_snake_case_and_secrets_are_always_secret() -> pulumi.Output[Any]:
    hook = Webhook(
        "basic",
        WebhookArgs(endpoint="https://ops.example.com/b", auth_type="basic", user_name="ops", password="plain-pw"),
    )

    def check(values: list[Any]) -> None:
        webhook_id, auth_type, user_name, is_alert_hook = values
        assert (webhook_id, auth_type, user_name, is_alert_hook) == ("42", "basic", "ops", False)

    assert resolved(hook.password) == ("plain-pw", True), "a plain password still becomes a secret output"
    return pulumi.Output.all(hook.webhook_id, hook.auth_type, hook.user_name, hook.is_alert_hook).apply(check)


@pulumi.runtime.test
def test_plain_secret_inputs_are_marked_secret_before_they_leave_the_program() -> pulumi.Output[Any]:
    hook = Webhook("q", endpoint="https://ops.example.com/q", auth_type="querystring", token="plain-token")

    def check(_: Any) -> None:
        assert SENT[0].inputs["token"] == secret("plain-token")

    return hook.webhook_id.apply(check)


def test_the_keywords_webhook_args_and_outputs_are_the_spec_s_fields() -> None:
    """A new field of the spec must be added to each of these typed signatures (they cannot be
    derived); this says which one was forgotten."""
    fields = list(WebhookSpec.model_fields)
    own = ["adopt_id", "secrets_version"]
    assert [f.name for f in dataclasses.fields(WebhookArgs)] == [*fields, *own], "WebhookArgs"
    keywords = [p.name for p in inspect.signature(Webhook.__init__).parameters.values() if p.kind is p.KEYWORD_ONLY]
    assert keywords == [*fields, *own, "provider"], "Webhook.__init__'s keyword arguments"
    outputs = [name for name in Webhook.__annotations__ if name in PYTHON_NAMES.values()]
    assert outputs == ["webhook_id", *fields], "Webhook's output annotations"
    for name in [*fields, *own]:
        assert f"{name}:" in (Webhook.__doc__ or ""), f"Webhook's docstring says nothing of {name}"


def test_args_and_keywords_do_not_mix() -> None:
    with pytest.raises(TypeError, match="either args=WebhookArgs"):
        Webhook("x", WebhookArgs(endpoint="https://e.example.com", auth_type="none"), endpoint="https://e.example.com")


def test_required_arguments_are_named() -> None:
    with pytest.raises(TypeError, match="missing required argument\\(s\\): endpoint, auth_type"):
        Webhook("x")  # type: ignore[call-arg]


def test_named_connection_names_are_checked() -> None:
    with pytest.raises(ValueError, match="connection name"):
        WebhookProvider("bad name")


def test_every_invalid_webhook_is_reported_at_its_line_and_none_is_sent(caplog: pytest.LogCaptureFixture) -> None:
    fine = Webhook("fine", endpoint="https://ok.example.com/h", auth_type="none")
    Webhook("bad-a", endpoint="https://a.example.com/h", auth_type="none", token="t0ken-a")
    Webhook("bad-b", endpoint="ftp://b.example.com/h", auth_type="bearer")
    with pytest.raises(pulumi.RunError, match=r"^2 of 3 webhooks are invalid; none was sent to the API"):
        resolved(fine.webhook_id)
    reports = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(reports) == 2, reports
    assert reports[0].startswith(f"tests/test_resource.py:{LINE_OF_BAD_A}: Webhook 'bad-a' is invalid:\n  token: ")
    assert (
        reports[1].startswith("tests/test_resource.py:") and "Webhook 'bad-b' is invalid:\n  endpoint: " in reports[1]
    )
    assert "\n  token: token is required when authType is 'bearer'" in reports[1]
    assert "t0ken-a" not in "".join(reports)
    assert SENT == [], "not even the valid webhook reached the engine"


LINE_OF_BAD_A = test_every_invalid_webhook_is_reported_at_its_line_and_none_is_sent.__code__.co_firstlineno + 2


def test_webhooks_declared_after_the_event_loop_ran_are_checked_and_held_too(caplog: pytest.LogCaptureFixture) -> None:
    Webhook("bad-early", endpoint="https://a.example.com/h", auth_type="none", token="t0ken-a")
    pulumi.runtime.invoke("test:index:lookup", {})  # a synchronous invoke runs the event loop mid-program
    late = Webhook("fine-late", endpoint="https://late.example.com/h", auth_type="none")
    Webhook("bad-late", endpoint="ftp://b.example.com/h", auth_type="none")
    with pytest.raises(pulumi.RunError, match=r"^2 of 3 webhooks are invalid; none was sent"):
        resolved(late.webhook_id)
    reports = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert [r.split(": ", 1)[1].split(" is invalid")[0] for r in reports] == [
        "Webhook 'bad-early'",
        "Webhook 'bad-late'",
    ]
    assert SENT == []


@pytest.mark.timeout(60)
def test_an_input_that_fails_fails_its_own_webhook_and_holds_up_no_other() -> None:
    broken = Webhook(
        "broken", endpoint=pulumi.Output.from_input(dict[str, str]()).apply(lambda d: d["url"]), auth_type="none"
    )
    fine = Webhook("fine", endpoint="https://ok.example.com/h", auth_type="none")
    assert resolved(fine.webhook_id) == ("42", False)
    with pytest.raises(KeyError):
        resolved(broken.webhook_id)
    assert [args.name for args in SENT] == ["fine"]


@pytest.mark.slow
@pulumi.runtime.test
def test_a_program_of_twelve_hundred_webhooks_registers() -> pulumi.Output[Any]:
    """The SDK's provider pickling used to nest one wrapper per resource (RecursionError near
    950); each registration now leaves `pickle` as it found it."""
    import pickle

    original = (pickle._Pickler._batch_setitems, pickle._Pickler.save_dict)  # type: ignore[attr-defined]
    hooks = [Webhook(f"h{i}", endpoint=f"https://ops.example.com/{i}", auth_type="none") for i in range(1200)]
    assert (pickle._Pickler._batch_setitems, pickle._Pickler.save_dict) == original  # type: ignore[attr-defined]

    def check(ids: list[str]) -> None:
        assert len(ids) == 1200 and len(SENT) == 1200

    return pulumi.Output.all(*(hook.webhook_id for hook in hooks)).apply(check)

"""One error family: every exception class of the package is a `WebhooksError`, and each one
reaches users as its message alone, where the provider server and the command line show it."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import traceback

import pytest

import pulumi_webhooks
from pulumi_webhooks.cli.main import main
from pulumi_webhooks.errors import WebhooksError
from pulumi_webhooks.provider.servicer import _PlainExpectedErrors


def defined_exceptions() -> list[type[BaseException]]:
    found = []
    for module_info in pkgutil.walk_packages(pulumi_webhooks.__path__, "pulumi_webhooks."):
        if module_info.name.endswith(".__main__"):
            continue  # running it is the command line, or the plugin, itself
        module = importlib.import_module(module_info.name)
        found += [
            cls
            for _, cls in inspect.getmembers(module, inspect.isclass)
            if issubclass(cls, BaseException) and cls.__module__ == module.__name__
        ]
    return found


EXCEPTIONS = defined_exceptions()


def test_the_package_defines_its_errors_in_many_modules() -> None:
    modules = {cls.__module__ for cls in EXCEPTIONS}
    assert {"pulumi_webhooks.errors", "pulumi_webhooks.model.spec", "pulumi_webhooks.program.preflight"} <= modules


@pytest.mark.parametrize("error", EXCEPTIONS, ids=lambda cls: f"{cls.__module__}.{cls.__qualname__}")
def test_every_exception_the_package_defines_is_a_webhooks_error(error: type[BaseException]) -> None:
    assert issubclass(error, WebhooksError), f"{error.__qualname__} is outside the family: derive it from WebhooksError"


def test_the_provider_server_and_the_command_line_show_any_of_them_as_its_message() -> None:
    class Newcomer(WebhooksError):
        """An expected error added later, listed nowhere."""

    try:
        raise Newcomer("webhooks:newSetting must be a number: set it again")
    except Newcomer:
        assert _PlainExpectedErrors(traceback).format_exc() == "webhooks:newSetting must be a number: set it again"


def test_the_command_line_prints_an_expected_error_alone_with_exit_code_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["drift", "/nonexistent/catalog.yaml"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: 1 problem(s) in the webhook catalog") and "Traceback" not in err

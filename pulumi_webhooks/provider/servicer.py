"""How the SDK's dynamic-provider server shows this provider's expected failures.

The server (`python -m pulumi.dynamic`) sends every exception a provider method
raises to the engine as `traceback.format_exc()`, so a wrong token would reach
the user as twenty lines of Python frames with the useful sentence last. In
that process only, `show_expected_errors_plainly()` gives the server a view of
the `traceback` module in which our expected errors (every `WebhooksError`:
messages that name the key or property and the fix) format as their message
alone, and one that says part of the work was done (`PartlyDone`) also tells the
engine what was, so that it records it. Anything else, a bug included, keeps its
traceback; so do other dynamic providers sharing the process. Nothing global is changed: `sys.tracebacklimit`
would strip every provider's frames, not only ours.
"""

from __future__ import annotations

import logging
import sys
from types import ModuleType
from typing import Any

from ..errors import PartlyDone, WebhooksError
from ..sdk_internals import report_partial_state, show_failures_with

log = logging.getLogger("pulumi_webhooks.servicer")


class _PlainExpectedErrors:
    """The `traceback` module, but `format_exc()` of an expected error is its message."""

    def __init__(self, module: ModuleType) -> None:
        self._module = module

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)

    def format_exc(self, limit: int | None = None, chain: bool = True) -> str:
        error = sys.exc_info()[1]
        if isinstance(error, PartlyDone) and error.done is not None:
            report_partial_state(error.resource_id, error.done, error.reasons, str(error))
        if isinstance(error, WebhooksError):
            return str(error)
        return self._module.format_exc(limit, chain)


def show_expected_errors_plainly() -> bool:
    """Installs the plain view in the dynamic-provider server; False when not running in one."""
    installed = show_failures_with(_PlainExpectedErrors)  # type: ignore[arg-type]
    if not installed:
        log.debug("not in the dynamic-provider server: errors keep their default formatting")
    return installed

"""The error family: every error this package raises on purpose is a `WebhooksError`.

Its message says what is wrong, names the property, config key or command to change,
and never holds a secret, so it reaches the user as it is: the provider server shows
it without Python frames and the command line prints it alone. Anything else is a bug
and keeps its traceback. Errors raised in one module only are written there, on this
root (`tests/test_errors.py` finds every one): `model.spec.SpecError`,
`model.catalog.CatalogError`, `api.creates.OutcomeUnknown`, `api.listing`'s two restarts,
`cli.doctor.Failed`, `program.preflight.InvalidWebhooks` and `program.fleet.UndeployableFleet`.
"""

from __future__ import annotations


class WebhooksError(Exception):
    """Base of every error this package raises on purpose."""


class ConfigError(WebhooksError, ValueError):
    """A provider setting is missing or wrong; the message names the config key and variable."""


class ApiError(WebhooksError):
    """The API answered with an error, or could not be reached.

    `message` is the server's own message (already redacted), `status` is None
    when no HTTP answer arrived.
    """

    def __init__(self, method: str, path: str, status: int | None, message: str, hint: str = "") -> None:
        self.method = method
        self.path = path
        self.status = status
        self.message = message
        self.hint = hint
        status_text = f"HTTP {status}" if status is not None else "no response"
        text = f"{method} {path} failed ({status_text}): {message}"
        super().__init__(f"{text}. {hint}" if hint else text)


class NotFound(ApiError):
    """The webhook does not exist (404, or the API's 400 'not found' on update)."""


class Unauthorized(ApiError):
    """The API refused the credentials (401/403)."""

    def repeated(self) -> Unauthorized:
        """The same failure for a later call that was not sent, since its answer is known."""
        return Unauthorized(
            self.method,
            self.path,
            self.status,
            self.message,
            f"{self.hint} (not sent again: the API refused these credentials earlier in this run)",
        )


class RateLimited(ApiError):
    """The API kept answering 429 after every allowed retry."""


class ValidationFailed(ApiError):
    """The API rejected the request body (400)."""


class ServerError(ApiError):
    """The API failed (5xx) after every allowed retry."""


class Unreachable(ApiError):
    """No HTTP answer: connection refused or reset, or a timeout."""

    def repeated(self, method: str, path: str) -> Unreachable:
        """The same failure for a later call, not sent since a call a moment ago could not reach the API:
        said the same way, so that a fleet's report gives it one line."""
        return Unreachable(method, path, None, self.message, self.hint)


class IncompleteListing(ApiError):
    """The API's list of webhooks could not be read to its end, so it proves nothing missing."""


class AmbiguousCreate(ApiError):
    """A create may or may not have happened, and the API's list cannot tell which hook it made."""


class LookAlikeExists(WebhooksError):
    """A create would make a second webhook with the same settings as one this run did not make."""

    def __init__(self, webhook_ids: list[str]) -> None:
        self.webhook_ids = webhook_ids
        first = webhook_ids[0]
        listed = ", ".join(webhook_ids)
        super().__init__(
            f"webhook {listed} already has exactly these settings (secrets aside) and was not made by this "
            "run: nothing was created, to avoid a duplicate. If an interrupted `pulumi up` made it, take it over "
            f'with adopt_id="{first}" (adoptId in YAML and the SDKs; pipelines: run `pulumi-webhooks recover '
            "--stack STACK` before every `up`). "
            "If this `up` renames the webhook, give it `aliases`. To create an identical webhook on purpose, "
            "set webhooks:createLookAlikes to true"
        )


class ManyGone(WebhooksError):
    """A refresh would take more of a stack's webhooks for deleted than is likely: nothing was dropped."""


class AccountChanged(WebhooksError):
    """Webhooks made in one API account are not found in the one the stack now points at: nothing was dropped."""


class EngineGone(WebhooksError):
    """The engine that started this provider process is gone: no API write is started for it."""


class PulumiFailed(WebhooksError):
    """A `pulumi` command of the step failed; the message holds its own."""


class BackendFailed(WebhooksError):
    """The state backend (a PostgreSQL server, a bucket) could not be read or written as the step needs."""


class StackBusy(WebhooksError):
    """The stack is locked, or its state changed, by a run that may still be going."""


class CannotRecover(WebhooksError):
    """The stack holds interrupted work this step must not touch."""


class PartlyDone(WebhooksError):
    """Some of one resource's work was done and some failed, each failure a reason.

    `done` is the resource's state counting what was done, for the engine to record (so that the
    next `up` does only the rest), or None when nothing was and its state stands as it was."""

    def __init__(self, message: str, reasons: list[str], resource_id: str, done: dict[str, object] | None) -> None:
        super().__init__(message)
        self.reasons = reasons
        self.resource_id = resource_id
        self.done = done

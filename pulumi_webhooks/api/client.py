"""The webhooks API as the provider uses it: create (once), read, list, update, delete.

HTTP is the transport's job (transport.py); creating without duplicates is the
creator's (creates.py). This module maps the routes onto them. It knows nothing
of Pulumi.
"""

from __future__ import annotations

from urllib.parse import quote

from .. import errors
from ..model.live import LiveWebhook, id_of
from ..model.spec import WebhookSpec
from .creates import Creator, OutcomeUnknown
from .fanout import FanOut
from .settings import ClientSettings
from .transport import NOT_FOUND_HINT, ResponseHook, Transport


class WebhooksClient:
    """One API account; shared by every thread of a provider process."""

    def __init__(self, settings: ClientSettings, on_response: ResponseHook | None = None) -> None:
        self.settings = settings
        self._transport = Transport(settings, on_response)
        self._creator = Creator(self.list, settings.create_look_alikes)
        self.fan_out = FanOut(settings.max_concurrent_requests)
        """Many calls at once, at most `max_concurrent_requests` for this account."""

    def create(self, spec: WebhookSpec) -> str:
        """Create the webhook and return its id; never leaves a duplicate behind."""
        body = spec.to_api()
        secrets = (spec.password, spec.token)

        def post() -> str | None:
            try:
                response = self._transport.send("POST", "/webhooks", body, secrets)
            except errors.Unreachable as failure:
                raise OutcomeUnknown(f"no response: {failure.message}") from None
            if response.status_code >= 500:
                raise OutcomeUnknown(f"HTTP {response.status_code}")
            return id_of(self._transport.payload("POST", "/webhooks", response, secrets))

        return self._creator.create(body, post)

    def adopt(self, webhook_id: str, spec: WebhookSpec) -> str:
        """Takes an existing webhook under management: no create, one update to `spec`'s values.

        The update is needed even when the visible fields match: the API never
        shows secrets, so only writing them makes the API hold what the program says.
        """
        if self.get(webhook_id) is None:
            raise errors.NotFound(
                "GET",
                _webhook_path(webhook_id),
                404,
                f"there is no webhook {webhook_id} to adopt",
                "Fix or remove adopt_id (list the account's webhooks with `pulumi-webhooks list`)",
            )
        self.update(webhook_id, spec)
        return webhook_id

    def get(self, webhook_id: str) -> LiveWebhook | None:
        """The webhook as the API reads it, or None when it is gone."""
        path = _webhook_path(webhook_id)
        try:
            payload = self._transport.call("GET", path)
        except errors.NotFound:
            return None
        if not isinstance(payload, dict):
            raise errors.ServerError("GET", path, 200, "the answer is not a JSON object")
        return LiveWebhook.of(str(webhook_id), payload)

    def list(self) -> list[LiveWebhook]:
        """The account's webhooks; one listed without an id cannot be managed and is left out."""
        payload = self._transport.call("GET", "/webhooks")
        if isinstance(payload, dict):  # tolerate an envelope such as {"webhooks": [...]}
            payload = next((v for v in payload.values() if isinstance(v, list)), None)
        if not isinstance(payload, list):
            raise errors.ServerError("GET", "/webhooks", 200, "the answer is not a JSON list")
        return [hook for item in payload if isinstance(item, dict) and (hook := LiveWebhook.from_api(item))]

    def update(self, webhook_id: str, spec: WebhookSpec) -> None:
        path = _webhook_path(webhook_id)
        body = spec.to_api()
        try:
            self._transport.call("PUT", path, body, (spec.password, spec.token))
        except errors.ValidationFailed as failure:
            # The API answers 400 both for a bad body and for a missing webhook.
            if self.get(webhook_id) is None:
                raise errors.NotFound("PUT", path, failure.status, failure.message, NOT_FOUND_HINT) from None
            raise
        self._creator.updated(str(webhook_id), body)

    def delete(self, webhook_id: str) -> bool:
        """Delete the webhook; False if it was already gone."""
        try:
            self._transport.call("DELETE", _webhook_path(webhook_id))
            existed = True
        except errors.NotFound:
            existed = False
        self._creator.deleted(str(webhook_id))
        return existed


def _webhook_path(webhook_id: str) -> str:
    return "/webhooks/" + quote(str(webhook_id), safe="")

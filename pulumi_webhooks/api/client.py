"""The webhooks API as the provider uses it: create (once), read, list, update, delete.

HTTP is the transport's job (transport.py); reading the whole list, however the API pages
it, the lister's (listing.py); creating without duplicates the creator's (creates.py). This
module maps the routes onto them. It knows nothing of Pulumi.
"""

from __future__ import annotations

from urllib.parse import quote

from .. import errors
from ..model.live import LiveWebhook, id_of
from ..model.spec import WebhookSpec
from .creates import Creator, OutcomeUnknown
from .fanout import FanOut
from .listing import Lister, Listing
from .settings import ClientSettings
from .transport import NOT_FOUND_HINT, ResponseHook, Transport, WriteGate


class WebhooksClient:
    """One API account; shared by every thread of a provider process."""

    def __init__(
        self, settings: ClientSettings, on_response: ResponseHook | None = None, before_write: WriteGate | None = None
    ) -> None:
        self.settings = settings
        self._transport = Transport(settings, on_response, before_write)
        self._lister = Lister(self._transport, settings)
        self._creator = Creator(
            self._lister.listing,
            self.get,
            settings.create_look_alikes,
            settle_seconds=settings.list_settle_seconds,
            keys_honoured=settings.idempotent_creates,
        )
        self.fan_out = FanOut(settings.max_concurrent_requests)
        """Many calls at once, at most `max_concurrent_requests` for this account."""

    def create(self, spec: WebhookSpec) -> str:
        """Create the webhook and return its id; never leaves a duplicate behind."""
        body = spec.to_api()

        def post(idempotency_key: str) -> str | None:
            return self.post_create(spec, idempotency_key)

        return self._creator.create(body, post)

    def post_create(self, spec: WebhookSpec, idempotency_key: str) -> str | None:
        """One `POST /webhooks`: the id its answer holds, None if it holds none, or `OutcomeUnknown`.
        Only the creator should call it (and `doctor`, which checks what a repeat does)."""
        body = spec.to_api()
        secrets = (spec.password, spec.token)
        try:
            response = self._transport.send(
                "POST", "/webhooks", body, secrets, headers={"Idempotency-Key": idempotency_key}
            )
        except errors.Unreachable as failure:
            raise OutcomeUnknown(f"no response: {failure.message}") from None
        if response.status_code >= 500:
            raise OutcomeUnknown(f"HTTP {response.status_code}")
        if response.status_code == 409 and self.settings.idempotent_creates:
            raise OutcomeUnknown("HTTP 409: the API is still making the first attempt")
        return id_of(self._transport.payload("POST", "/webhooks", response, secrets))

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
                "Fix or remove adopt_id (adoptId in YAML and the SDKs; list the account's webhooks with "
                "`pulumi-webhooks list`)",
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

    @property
    def busy(self) -> bool:
        """Whether a call to the API is in flight."""
        return self._transport.busy

    def listing(self) -> Listing:
        """The account's webhooks, every page of them (one listed without an id cannot be managed and is
        left out). A hint of what exists, never proof that a webhook is gone: the list may lag writes."""
        return self._lister.listing()

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

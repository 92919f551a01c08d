"""A webhook as the API reads it, and the rule that matches one to a body: one shape for every reader.

The API names a webhook's id in one of several ways; it is normalised here, once.
Reads mask secrets, so of a secret only whether it is set is known. The field
names come from the spec. Pure: no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .spec import API_NAMES, FLAG_FIELDS, MASK, SECRET_FIELDS, WebhookSpec

ID = API_NAMES["webhook_id"]
"""The id's name in state and in this package's own output."""
ID_KEYS = (ID, "id", "_id", "hookId")
"""Where an API body may carry a webhook's id, in the order they are looked at."""
SECRETS = tuple(API_NAMES[name] for name in SECRET_FIELDS)
VISIBLE = tuple(API_NAMES[name] for name in WebhookSpec.model_fields if name not in SECRET_FIELDS)
"""The fields a read shows as they are: every field but the secrets."""
_FLAGS = frozenset(API_NAMES[name] for name in FLAG_FIELDS)


def id_of(body: Any) -> str | None:
    """The webhook id an API body carries, under any of `ID_KEYS`; None when it has none."""
    if not isinstance(body, Mapping):
        return None
    for key in ID_KEYS:
        value = body.get(key)
        if isinstance(value, (int, str)) and not isinstance(value, bool) and str(value):
            return str(value)
    return None


def match_key(body: Mapping[str, Any]) -> tuple[Any, ...]:
    """What two bodies (API names) must share to be the same webhook, as far as a read can tell:
    every visible field, and whether each secret is set."""
    return (*(canonical(name, body.get(name)) for name in VISIBLE), *(bool(body.get(name)) for name in SECRETS))


@dataclass(frozen=True)
class LiveWebhook:
    """One webhook the API listed or read."""

    id: str
    fields: Mapping[str, Any]
    """The `VISIBLE` fields by API name; an empty string reads as None, a flag as a bool."""
    secrets_set: frozenset[str]
    """The `SECRETS` the API says are set (it shows them masked)."""

    @classmethod
    def of(cls, webhook_id: str, body: Mapping[str, Any]) -> LiveWebhook:
        """Webhook `webhook_id` as `body` (API names: a read, or what was written) shows it."""
        fields = {name: canonical(name, body.get(name)) for name in VISIBLE}
        return cls(webhook_id, fields, frozenset(name for name in SECRETS if body.get(name)))

    @classmethod
    def from_api(cls, body: Mapping[str, Any]) -> LiveWebhook | None:
        """The webhook a listed body describes; None when the body carries no id."""
        webhook_id = id_of(body)
        return None if webhook_id is None else cls.of(webhook_id, body)

    @property
    def endpoint(self) -> str:
        return str(self.fields.get(API_NAMES["endpoint"]) or "")

    @property
    def match_key(self) -> tuple[Any, ...]:
        """`match_key` of the body it was read from: its fields are already normalised."""
        return (*(self.fields[name] for name in VISIBLE), *(name in self.secrets_set for name in SECRETS))

    def looks_like(self, body: Mapping[str, Any]) -> bool:
        """Whether this webhook could be the one `body` (API names) describes."""
        return self.match_key == match_key(body)

    def as_api(self) -> dict[str, Any]:
        """As the API reads it: the id under `ID`, secrets masked when set."""
        masked = {name: MASK if name in self.secrets_set else None for name in SECRETS}
        return {ID: self.id, **self.fields, **masked}


def canonical(name: str, value: Any) -> Any:
    """A field's value (by API name) as every comparison of this package takes it: a flag as a bool, an
    empty string as absent (None, as the API takes it), and any other value as it is."""
    if name in _FLAGS:
        return bool(value)
    if isinstance(value, (dict, list)):  # not what the API should send, but match keys must hash
        return json.dumps(value, sort_keys=True)
    return None if value == "" else value

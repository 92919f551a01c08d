"""A catalog that takes an account's existing webhooks under management.

Each live webhook becomes a catalog entry with its `adopt_id`, so the next
`pulumi up` of a `WebhookFleet` over it updates them in place and creates
none. Secrets cannot be read back: each becomes a stack-config key for the
user to set.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from ..model.live import SECRETS, VISIBLE, LiveWebhook
from ..model.spec import API_NAMES, PYTHON_NAMES, REQUIRED_FIELDS

MAX_NAME = 63


def entry_name(endpoint: str, taken: set[str]) -> str:
    """A readable, unique catalog name from the endpoint's host and path."""
    parts = urlsplit(endpoint)
    host = (parts.hostname or "hook").removeprefix("www.")
    slug = re.sub(r"[^a-z0-9]+", "-", f"{host}{parts.path}".lower()).strip("-") or "hook"
    name, n = slug[:MAX_NAME].rstrip("-"), 2
    while name in taken:
        suffix = f"-{n}"
        name, n = slug[: MAX_NAME - len(suffix)].rstrip("-") + suffix, n + 1
    taken.add(name)
    return name


def secret_key(webhook_id: str, secret: str) -> str:
    """The stack-config key an adopted webhook's secret is read from, e.g. `hook42Token`."""
    return f"hook{re.sub(r'[^A-Za-z0-9]', '', webhook_id)}{secret.capitalize()}"


REQUIRED = {API_NAMES[name] for name in REQUIRED_FIELDS}


def catalog_for(webhooks: Iterable[LiveWebhook], team: str) -> tuple[dict[str, Any], list[str]]:
    """The catalog of `webhooks` under `team`, and the secret config keys it needs."""
    taken: set[str] = set()
    entries, keys = [], []
    for webhook in sorted(webhooks, key=lambda w: w.endpoint):
        entry: dict[str, Any] = {"name": entry_name(webhook.endpoint, taken)}
        # A field the API reads as unset or false is left out, as a catalog would leave it; a
        # required one never is, so that no team default fills it in unseen.
        entry |= {
            PYTHON_NAMES[name]: webhook.fields[name] for name in VISIBLE if webhook.fields[name] or name in REQUIRED
        }
        entry["adopt_id"] = webhook.id
        for secret in SECRETS:
            if secret in webhook.secrets_set:
                entry[f"{PYTHON_NAMES[secret]}_secret"] = secret_key(webhook.id, secret)
                keys.append(entry[f"{PYTHON_NAMES[secret]}_secret"])
        entries.append(entry)
    return {"teams": {team: {"hooks": entries}}}, keys

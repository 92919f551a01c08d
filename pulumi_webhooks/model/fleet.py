"""A `WebhookFleet`'s properties as state, the program and the recovery step hold them, by hook key
(`team/name`). Pure: the provider that acts on them is provider/fleet.py.

- `hooks`: each hook's fields by API name; in outputs with its `webhookId`, in inputs with its
  `adoptId` and `secretsVersion` when it has them. Never a secret, so `pulumi preview --diff`
  shows them.
- `secrets`: each hook's password or token, the whole map one secret in state.
- `webhookIds`: in outputs, each hook's id, for the program's `webhook_ids`.
- `apiAccount`: in outputs, the account the hooks live in (provider/gone.py).
"""

from __future__ import annotations

from typing import Any

from .spec import API_NAMES, FLAG_FIELDS

HOOKS = "hooks"
SECRET_MAP = "secrets"
WEBHOOK_IDS = "webhookIds"
ADOPT_KEY = API_NAMES["adopt_id"]
VERSION_KEY = API_NAMES["secrets_version"]
OWN_KEYS = (ADOPT_KEY, VERSION_KEY)
"""A hook's properties that are the provider's, not the API's."""
FLAGS = tuple(API_NAMES[name] for name in FLAG_FIELDS)

Hooks = dict[str, dict[str, Any]]
"""A fleet's `hooks` or `secrets` property: by hook key, the hook's values by API name."""

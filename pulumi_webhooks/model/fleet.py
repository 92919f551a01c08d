"""A `WebhookFleet`'s properties as state, the program and the recovery step hold them, by hook key
(`team/name`), and the plan that turns one state of them into another. Pure: the provider that
carries the plan out is provider/fleet.py.

- `hooks`: each hook's fields by API name; in outputs with its `webhookId`, in inputs with its
  `adoptId` and `secretsVersion` when it has them. Never a secret, so `pulumi preview --diff`
  shows them.
- `secrets`: each hook's password or token, the whole map one secret in state.
- `webhookIds`: in outputs, each hook's id, for the program's `webhook_ids`.
- `apiAccount`: in outputs, the account the hooks live in (provider/gone.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .live import SECRETS, VISIBLE, canonical
from .spec import API_NAMES, FLAG_FIELDS, WebhookSpec, parse

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


class Plan:
    """What turns the fleet's `olds` (its outputs in state, or nothing) into its `news` (inputs)."""

    def __init__(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> None:
        self.old_hooks: Hooks = dict(olds.get(HOOKS) or {})
        self.old_secrets: Hooks = dict(olds.get(SECRET_MAP) or {})
        self.hooks: Hooks = dict(news.get(HOOKS) or {})
        self.secrets: Hooks = dict(news.get(SECRET_MAP) or {})
        self.creates = sorted(key for key in self.hooks if key not in self.old_hooks)
        self.deletes = sorted(key for key in self.old_hooks if key not in self.hooks)
        self.updates = sorted(key for key in self.hooks if key in self.old_hooks and self._changed(key))

    def _changed(self, key: str) -> bool:
        old, new = self.old_hooks[key], self.hooks[key]
        if any(canonical(name, old.get(name)) != canonical(name, new.get(name)) for name in (*VISIBLE, VERSION_KEY)):
            return True
        return secrets_set(self.old_secrets, key) != secrets_set(self.secrets, key)

    def detailed_diff(self) -> dict[str, str]:
        """Each changed property path, `hooks["team/name"].endpoint` say, and its kind of change."""
        paths = {}
        for key in self.creates:
            paths[_path(HOOKS, key)] = "add"
        for key in self.deletes:
            paths[_path(HOOKS, key)] = "delete"
        for key in self.updates:
            old, new = self.old_hooks[key], self.hooks[key]
            for name in (*VISIBLE, VERSION_KEY):
                before, after = canonical(name, old.get(name)), canonical(name, new.get(name))
                if before != after:
                    kind = "add" if before is None else "delete" if after is None else "update"
                    paths[f"{_path(HOOKS, key)}.{name}"] = kind
        for key in sorted(set(self.hooks) | set(self.old_hooks)):
            before, after = secrets_set(self.old_secrets, key), secrets_set(self.secrets, key)
            if before != after:
                paths[_path(SECRET_MAP, key)] = "add" if not before else "delete" if not after else "update"
        return paths

    def spec(self, key: str) -> WebhookSpec:
        fields = {k: v for k, v in self.hooks[key].items() if k not in OWN_KEYS and v not in (None, "")}
        return parse(fields | {k: v for k, v in (self.secrets.get(key) or {}).items() if v})

    def adopt_id(self, key: str) -> str | None:
        adopt_id = self.hooks[key].get(ADOPT_KEY)
        return str(adopt_id) if adopt_id not in (None, "") else None


def secrets_set(secrets: Hooks, key: str) -> dict[str, Any]:
    """The secrets of hook `key` that are set: an empty one is no secret (the rules' view), so
    the fleet's diff and its update agree on what changed."""
    return {name: value for name, value in (secrets.get(key) or {}).items() if name in SECRETS and value}


def _path(prop: str, key: str) -> str:
    """A property path to one hook: its key quoted, since keys hold `/`."""
    return f"{prop}[{json.dumps(key)}]"

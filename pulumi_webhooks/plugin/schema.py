"""The `webhooks` package's Pulumi schema: what SDKs of every language and YAML programs are made from.

Written from the model and the settings table, never by hand, so that a field or a setting added
there is in the schema too (tests/test_plugin.py holds them together).
"""

from __future__ import annotations

import json
from typing import Any

from .. import __version__
from ..api.config import SETTINGS
from ..api.settings import ACCOUNT
from ..model import spec
from ..model.fleet import HOOKS, SECRET_MAP, WEBHOOK_IDS
from ..model.live import ID

PACKAGE = "webhooks"
WEBHOOK = f"{PACKAGE}:index:Webhook"
FLEET = f"{PACKAGE}:index:WebhookFleet"
AUTH_TYPE = f"{PACKAGE}:index:AuthType"
FLEET_HOOK = f"{PACKAGE}:index:FleetHook"
FLEET_SECRETS = f"{PACKAGE}:index:FleetHookSecrets"
ANY = {"$ref": "pulumi.json#/Any"}

FIELDS: dict[str, dict[str, Any]] = {
    "endpoint": {"type": "string", "description": "The http(s) URL the webhook calls."},
    "auth_type": {"$ref": f"#/types/{AUTH_TYPE}", "description": "How the webhook authenticates to its endpoint."},
    "is_alert_hook": {"type": "boolean", "description": "Whether the webhook receives alerts (default false)."},
    "user_name": {"type": "string", "description": "User name, with authType basic."},
    "password": {"type": "string", "secret": True, "description": "Password, with authType basic."},
    "token": {"type": "string", "secret": True, "description": "Token, with any other authType but none."},
}
OWN: dict[str, dict[str, Any]] = {
    "adopt_id": {
        "type": "string",
        "description": "The id of an existing webhook to take under management instead of creating one.",
    },
    "secrets_version": {
        **ANY,
        "description": "A number or short text; changing it sends the password or token again (after a rotation "
        "in the vendor's UI, say).",
    },
}
SCHEMA_TYPES = {"string": "string", "number": "number", "integer": "integer", "boolean": "boolean"}


def _api(properties: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {spec.API_NAMES[name]: value for name, value in properties.items()}


def _settings() -> dict[str, dict[str, Any]]:
    return {
        name: {"type": SCHEMA_TYPES[known.kind], "description": known.meaning}
        | ({"secret": True} if known.secret else {})
        for name, known in SETTINGS.items()
    }


def _plain(prop: dict[str, Any]) -> dict[str, Any]:
    """A property without its secret mark: inside a map that is a secret as a whole."""
    return {key: value for key, value in prop.items() if key != "secret"}


def _map_of(ref: str, description: str) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": {"$ref": f"#/types/{ref}"}, "description": description}


def _fleet() -> dict[str, Any]:
    visible = {name: prop for name, prop in FIELDS.items() if name not in spec.SECRET_FIELDS}
    secrets = {name: prop for name, prop in FIELDS.items() if name in spec.SECRET_FIELDS}
    hooks = _map_of(FLEET_HOOK, "Each hook's fields, by its key (`team/name` in a catalog; any stable name).")
    hook_secrets = {
        **_map_of(FLEET_SECRETS, "Each hook's password or token, by its key: the whole map is a secret."),
        "secret": True,
    }
    return {
        "types": {
            FLEET_HOOK: {
                "type": "object",
                "description": "A hook of a fleet: its fields but the secrets; in outputs, with its webhookId.",
                "properties": _api(visible) | _api(OWN) | {ID: {"type": "string", "description": "The id (outputs)."}},
                "required": [spec.API_NAMES[name] for name in spec.REQUIRED_FIELDS],
            },
            FLEET_SECRETS: {
                "type": "object",
                "description": "A hook's secrets.",
                "properties": {
                    key: {k: v for k, v in prop.items() if k != "secret"} for key, prop in _api(secrets).items()
                },
            },
        },
        "resource": {
            "description": "Many webhooks as one resource: one engine step for all of them, the API calls made many "
            "at a time (maxConcurrentRequests), a hook that fails named while the others are kept.",
            "inputProperties": {HOOKS: hooks, SECRET_MAP: hook_secrets},
            "requiredInputs": [HOOKS],
            "properties": {
                HOOKS: hooks,
                SECRET_MAP: hook_secrets,
                WEBHOOK_IDS: {
                    "type": "object",
                    "additionalProperties": {"type": "string"},
                    "description": "Each hook's webhook id, by its key.",
                },
                ACCOUNT: {**ANY, "description": "The account the hooks live in: the API's URL and who signs in."},
            },
            "required": [HOOKS, WEBHOOK_IDS],
        },
    }


def schema() -> dict[str, Any]:
    inputs = _api(FIELDS) | _api(OWN)
    fleet = _fleet()
    outputs = {
        spec.API_NAMES["webhook_id"]: {"type": "string", "description": "The webhook's id in the API."},
        **_api(FIELDS),
        spec.API_NAMES["secrets_version"]: OWN["secrets_version"],
        ACCOUNT: {**ANY, "description": "The account the webhook lives in: the API's URL and who signs in."},
    }
    return {
        "name": PACKAGE,
        "displayName": "Webhooks",
        "version": __version__,
        "description": "Webhooks of the vendor's REST API as resources.",
        "keywords": ["webhooks", "category/utility"],
        "license": "Apache-2.0",
        "config": {"variables": _settings()},
        "provider": {
            "description": "One account of the webhooks API. Each setting falls back to its WEBHOOKS_ variable.",
            "inputProperties": _settings(),
        },
        "types": {
            AUTH_TYPE: {
                "type": "string",
                "description": "How a webhook authenticates to its endpoint.",
                "enum": [{"value": t.value, "name": t.name.title()} for t in spec.AuthType],
            },
            **fleet["types"],
        },
        "resources": {
            WEBHOOK: {
                "description": "A webhook: the API calls `endpoint` on the account's events.",
                "inputProperties": inputs,
                "requiredInputs": [spec.API_NAMES[name] for name in spec.REQUIRED_FIELDS],
                "properties": outputs,
                "required": [ID, *(spec.API_NAMES[name] for name in (*spec.REQUIRED_FIELDS, "is_alert_hook"))],
            },
            FLEET: fleet["resource"],
        },
        "language": {
            "nodejs": {"packageName": "@pulumi-webhooks/webhooks", "dependencies": {"@pulumi/pulumi": "^3.0.0"}},
            "go": {"importBasePath": "github.com/pulumi-webhooks/webhooks/sdk/go/webhooks"},
            "csharp": {"rootNamespace": "PulumiWebhooks", "packageReferences": {"Pulumi": "3.*"}},
        },
    }


def schema_json() -> str:
    return json.dumps(schema(), indent=2, sort_keys=True)

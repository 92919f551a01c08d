"""The vendor's rules for a webhook body (create and update), written for the server alone.

Messages name fields, never values: a value could be a secret.
"""

from __future__ import annotations

from typing import Any

from .store import WebhookFields

AUTH_TYPES = ("none", "basic", "querystring", "authheader", "header", "bearer")
TOKEN_AUTH_TYPES = frozenset({"querystring", "authheader", "header", "bearer"})
KNOWN_FIELDS = ("isAlertHook", "endpoint", "authType", "userName", "password", "token")
_CREDENTIALS = ("userName", "password", "token")


class ValidationError(ValueError):
    """The body breaks a rule; str(error) is safe to send back."""


def _field_label(name: str) -> str:
    # Unknown field names come from the client: keep them short and printable.
    shown = name if len(name) <= 64 else name[:61] + "..."
    return repr(shown) if shown.isprintable() else repr(shown.encode("unicode_escape").decode())


def validate_webhook(body: Any) -> WebhookFields:
    if not isinstance(body, dict):
        raise ValidationError("Request body must be a JSON object")

    unknown = [name for name in body if name not in KNOWN_FIELDS]
    if unknown:
        raise ValidationError("Unknown field(s): " + ", ".join(_field_label(name) for name in unknown))

    problems: list[str] = []

    endpoint = body.get("endpoint")
    if endpoint is None or endpoint == "":
        problems.append("endpoint is required")
    elif not isinstance(endpoint, str):
        problems.append("endpoint must be a string")

    auth_type = body.get("authType")
    if auth_type is None or auth_type == "":
        problems.append("authType is required")
    elif not isinstance(auth_type, str) or auth_type not in AUTH_TYPES:
        problems.append("authType must be one of " + ", ".join(AUTH_TYPES))
        auth_type = None

    is_alert_hook = body.get("isAlertHook")
    # bool is checked by type: JSON 1 and "true" are not booleans.
    if is_alert_hook is not None and type(is_alert_hook) is not bool:
        problems.append("isAlertHook must be a boolean")

    credentials: dict[str, str | None] = {}
    for name in _CREDENTIALS:
        value = body.get(name)
        if value is not None and not isinstance(value, str):
            problems.append(f"{name} must be a string or null")
            value = None
        # An empty string counts as absent.
        credentials[name] = value or None

    if problems:
        raise ValidationError("; ".join(problems))

    problems = _credential_problems(str(auth_type), credentials)
    if problems:
        raise ValidationError("; ".join(problems))

    return WebhookFields(
        is_alert_hook=bool(is_alert_hook),
        endpoint=str(endpoint),
        auth_type=str(auth_type),
        user_name=credentials["userName"],
        password=credentials["password"],
        token=credentials["token"],
    )


def _credential_problems(auth_type: str, credentials: dict[str, str | None]) -> list[str]:
    present = {name for name, value in credentials.items() if value is not None}
    if auth_type == "none":
        required: set[str] = set()
    elif auth_type == "basic":
        required = {"userName", "password"}
    else:
        required = {"token"}

    problems = [
        f"{name} is required when authType is {auth_type}"
        for name in _CREDENTIALS
        if name in required and name not in present
    ]
    problems += [
        f"{name} must not be set when authType is {auth_type}"
        for name in _CREDENTIALS
        if name in present and name not in required
    ]
    return problems

"""The webhook's fields and credential rules: the one place they are written down.

Everything here is pure: no I/O, no Pulumi. `check()`, the resource and the
client all read the rules and the Python <-> API name mapping from this module.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from ..errors import WebhooksError
from . import endpoint

MASK = "********"
"""What the API returns in place of a stored password or token."""


class AuthType(StrEnum):
    """How the webhook authenticates to its endpoint."""

    NONE = "none"
    BASIC = "basic"
    QUERYSTRING = "querystring"
    AUTHHEADER = "authheader"
    HEADER = "header"
    BEARER = "bearer"


AUTH_TYPE_VALUES = ", ".join(t.value for t in AuthType)
AUTH_TYPE_SET = frozenset(t.value for t in AuthType)

# Which credential fields each auth type takes; every other one must be absent.
CREDENTIALS_BY_AUTH_TYPE: dict[AuthType, frozenset[str]] = {
    AuthType.NONE: frozenset(),
    AuthType.BASIC: frozenset({"user_name", "password"}),
    AuthType.QUERYSTRING: frozenset({"token"}),
    AuthType.AUTHHEADER: frozenset({"token"}),
    AuthType.HEADER: frozenset({"token"}),
    AuthType.BEARER: frozenset({"token"}),
}
REQUIRED_FIELDS = ("endpoint", "auth_type")
CREDENTIAL_FIELDS = ("user_name", "password", "token")
SECRET_FIELDS = ("password", "token")
MAX_LENGTHS = {"endpoint": endpoint.MAX_LENGTH, "user_name": 256, "password": 1024, "token": 4096}
"""Characters, per string field: a JWT fits in a token, a 70 KB endpoint is refused at plan time."""
_VISIBLE_ASCII = re.compile(r"[!-~]+")


def _rule(message: str) -> PydanticCustomError:
    return PydanticCustomError("webhook_rule", message)


def _is_unknown(info: ValidationInfo, field: str) -> bool:
    return field in ((info.context or {}).get("unknown") or ())


def suggest_auth_type(value: str) -> str | None:
    """The auth type a near miss such as `Bearer` or `basic_auth` most likely meant."""
    folded = value.strip().lower().replace("_", "").replace("-", "").replace(" ", "")
    for auth_type in AuthType:
        if folded in (auth_type.value, auth_type.value + "auth", "auth" + auth_type.value):
            return auth_type.value
    close = difflib.get_close_matches(folded, [t.value for t in AuthType], n=1, cutoff=0.6)
    return close[0] if close else None


class WebhookSpec(BaseModel):
    """A webhook as the API takes it. Field names are Python's; aliases are the API's.

    Validation context: `{"unknown": {field names}}` lists fields whose value is
    not known yet (a Pulumi preview); rules that depend on them are deferred.
    """

    model_config = ConfigDict(
        alias_generator=to_camel,  # the API's names only: `auth_type` is not a property, as the API says
        extra="forbid",
        frozen=True,
        hide_input_in_errors=True,
    )

    endpoint: StrictStr | None = Field(default=None, validate_default=True)
    auth_type: AuthType | None = Field(default=None, validate_default=True)
    is_alert_hook: StrictBool = False
    user_name: StrictStr | None = Field(default=None, validate_default=True)
    password: StrictStr | None = Field(default=None, validate_default=True, repr=False)
    token: StrictStr | None = Field(default=None, validate_default=True, repr=False)

    @field_validator("endpoint")
    @classmethod
    def _endpoint_is_http_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None or value == "":
            if _is_unknown(info, "endpoint"):
                return None
            raise _rule("endpoint is required: set it to the http(s) URL the webhook calls")
        reason = endpoint.problem(value)
        if reason is not None:
            raise _rule(reason)
        return value  # as written: a normalised copy would show as a change on every preview

    @field_validator("is_alert_hook", mode="before")
    @classmethod
    def _null_flag_is_false(cls, value: Any) -> Any:
        return False if value is None else value  # as the API takes a null isAlertHook

    @field_validator("auth_type", mode="before")
    @classmethod
    def _auth_type_is_exact(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None or value == "":
            if _is_unknown(info, "auth_type"):
                return None
            raise _rule(f"authType is required: set it to one of {AUTH_TYPE_VALUES}")
        if isinstance(value, AuthType):
            return value
        if isinstance(value, str) and value in AUTH_TYPE_SET:
            return AuthType(value)
        hint = suggest_auth_type(value) if isinstance(value, str) else None
        did_you_mean = f"; did you mean '{hint}'?" if hint else ""
        raise _rule(f"authType must be exactly one of {AUTH_TYPE_VALUES}{did_you_mean}")

    @field_validator(*CREDENTIAL_FIELDS, mode="before")
    @classmethod
    def _empty_credential_is_absent(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator(*CREDENTIAL_FIELDS)
    @classmethod
    def _credential_is_usable(cls, value: str | None, info: ValidationInfo) -> str | None:
        """A value a receiver can be sent: no stray line break from a file, no blank, no overlong string."""
        if value is None:
            return None
        field = info.field_name or ""
        prop = to_camel(field)
        limit = MAX_LENGTHS[field]
        if len(value) > limit:
            raise _rule(f"{prop} is {len(value)} characters long; the limit is {limit}")
        if endpoint.invisible_at(value.replace(" ", "")) is not None:
            raise _rule(
                f"{prop} contains a line break, tab or other control or invisible character: remove it "
                "(a value read from a file often ends in a line break)"
            )
        if not value.strip():
            raise _rule(f"{prop} is blank: set the real value, or leave {prop} out")
        if value != value.strip():
            raise _rule(f"{prop} starts or ends with a space: remove the space")
        if field == "user_name" and ":" in value:
            raise _rule("userName must not contain ':', which HTTP basic auth puts between user name and password")
        if field == "token" and not _VISIBLE_ASCII.fullmatch(value):
            raise _rule("token may contain only letters, digits and ASCII punctuation: no spaces or accented letters")
        return value

    @field_validator(*CREDENTIAL_FIELDS)
    @classmethod
    def _credentials_match_auth_type(cls, value: str | None, info: ValidationInfo) -> str | None:
        field = info.field_name or ""
        prop = to_camel(field)
        present = value is not None
        maybe_present = present or _is_unknown(info, field)
        auth_type = info.data.get("auth_type")
        if auth_type is None:
            # Unknown or invalid auth type: only rule 4 (no user credentials
            # together with a token) can still be judged, and it is reported on token.
            if (
                field == "token"
                and present
                and (info.data.get("user_name") is not None or info.data.get("password") is not None)
            ):
                raise _rule(
                    "token cannot be set together with userName/password: a webhook "
                    "takes either user credentials (authType basic) or a token"
                )
            return value
        wanted = CREDENTIALS_BY_AUTH_TYPE[auth_type]
        if field in wanted and not maybe_present:
            hint = (info.context or {}).get("secret_hint", "from a secret, e.g. config.require_secret(...)")
            source = f" {hint.format(field=field)}" if field in SECRET_FIELDS else ""
            raise _rule(f"{prop} is required when authType is '{auth_type.value}': set it{source}")
        if field not in wanted and present:
            takes = " and ".join(to_camel(f) for f in CREDENTIAL_FIELDS if f in wanted)
            raise _rule(
                f"{prop} is not used when authType is '{auth_type.value}' (it takes {takes or 'no credentials'}): "
                f"remove {prop}, or change authType"
            )
        return value

    def to_api(self) -> dict[str, Any]:
        """The JSON body the API's create and update take."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


FLAG_FIELDS = tuple(name for name, field in WebhookSpec.model_fields.items() if field.annotation is bool)
"""The true/false fields; absent means false."""
API_NAMES: dict[str, str] = {name: field.alias or name for name, field in WebhookSpec.model_fields.items()}
"""Python name -> API (and state) name, e.g. `user_name` -> `userName`."""
API_NAMES["webhook_id"] = "webhookId"
API_NAMES["adopt_id"] = "adoptId"  # resource properties, not API fields: see the provider
API_NAMES["secrets_version"] = "secretsVersion"
PYTHON_NAMES: dict[str, str] = {api: py for py, api in API_NAMES.items()}
INPUT_NAMES = ", ".join(field.alias or name for name, field in WebhookSpec.model_fields.items())


def secrets_version_problem(value: Any, name: str = "secretsVersion") -> str | None:
    """What is wrong with a secrets version (a number or short text whose change sends the secrets again)."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return None
    if isinstance(value, float) and value.is_integer():  # a number, as the engine passes one
        return None
    if isinstance(value, str) and value.strip() and len(value) <= 64:
        return None
    return f"{name} must be a number or a short text (at most 64 characters), such as 2"


@dataclass(frozen=True)
class Problem:
    """One broken rule: the API property that must change, and how to fix it."""

    property: str
    reason: str


def find_problems(
    props: Mapping[str, Any], unknown: Collection[str] = (), secret_hint: str | None = None
) -> list[Problem]:
    """Every rule `props` (API names) breaks, one problem per property.

    `unknown` names properties (API names) whose value is not known yet; rules
    that depend on them are deferred rather than failed. `secret_hint` says where a
    missing secret comes from in the caller's terms (`{field}` is its Python name);
    by default, a Python program's.
    """
    unknown_fields = {PYTHON_NAMES.get(name, name) for name in unknown}
    known = {k: v for k, v in props.items() if k not in unknown}
    try:
        context: dict[str, Any] = {"unknown": unknown_fields}
        if secret_hint is not None:
            context["secret_hint"] = secret_hint
        WebhookSpec.model_validate(known, context=context)
    except ValidationError as error:
        return _problems_from(error)
    return []


def parse(props: Mapping[str, Any]) -> WebhookSpec:
    """The spec for fully known `props` (API names); raises `SpecError` if any rule breaks."""
    try:
        return WebhookSpec.model_validate(dict(props))
    except ValidationError as error:
        raise SpecError(_problems_from(error)) from None


def _problems_from(error: ValidationError) -> list[Problem]:
    problems: dict[str, Problem] = {}
    for detail in error.errors(include_url=False, include_input=False, include_context=False):
        field = str(detail["loc"][0]) if detail["loc"] else ""
        prop = field if detail["type"] == "extra_forbidden" else API_NAMES.get(field, field)
        if detail["type"] == "webhook_rule":
            reason = detail["msg"]
        elif detail["type"] == "extra_forbidden":
            reason = f"{prop} is not a webhook property: remove it (known: {INPUT_NAMES})"
        else:
            reason = f"{prop}: {detail['msg']}"
        problems.setdefault(prop, Problem(prop, reason))
    return list(problems.values())


class SpecError(WebhooksError, ValueError):
    """The webhook breaks one or more rules; the message lists them, never a secret."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(p.reason for p in problems))

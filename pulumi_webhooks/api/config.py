"""Provider settings from stack config, with environment-variable fallbacks.

The default connection reads `webhooks:apiUrl` / `WEBHOOKS_API_URL` and so on;
a named connection, say `billing`, reads `webhooks:billing.apiUrl` /
`WEBHOOKS_BILLING_API_URL`. Every error names both the key and the variable.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..errors import ConfigError
from .settings import LIST_STYLES, ClientSettings

NAMESPACE = "webhooks"
CONNECTION_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
PARAMETER = re.compile(r"^[A-Za-z0-9_.\-\[\]]{1,64}$")


ConfigGetter = Callable[[str], Any]


@dataclass(frozen=True)
class Known:
    """A setting the provider reads: its variable's suffix, its type (a schema's), whether it is a
    secret, and what it means."""

    variable: str
    kind: str
    meaning: str
    secret: bool = False


SETTINGS: dict[str, Known] = {
    "apiUrl": Known("API_URL", "string", "base URL of the API (required)"),
    "apiToken": Known("API_TOKEN", "string", "a static API bearer token, or apiUserName with apiPassword", True),
    "apiUserName": Known("API_USERNAME", "string", "user name for `POST /authtoken`"),
    "apiPassword": Known("API_PASSWORD", "string", "password for `POST /authtoken`", True),
    "timeoutSeconds": Known("TIMEOUT_SECONDS", "number", "read timeout of each API call (default 30)"),
    "maxRequestsPerSecond": Known(
        "MAX_REQUESTS_PER_SECOND", "number", "client-side limit of API calls per second (the API's quota)"
    ),
    "maxConcurrentRequests": Known(
        "MAX_CONCURRENT_REQUESTS", "integer", "how many API calls the provider makes at once, 1 to 256 (default 16)"
    ),
    "createLookAlikes": Known(
        "CREATE_LOOK_ALIKES", "boolean", "create a webhook even when an identical one exists (default false)"
    ),
    "listPaging": Known("LIST_PAGING", "string", f"how `GET /webhooks` pages: {', '.join(LIST_STYLES)}"),
    "listPageSize": Known("LIST_PAGE_SIZE", "integer", "the page size asked for (default 100)"),
    "listPageParam": Known("LIST_PAGE_PARAM", "string", "the query parameter of the page, cursor or offset"),
    "listPageSizeParam": Known("LIST_PAGE_SIZE_PARAM", "string", "the query parameter of the page size"),
    "listMaxPages": Known("LIST_MAX_PAGES", "integer", "a list longer than this many pages is an error (1,000)"),
    "listSettleSeconds": Known(
        "LIST_SETTLE_SECONDS", "number", "how long a write may take to show in the list (default 10)"
    ),
    "idempotentCreates": Known("IDEMPOTENT_CREATES", "boolean", "the API honours Idempotency-Key (default false)"),
    "allowManyGone": Known(
        "ALLOW_MANY_GONE", "boolean", "a refresh may drop more than half of a stack's webhooks (for one run)"
    ),
}
"""Every setting, by its name in stack config (after `webhooks:`) and in a provider's inputs."""


@dataclass(frozen=True)
class Setting:
    """One setting: its stack-config key and its environment variable."""

    key: str
    variable: str

    def __str__(self) -> str:
        return f"{self.key} (or {self.variable})"


def setting(name: str, connection: str | None) -> Setting:
    """Where setting `name` (of `SETTINGS`) of `connection` is read."""
    suffix = SETTINGS[name].variable
    if connection:
        return Setting(f"{NAMESPACE}:{connection}.{name}", f"WEBHOOKS_{connection.upper()}_{suffix}")
    return Setting(f"{NAMESPACE}:{name}", f"WEBHOOKS_{suffix}")


def provider_inputs(*layers: Mapping[str, Any]) -> ConfigGetter:
    """The settings of a provider resource (`apiUrl: ...`, as the plugin's Configure and state hold
    them), read as stack config is (`webhooks:apiUrl`, in text); the first layer that has one wins."""

    def get(key: str) -> Any:
        name = key.split(":", 1)[-1]
        return next((_config_text(layer[name]) for layer in layers if name in layer), None)

    return get


def _config_text(value: Any) -> Any:
    """A provider input as the settings read config text: `true`, `5`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value


def check_connection_name(connection: str | None) -> None:
    if connection is not None and not CONNECTION_NAME.match(connection):
        raise ConfigError(
            f"connection name {connection!r} is not valid: use letters, digits and underscores, "
            "starting with a letter (it becomes part of config keys and variable names)"
        )


def client_settings(get: ConfigGetter, environ: Mapping[str, str], connection: str | None = None) -> ClientSettings:
    """The client settings of `connection`, or a `ConfigError` that says what to set."""
    check_connection_name(connection)
    url_setting = setting("apiUrl", connection)
    token_setting = setting("apiToken", connection)
    user_setting = setting("apiUserName", connection)
    password_setting = setting("apiPassword", connection)
    timeout_setting = setting("timeoutSeconds", connection)
    rate_setting = setting("maxRequestsPerSecond", connection)
    concurrency_setting = setting("maxConcurrentRequests", connection)
    look_alikes_setting = setting("createLookAlikes", connection)
    paging_setting = setting("listPaging", connection)
    page_size_setting = setting("listPageSize", connection)
    page_param_setting = setting("listPageParam", connection)
    size_param_setting = setting("listPageSizeParam", connection)
    max_pages_setting = setting("listMaxPages", connection)
    settle_setting = setting("listSettleSeconds", connection)
    idempotent_setting = setting("idempotentCreates", connection)
    many_gone_setting = setting("allowManyGone", connection)

    def from_config(s: Setting) -> str | None:
        value = get(s.key)
        return _clean(str(value), s) if value not in (None, "") else None

    def from_env(s: Setting) -> str | None:
        value = environ.get(s.variable)
        return _clean(value, s) if value else None

    def lookup(s: Setting) -> str | None:
        return from_config(s) or from_env(s)

    api_url = lookup(url_setting)
    if api_url is None:
        raise ConfigError(
            f"the webhooks API URL is not set: run `pulumi config set {url_setting.key} https://...` "
            f"or set the environment variable {url_setting.variable}"
        )
    parts = urlsplit(api_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"{url_setting} must be an http:// or https:// URL with a host, such as https://api.example.com"
        )
    if "@" in parts.netloc:
        raise ConfigError(
            f"{url_setting} must not carry credentials (user:password@host): "
            f"use {token_setting}, or {user_setting} and {password_setting}"
        )

    # Stack config wins over the environment as a whole, so a CI variable never
    # mixes with a stack's own credentials.
    credentials = (token_setting, user_setting, password_setting)
    source = from_config if any(from_config(s) for s in credentials) else from_env
    token, user, password = (source(s) for s in credentials)
    if token and (user or password):
        raise ConfigError(f"set either {token_setting} or {user_setting} with {password_setting}, not both")
    if not token and not (user and password):
        if user or password:
            missing = password_setting if user else user_setting
            raise ConfigError(
                f"{missing} is not set; it is needed together with {user_setting if user else password_setting}"
            )
        raise ConfigError(
            f"no webhooks API credentials: set {token_setting} as a secret "
            f"(`pulumi config set --secret {token_setting.key} ...`), "
            f"or {user_setting} and {password_setting}"
        )
    if token:
        hint = (
            f"The API refused the token from {token_setting}: set a valid one "
            f"(`pulumi config set --secret {token_setting.key} ...`)"
        )
    else:
        hint = f"The API refused the login of {user_setting} with {password_setting}: check both"

    timeout = _number(lookup(timeout_setting), timeout_setting, "a number of seconds between 0 and 600", 600) or 30.0
    rate = _number(lookup(rate_setting), rate_setting, "a number of requests per second between 0 and 10000", 10000)
    concurrency = _whole(lookup(concurrency_setting), concurrency_setting, 256)

    paging = lookup(paging_setting) or "auto"
    if paging not in LIST_STYLES:
        raise ConfigError(f"{paging_setting} must be one of {', '.join(LIST_STYLES)}")
    page_size = _whole(lookup(page_size_setting), page_size_setting, 10000)
    max_pages = _whole(lookup(max_pages_setting), max_pages_setting, 1_000_000)
    settle = _number(lookup(settle_setting), settle_setting, "a number of seconds between 0 and 600", 600)
    page_param, size_param = (_parameter(lookup(s), s) for s in (page_param_setting, size_param_setting))

    return ClientSettings(
        api_url=api_url,
        api_token=token,
        user_name=None if token else user,
        password=None if token else password,
        read_timeout=timeout,
        max_requests_per_second=rate,
        max_concurrent_requests=concurrency or ClientSettings.max_concurrent_requests,
        credential_hint=hint,
        create_look_alikes=_flag(lookup(look_alikes_setting), look_alikes_setting),
        list_paging=paging,
        list_page_size=page_size or ClientSettings.list_page_size,
        list_page_param=page_param,
        list_size_param=size_param,
        list_max_pages=max_pages or ClientSettings.list_max_pages,
        list_settle_seconds=ClientSettings.list_settle_seconds if settle is None else settle,
        idempotent_creates=_flag(lookup(idempotent_setting), idempotent_setting),
        allow_many_gone=_flag(lookup(many_gone_setting), many_gone_setting),
    )


def _clean(value: str, where: Setting) -> str | None:
    """The value without surrounding whitespace (a token read from a file ends in a newline)."""
    value = value.strip()
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ConfigError(f"{where} contains a control character: set it again, without line breaks")
    return value or None


def _number(raw: str | None, where: Setting, what: str, highest: float) -> float | None:
    """A positive number setting, or None when unset."""
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= highest:
        raise ConfigError(f"{where} must be {what}")
    return value


def _whole(raw: str | None, where: Setting, highest: int) -> int | None:
    """A whole-number setting from 1 to `highest`, or None when unset."""
    value = _number(raw, where, f"a whole number from 1 to {highest:,}", highest)
    if value is not None and not value.is_integer():
        raise ConfigError(f"{where} must be a whole number from 1 to {highest:,}")
    return None if value is None else int(value)


def _parameter(raw: str | None, where: Setting) -> str | None:
    """A query parameter's name, or None when unset."""
    if raw is not None and not PARAMETER.match(raw):
        raise ConfigError(f"{where} must be a query parameter's name, such as page or per_page")
    return raw


def _flag(raw: str | None, where: Setting) -> bool:
    """A true/false setting, false when unset."""
    if raw is None:
        return False
    if raw.lower() not in ("true", "false"):
        raise ConfigError(f"{where} must be true or false")
    return raw.lower() == "true"

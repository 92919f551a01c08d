"""The vendor's rules for a webhook body (create and update), written for the server alone.

Messages name fields, never values: a value could be a secret. The endpoint and
string rules are docs/resource.md's, implemented here on their own (the standard
library's URL splitter, `ipaddress`, `idna`) so that the provider's plan-time
check, built on pydantic, has an independent opponent to agree with.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from typing import Any
from urllib.parse import urlsplit

import idna

from .store import WebhookFields

AUTH_TYPES = ("none", "basic", "querystring", "authheader", "header", "bearer")
KNOWN_FIELDS = ("isAlertHook", "endpoint", "authType", "userName", "password", "token")
_CREDENTIALS = ("userName", "password", "token")
MAX_LENGTHS = {"endpoint": 2048, "userName": 256, "password": 1024, "token": 4096}
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_NUMERIC = re.compile(r"[0-9]+|0x[0-9a-f]*", re.IGNORECASE)  # a last label that makes the host an IPv4 address
_LDH = re.compile(r"(?!-)[A-Za-z0-9_-]+(?<!-)")


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
    elif (reason := _endpoint_problem(endpoint)) is not None:
        problems.append(reason)

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
        elif value and (reason := _text_problem(name, value)) is not None:
            problems.append(reason)
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


def _has_invisible(text: str) -> bool:
    """Control, format, private or unassigned characters, and every kind of space or line break."""
    return any(unicodedata.category(c).startswith(("C", "Z")) for c in text)


def _text_problem(name: str, value: str) -> str | None:
    if len(value) > MAX_LENGTHS[name]:
        return f"{name} must be at most {MAX_LENGTHS[name]} characters"
    if _has_invisible(value.replace(" ", "")):
        return f"{name} must not contain control characters"
    if value.strip(" ") != value:
        return f"{name} must not be blank or start or end with a space"
    if name == "userName" and ":" in value:
        return "userName must not contain ':'"
    if name == "token" and not all("!" <= c <= "~" for c in value):
        return "token must be printable ASCII without spaces"
    return None


def _endpoint_problem(url: str) -> str | None:
    if len(url) > MAX_LENGTHS["endpoint"]:
        return f"endpoint must be at most {MAX_LENGTHS['endpoint']} characters"
    if _has_invisible(url) or "\\" in url:
        return "endpoint must not contain whitespace, control characters or backslashes"
    # Checked on the raw text: urlsplit itself accepts "https:host" and "https:/host".
    if not url.lower().startswith(("http://", "https://")):
        return "endpoint must be an absolute http or https URL"
    try:
        parts = urlsplit(url)
    except ValueError:  # an unbalanced or invalid [IPv6] literal
        return "endpoint has an invalid host"
    if "@" in parts.netloc:
        return "endpoint must not contain user info"
    if "#" in url:
        return "endpoint must not contain a fragment"
    if _BAD_PERCENT.search(url):
        return "endpoint has an invalid percent-encoding"
    host, port = _host_and_port(parts.netloc)
    if port is not None and not (port.isascii() and port.isdigit() and len(port) <= 5 and 0 < int(port) < 65536):
        return "endpoint has an invalid port"
    if not host:
        return "endpoint must have a host"
    if not _host_is_valid(host):
        return "endpoint has an invalid host"
    return None


def _host_and_port(netloc: str) -> tuple[str, str | None]:
    """The host (IPv6 literals with their brackets) and the port text, None when there is no colon."""
    if netloc.startswith("["):
        end = netloc.find("]")
        if end < 0:
            return netloc, None
        rest = netloc[end + 1 :]
        if rest and not rest.startswith(":"):
            return netloc, None  # junk after the bracket: an invalid host
        return netloc[: end + 1], rest[1:] if rest else None
    host, colon, port = netloc.partition(":")
    return host, port if colon else None


def _host_is_valid(host: str) -> bool:
    if host.startswith("["):
        literal = host[1:-1] if host.endswith("]") else ""
        try:
            return "%" not in literal and ipaddress.ip_address(literal).version == 6
        except ValueError:
            return False
    labels = host.split(".")
    if "" in labels:
        return False
    # The labels as DNS will see them: UTS 46 maps full-width digits and ideographic full stops too.
    dns_labels: list[str] = []
    for label in labels:
        if label.isascii() and label[:4].lower() != "xn--":
            if not _LDH.fullmatch(label):
                return False
            dns_labels.append(label)
        else:
            try:
                dns_labels.extend(idna.encode(label, uts46=True).decode("ascii").split("."))
            except idna.IDNAError:
                return False
    if "" in dns_labels:
        return False
    if _NUMERIC.fullmatch(dns_labels[-1]):
        try:
            return ipaddress.ip_address(".".join(dns_labels)).version == 4
        except ValueError:
            return False
    if _is_bidi_domain(host) and not all(_passes_bidi_rule(label) for label in labels):
        return False
    return all(len(label) <= 63 for label in dns_labels) and len(".".join(dns_labels)) <= 253


def _is_bidi_domain(host: str) -> bool:
    return any(unicodedata.bidirectional(c) in ("R", "AL", "AN") for c in host)


def _passes_bidi_rule(label: str) -> bool:
    """RFC 5893, for every label of a domain with a right-to-left one."""
    try:
        if label[:4].lower() == "xn--":
            label = idna.decode(label)
        elif not label.isascii():
            label = idna.uts46_remap(label)
        return all(idna.check_bidi(part, check_ltr=True) for part in label.split("."))
    except idna.IDNAError:
        return False

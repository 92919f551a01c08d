"""The endpoint rule: a URL every receiver can be called at, kept exactly as the user wrote it.

pydantic's `AnyHttpUrl` (the WHATWG URL parser) has the last word, but it quietly
repairs what it can: it drops line breaks, decodes `%6d` in a host, reads
`1.2.3` as `1.2.0.3` and `https:host` as `https://host`. Stored as written, such
a URL would then reach the API and the receiver unrepaired, so the checks below
refuse, before the parser sees it, everything the parser would rewrite. Pure:
no I/O. Messages never quote the URL: its query may hold a key.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata

import idna
from pydantic import AnyHttpUrl, TypeAdapter, ValidationError

MAX_LENGTH = 2048
"""Characters; what browsers, proxies and most receivers handle."""

EXAMPLE = "https://ops.example.com/hook"
_SCHEME = re.compile(r"https?://", re.IGNORECASE)
_AUTHORITY = re.compile(r"[^/?#]*")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_PORT = re.compile(r"[0-9]{1,5}")
_ASCII_LABEL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?")
_NUMBER_LABEL = re.compile(r"[0-9]+|0[xX][0-9A-Fa-f]*")
_URL = TypeAdapter(AnyHttpUrl)
_EMPTY_PART = "endpoint host has an empty part (two dots in a row, or a dot at the start or end): remove the extra dot"
_NOT_IDN = "endpoint host is not a valid international domain name: check its spelling"


def invisible_at(value: str) -> int | None:
    """The 1-based position of the first control, format, or unassigned character, or space."""
    for position, char in enumerate(value, 1):
        if unicodedata.category(char)[0] in "CZ":
            return position
    return None


def embeds_credentials(url: object) -> bool:
    """Whether `url` carries `user[:password]@` before its host."""
    if not isinstance(url, str) or (scheme := _SCHEME.match(url)) is None:
        return False
    authority = _AUTHORITY.match(url, scheme.end())
    return authority is not None and "@" in authority.group()


def problem(url: str) -> str | None:
    """Why `url` cannot be a webhook endpoint, as a sentence that says how to fix it; None if it can."""
    if len(url) > MAX_LENGTH:
        return f"endpoint is {len(url)} characters long; the limit is {MAX_LENGTH}: use a shorter URL"
    if (position := invisible_at(url)) is not None:
        return (
            f"endpoint contains a space, line break or other invisible character (character {position}): "
            "remove it, or write a space in the path or query as %20"
        )
    if "\\" in url:
        return "endpoint contains a backslash: URLs separate their parts with /"
    scheme = _SCHEME.match(url)
    if scheme is None:
        return f"endpoint must be an absolute http:// or https:// URL, for example {EXAMPLE}"
    if embeds_credentials(url):
        return (
            "endpoint must not embed credentials (user:password@host): remove them "
            "from the URL and set authType 'basic' with userName and password instead"
        )
    if "#" in url:
        return "endpoint has a #fragment, which HTTP never sends to the receiver: remove it, or write # as %23"
    if _BAD_ESCAPE.search(url):
        return "endpoint has a % not followed by two hex digits: write a literal % as %25"
    authority = _AUTHORITY.match(url, scheme.end())
    assert authority is not None  # the pattern matches the empty string
    reason = _authority_problem(authority.group())
    if reason is not None:
        return reason
    try:
        _URL.validate_python(url)
    except ValidationError as error:
        detail = error.errors(include_url=False, include_input=False)[0]["msg"].split(", ")[-1]
        return f"endpoint is not a valid URL ({detail}): use one such as {EXAMPLE}"
    return None


def _authority_problem(authority: str) -> str | None:
    if authority.startswith("["):
        host, bracket, after = authority[1:].partition("]")
        if not bracket or not _is_ipv6(host):
            return (
                "endpoint host is not a valid IPv6 address: write one in brackets, such as https://[2001:db8::1]/hook"
            )
    else:
        host, colon, port = authority.partition(":")
        after = colon + port
    if after and not (after[0] == ":" and _PORT.fullmatch(after[1:]) and 1 <= int(after[1:]) <= 65535):
        return "endpoint port must be a number from 1 to 65535, such as https://ops.example.com:8443/hook"
    if not host:
        return f"endpoint has no host: use a URL such as {EXAMPLE}"
    if authority.startswith("["):
        return None
    return _domain_problem(host)


def _is_ipv6(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return "%" not in text  # a zone id (fe80::1%eth0) names an interface of this machine only


def _domain_problem(host: str) -> str | None:
    labels = host.split(".")
    if "" in labels:
        return _EMPTY_PART
    # Each part as DNS sees it: international ones through UTS 46, which also maps a
    # full-width digit to an ASCII one and an ideographic full stop to a dot, so the
    # number and empty-part rules must look at the mapped parts.
    mapped: list[str] = []
    for label in labels:
        if label.isascii() and not label.lower().startswith("xn--"):
            if not _ASCII_LABEL.fullmatch(label):
                return (
                    "endpoint host may contain only letters, digits, hyphens, underscores and dots, "
                    "or an international name, and no part may start or end with a hyphen"
                )
            mapped.append(label)
            continue
        try:
            mapped += idna.encode(label, uts46=True).decode().split(".")
        except idna.IDNAError:
            return _NOT_IDN
    if "" in mapped:
        return _EMPTY_PART
    if _NUMBER_LABEL.fullmatch(mapped[-1]):
        try:
            ipaddress.IPv4Address(".".join(mapped))
        except ValueError:
            return (
                "endpoint host ends in a number, so it must be an IPv4 address of four numbers "
                "from 0 to 255 without leading zeros, such as 192.0.2.10"
            )
        return None
    if not _bidi_domain_ok(labels):
        return _NOT_IDN
    if any(len(label) > 63 for label in mapped):
        return "endpoint host has a part longer than 63 characters between dots, which DNS does not allow"
    if len(".".join(mapped)) > 253:
        return "endpoint host is longer than DNS allows (253 characters)"
    return None


def _unicode(label: str) -> str:
    if label.lower().startswith("xn--"):
        return idna.decode(label)
    return label if label.isascii() else idna.uts46_remap(label)


def _bidi_domain_ok(labels: list[str]) -> bool:
    """RFC 5893: once any part is right-to-left, every part must follow the bidi rule."""
    if not any(unicodedata.bidirectional(char) in ("R", "AL", "AN") for label in labels for char in label):
        return True
    try:
        unicode_labels = [_unicode(label) for label in labels]
        return all(idna.check_bidi(part, check_ltr=True) for label in unicode_labels for part in label.split("."))
    except idna.IDNAError:
        return False

"""Removes secrets from any text a user may see: error messages and log lines."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable

REDACTED = "[redacted]"
# Shorter values occur in ordinary words; blanking them would garble every message
# without protecting anything a guess would not find.
MIN_SECRET_LENGTH = 4

# Secret-bearing shapes, whatever their value: JSON fields, query parameters and
# the Authorization header. Known secret values are removed on top of these.
_PATTERNS = (
    re.compile(r'("(?:password|token|apiToken|apiPassword|access_token)"\s*:\s*)"(?:[^"\\]|\\.)*"', re.I),
    re.compile(r"((?:[?&;]|\b)(?:password|token|api_token|access_token)=)[^&\s'\"]+", re.I),
    re.compile(r"(authorization['\"]?\s*[:=]\s*['\"]?(?:bearer|basic)\s+)[^\s'\",}]+", re.I),
)


class Redactor:
    """Knows the secret values in play and blanks them out of text. Thread-safe."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        self.add(*secrets)

    def add(self, *secrets: str | None) -> None:
        with self._lock:
            self._secrets.update(s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH)

    def __call__(self, text: str, extra: Iterable[str | None] = ()) -> str:
        for pattern in _PATTERNS:
            text = pattern.sub(lambda m: m.group(1) + _quote_like(m.group(0), m.group(1)), text)
        with self._lock:
            secrets = self._secrets | {s for s in extra if s and len(s) >= MIN_SECRET_LENGTH}
        # Longest first, so a secret that contains another is removed whole; also
        # as Python would quote it in a repr, escapes and all.
        forms = {form for secret in secrets for form in (secret, repr(secret)[1:-1])}
        for form in sorted(forms, key=len, reverse=True):
            text = text.replace(form, REDACTED)
        return text


def _quote_like(whole: str, prefix: str) -> str:
    """The replacement value, quoted when the original JSON value was."""
    return f'"{REDACTED}"' if whole[len(prefix) :].startswith('"') else REDACTED

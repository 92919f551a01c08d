"""Redaction of secrets from text a user may see."""

from __future__ import annotations

from pulumi_webhooks.api.redact import REDACTED, Redactor


def test_known_values_and_secret_shapes_are_blanked() -> None:
    redact = Redactor(["api-Passw0rd-xyz"])
    text = (
        'login failed for api-Passw0rd-xyz; body {"userName": "ops", "password": "other-pw-1", "token": "t\\"ok"}; '
        "GET /hook?token=abc123&x=1; Authorization: Bearer eyJhbGciOi.payload.sig"
    )
    out = redact(text, extra=["hook-T0ken-extra"])
    for secret in ("api-Passw0rd-xyz", "other-pw-1", 't\\"ok', "abc123", "eyJhbGciOi.payload.sig"):
        assert secret not in out
    assert '"userName": "ops"' in out and "x=1" in out
    assert f'"password": "{REDACTED}"' in out


def test_longest_secret_first_and_short_values_left_alone() -> None:
    redact = Redactor(["abcd", "abcdefgh", "xy"])
    assert redact("abcdefgh and abcd and xylophone") == f"{REDACTED} and {REDACTED} and xylophone"


def test_secrets_added_later_are_redacted_too() -> None:
    redact = Redactor()
    redact.add("late-Secret-42", None, "")
    assert redact("saw late-Secret-42") == f"saw {REDACTED}"


def test_secrets_quoted_as_python_would_are_blanked_too() -> None:
    redact = Redactor(["tab\tT0ken"])
    assert "tab" not in redact("Invalid header value b'Bearer tab\\tT0ken'")

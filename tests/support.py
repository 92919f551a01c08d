"""Test-only types: what the `start_api` fixture of tests/conftest.py returns."""

from __future__ import annotations

from collections.abc import Callable

from harness.api import Api

ApiFactory = Callable[..., Api]
"""start_api(*flags, db=None, users=CREDENTIAL_ARGS) -> a running Api (tests/conftest.py)."""

"""The declaring line of the user's code, and registering a resource as if from it."""

from __future__ import annotations

import sys

import pytest

from pulumi_webhooks.program.callsite import CallSite, register_from, user_call_site


def test_the_call_site_is_the_first_frame_outside_the_package() -> None:
    site = user_call_site()
    assert site is not None and site.file == __file__
    assert site.line == test_the_call_site_is_the_first_frame_outside_the_package.__code__.co_firstlineno + 1


def test_register_from_runs_at_the_site_with_a_scoped_traceback_limit() -> None:
    seen: dict[str, object] = {}

    def register(*args: object) -> None:
        caller = sys._getframe(1)
        seen.update(args=args, where=(caller.f_code.co_filename, caller.f_lineno), limit=sys.tracebacklimit)

    register_from(CallSite("/srv/infra/__main__.py", 42), register, "a", 1)
    assert seen == {"args": ("a", 1), "where": ("/srv/infra/__main__.py", 42), "limit": 6}
    assert not hasattr(sys, "tracebacklimit"), "restored: the program's own setting is untouched"


def test_register_from_restores_a_limit_the_program_set_even_when_registration_fails() -> None:
    def failing(*_: object) -> None:
        raise RuntimeError("registration failed")

    sys.tracebacklimit = 50
    try:
        with pytest.raises(RuntimeError):
            register_from(CallSite("/srv/infra/__main__.py", 7), failing)
        assert sys.tracebacklimit == 50
    finally:
        del sys.tracebacklimit

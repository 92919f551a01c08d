"""The declaring line of the user's code."""

from __future__ import annotations

from pulumi_webhooks.program.callsite import user_call_site


def test_the_call_site_is_the_first_frame_outside_the_package() -> None:
    site = user_call_site()
    assert site is not None and site.file == __file__
    assert site.line == test_the_call_site_is_the_first_frame_outside_the_package.__code__.co_firstlineno + 1

"""The line of the user's program that declared a resource, and registering it from there."""

from __future__ import annotations

import functools
import os
import sys
import sysconfig
import types
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi

# Frames in these trees are never the user's: this package, the Pulumi SDK, the standard library.
_NOT_USER = tuple(
    str(Path(tree).resolve()) + os.sep
    for tree in (Path(__file__).parent, Path(pulumi.__file__).parent, sysconfig.get_paths()["stdlib"])
)


@dataclass(frozen=True)
class CallSite:
    file: str
    line: int

    def __str__(self) -> str:
        """`file:line`, the file relative to the working directory (the project's) when inside it."""
        try:
            shown = os.path.relpath(self.file)
        except ValueError:  # another drive
            shown = self.file
        return f"{self.file if shown.startswith('..') else shown}:{self.line}"


def user_call_site() -> CallSite | None:
    """The innermost frame of the caller's stack that is the user's code, if any."""
    frame = sys._getframe(1)
    while frame is not None:
        if _is_user_file(frame.f_code.co_filename):
            return CallSite(frame.f_code.co_filename, frame.f_lineno)
        frame = frame.f_back  # type: ignore[assignment]
    return None


@functools.lru_cache(maxsize=256)
def _is_user_file(path: str) -> bool:
    return not path.startswith("<") and not os.path.realpath(path).startswith(_NOT_USER)


# How many frames the SDK keeps when it records where a resource was registered:
# its own four (_get_stack_trace, register_resource, Resource.__init__,
# CustomResource.__init__), dynamic.Resource.__init__, and the frame below that,
# which it takes for the user's. tests/e2e/test_state.py pins this against the SDK.
_REGISTRATION_FRAMES = 6


def register_from(site: CallSite | None, register: Callable[..., None], *args: Any) -> None:
    """Calls `register` (dynamic.Resource.__init__) so that state records `site` as the resource's position.

    The SDK records the frames of the registration's caller: every frame out to the
    interpreter's (about 2 KB of state per resource, written twice per step by the file
    backend), and as `sourcePosition` the first frame below the SDK's constructors,
    which for a Webhook is this package's own. Here the call is made from a frame whose
    code claims the user's file and line, and with `sys.tracebacklimit` scoped to the
    call so that this frame is the only one recorded beyond the SDK's.
    """
    if site is None:
        register(*args)
        return
    code = _from_site.__code__
    shifted = code.replace(co_filename=site.file, co_firstlineno=site.line - _CALL_LINE_OFFSET)
    at_site = types.FunctionType(shifted, _from_site.__globals__, "<webhook>")
    previous = getattr(sys, "tracebacklimit", None)
    sys.tracebacklimit = _REGISTRATION_FRAMES
    try:
        at_site(register, args)
    finally:
        if previous is None:
            del sys.tracebacklimit
        else:
            sys.tracebacklimit = previous


def _from_site(register: Callable[..., None], args: tuple[Any, ...]) -> None:
    register(*args)


# The call in _from_site sits one line below its `def`: shifting the first line by
# this much puts the call on the user's line.
_CALL_LINE_OFFSET = 1

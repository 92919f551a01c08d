"""The line of the user's program that declared a resource."""

from __future__ import annotations

import functools
import os
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

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

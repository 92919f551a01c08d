"""`python -P -m pulumi_webhooks.program_spare --cli PID --spare-dir DIR`: the Python of a Pulumi
program, started before the engine runs the program.

The language host starts it ahead (langhost/spare/program.go) so that Python, the SDK and this
package's program modules (pydantic's models among them) are loaded when the engine asks for the
program. Taken, it reads one line on stdin, the runner's command line and the environment the host
adds (the stack's config), and runs the SDK's runner as `python RUNNER ARGS...` would; it writes
the exit code on descriptor 3 for the host, which cannot wait for a process it did not start, and
ends without the interpreter's teardown (end_without_teardown). One never taken ends when the
`pulumi` it was started for (PID) ends.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import gc
import importlib
import io
import json
import os
import runpy
import shutil
import sys
from pathlib import Path

from .sdk_internals import EXIT_AFTER_USER_MESSAGE, running_the_runner, told_user
from .spare import end_untaken

PROGRAM_MODULES = ("pulumi", "pulumi_webhooks.program.fleet", "pulumi_webhooks.program.resource")
STATUS_FD = 3
_exit_code: int | None = None
"""The program's exit code, once it has run to its end."""


def run(argv: list[str]) -> int:
    """Runs the script argv[0] with the arguments argv[1:], as `python SCRIPT ARGS...` does; its
    exit code."""
    sys.argv = argv
    sys.path[0:0] = [str(Path(argv[0]).resolve().parent)]  # a script's directory comes first
    try:
        runpy.run_path(argv[0], run_name="__main__")
    except SystemExit as exit_:
        if exit_.code is None or isinstance(exit_.code, int):
            return exit_.code or 0
        print(exit_.code, file=sys.stderr)
        return 1
    return 0


def end_without_teardown() -> None:
    """Ends the process as `sys.exit` is ending it, its threads done and its exit handlers run
    (this one, registered first, runs last), but without the interpreter's teardown of every
    module, gRPC's among them, which the host would wait 0.05 s for. What that teardown does that a
    program may count on is done here: files it left open are flushed, and, unless it turned the
    collector off, objects in reference cycles are finalized."""
    if _exit_code is None:  # the run did not get to its end: the interpreter ends it as usual
        return
    for thing in gc.get_objects():  # what the program made (its modules' were frozen)
        if isinstance(thing, io.IOBase) and not thing.closed:
            with contextlib.suppress(OSError, ValueError):
                thing.flush()
    if gc.isenabled():
        gc.collect()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(_exit_code)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m pulumi_webhooks.program_spare")
    parser.add_argument("--cli", type=int, required=True, help="the pid of the `pulumi` it is started for")
    parser.add_argument("--spare-dir", required=True, help="its description, removed once taken or ended")
    args = parser.parse_args()
    os.set_inheritable(STATUS_FD, False)  # only this process's end closes it: the host waits for that
    status = os.fdopen(STATUS_FD, "w")
    taken = end_untaken(args.cli, args.spare_dir)
    gc.disable()  # as the provider's spare loads (spare.main): the program runs with it on
    for module in PROGRAM_MODULES:
        importlib.import_module(module)
    gc.freeze()  # what is loaded lives as long as the process: no collection need go through it
    gc.enable()
    line = sys.stdin.readline()
    taken.set()
    shutil.rmtree(args.spare_dir, ignore_errors=True)  # its host has opened the pipes
    if not line:
        sys.exit(0)  # its host is gone
    request = json.loads(line)
    os.environ.update(request["env"])
    running_the_runner()
    atexit.register(end_without_teardown)  # registered first: run last, after the program's own
    code = run(request["argv"])
    if told_user():  # the program exits with this code, from an atexit handler
        code = EXIT_AFTER_USER_MESSAGE
    sys.stdout.flush()
    sys.stderr.flush()
    status.write(f"{code}\n")
    status.flush()
    global _exit_code
    _exit_code = code
    sys.exit(code)


if __name__ == "__main__":
    main()

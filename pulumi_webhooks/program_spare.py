"""`python -P -m pulumi_webhooks.program_spare --cli PID --spare-dir DIR`: the Python of a Pulumi
program, started before the engine runs the program.

The language host starts it ahead (langhost/spare/program.go) so that Python, the SDK and this
package's program modules (pydantic's models among them) are loaded when the engine asks for the
program. Taken, it reads one line on stdin, the runner's command line and the environment the host
adds (the stack's config), and runs the SDK's runner as `python RUNNER ARGS...` would; it writes
the exit code on descriptor 3 for the host, which cannot wait for a process it did not start. One
never taken ends when the `pulumi` it was started for (PID) ends.
"""

from __future__ import annotations

import argparse
import importlib
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


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m pulumi_webhooks.program_spare")
    parser.add_argument("--cli", type=int, required=True, help="the pid of the `pulumi` it is started for")
    parser.add_argument("--spare-dir", required=True, help="its description, removed once taken or ended")
    args = parser.parse_args()
    os.set_inheritable(STATUS_FD, False)  # only this process's end closes it: the host waits for that
    status = os.fdopen(STATUS_FD, "w")
    taken = end_untaken(args.cli, args.spare_dir)
    for module in PROGRAM_MODULES:
        importlib.import_module(module)
    line = sys.stdin.readline()
    taken.set()
    shutil.rmtree(args.spare_dir, ignore_errors=True)  # its host has opened the pipes
    if not line:
        sys.exit(0)  # its host is gone
    request = json.loads(line)
    os.environ.update(request["env"])
    running_the_runner()
    code = run(request["argv"])
    if told_user():  # the program exits with this code, from an atexit handler
        code = EXIT_AFTER_USER_MESSAGE
    sys.stdout.flush()
    sys.stderr.flush()
    status.write(f"{code}\n")
    status.flush()
    sys.exit(code)


if __name__ == "__main__":
    main()

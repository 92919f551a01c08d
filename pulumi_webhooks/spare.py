"""`python -m pulumi_webhooks.spare --cli PID --spare-dir DIR`: a dynamic-provider process started
before the engine asks for one.

The language host and the provider launcher start it ahead (langhost/spare), so that Python and
the SDK are loaded when the engine launches the provider, and this package's provider modules
(what state's providers unpickle to, pydantic's models, the HTTP client) load meanwhile, in the
background. When a launcher takes it over, it writes the engine's address on stdin, and the
process runs the SDK's server as `python -m pulumi.dynamic ENGINE` would. One never taken ends
when the `pulumi` it was started for (PID) ends; one taken ends as any provider of this package
does (provider/engine.py).
"""

from __future__ import annotations

import argparse
import atexit
import gc
import importlib
import os
import runpy
import select
import shutil
import sys
import threading
import time

PROVIDER_MODULES = ("pulumi_webhooks.provider", "pulumi_webhooks.api.client")
POLL_SECONDS = 0.2
"""How often to look for the CLI where its end cannot be waited for (no pidfd)."""


def wait_for_exit(pid: int) -> None:
    """Returns once the process `pid` has ended."""
    try:
        handle = os.pidfd_open(pid)
    except (AttributeError, OSError):  # not Linux 5.3 or later: look now and then
        while alive(pid):
            time.sleep(POLL_SECONDS)
        return
    select.select([handle], [], [])


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's: it exists
        pass
    return True


def end_untaken(cli: int, spare_dir: str) -> threading.Event:
    """Ends this process, and removes its description, when the `pulumi` it was started for ends
    before the event returned is set (the spare is taken)."""
    taken = threading.Event()

    def end() -> None:
        wait_for_exit(cli)
        if not taken.is_set():
            shutil.rmtree(spare_dir, ignore_errors=True)
            os._exit(0)

    threading.Thread(target=end, name="webhooks-spare", daemon=True).start()
    return taken


def load_provider_modules() -> None:
    try:
        for module in PROVIDER_MODULES:
            importlib.import_module(module)
    finally:
        gc.freeze()  # what is loaded lives as long as the process: no collection need go through it
        gc.enable()


def watch_engine(loading: threading.Thread, address: str) -> None:
    """Once the provider modules are loaded: the engine watch every provider process of this
    package has (provider/engine.py), ending this one once the engine is gone even if it was never
    asked for a resource (a destroy's preview only configures it). The engine's signals reach it
    only through its launcher, which the engine may kill."""
    loading.join()
    from .provider import connection, engine

    engine.watch(address).exit_when_gone(connection.any_busy, 0.0)  # a configured connection asks longer


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m pulumi_webhooks.spare")
    parser.add_argument("--cli", type=int, required=True, help="the pid of the `pulumi` it is started for")
    parser.add_argument("--spare-dir", required=True, help="its description, removed once taken or ended")
    args = parser.parse_args()
    taken = end_untaken(args.cli, args.spare_dir)
    # Loading makes many objects and few cycles: a collection meanwhile goes through every module
    # loaded so far, for nothing (a fifth of the load). Back on once the provider's are loaded.
    gc.disable()
    import dill  # noqa: F401  # the SDK server's own imports: done before it can serve
    import grpc  # noqa: F401
    import pulumi.dynamic  # noqa: F401

    loading = threading.Thread(target=load_provider_modules, name="webhooks-spare-imports", daemon=True)
    loading.start()
    address = sys.stdin.readline().strip()
    taken.set()
    shutil.rmtree(args.spare_dir, ignore_errors=True)  # its launcher has opened the pipes
    if not address:
        sys.exit(0)  # its launcher is gone
    from .sdk_internals import end_provider_process  # the SDK's modules, loaded: quick

    atexit.register(end_provider_process)  # as soon as the server stops, modules loaded or not
    threading.Thread(target=watch_engine, args=(loading, address), name="webhooks-spare-watch", daemon=True).start()
    sys.argv[1:] = [address]
    runpy.run_module("pulumi.dynamic", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()

"""Whether the `pulumi` that started this provider process is still there.

The engine starts each plugin in a process group of its own, so a pipeline that kills the CLI's
group (a cancelled CI job) leaves this process running, and the SDK's server would go on with
what it was asked, creates included, long after the recovery step has looked at the account. So
once the engine stops answering on its address, no new API write starts (`EngineGone`), and the
process exits as soon as the calls in flight are done, or after a bound: the recovery step waits
for it, and then sees every webhook it made.
"""

from __future__ import annotations

import atexit
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Callable

from ..errors import EngineGone
from ..sdk_internals import end_provider_process, engine_address

log = logging.getLogger("pulumi_webhooks.engine")

RECHECK_SECONDS = 0.5
"""A write asks again whether the engine is there at most this often."""
POLL_SECONDS = 1.0
"""How often the watch thread asks, to notice an engine gone while no write is asked for."""
CONNECT_SECONDS = 2.0


def answers(address: tuple[str, int]) -> bool:
    """Whether an engine still listens at `address`; only a refused connection says it is gone."""
    try:
        socket.create_connection(address, timeout=CONNECT_SECONDS).close()
    except ConnectionRefusedError:
        return False
    except OSError:  # slow or busy: not proof that it is gone
        pass
    return True


class EngineWatch:
    def __init__(self, address: tuple[str, int] | None) -> None:
        self._address = address
        self._gone = False
        self._checked = 0.0
        self._lock = threading.Lock()
        self._watching = False
        self._bound = 0.0

    def gone(self) -> bool:
        """True once the engine's address refuses connections (it never comes back)."""
        if self._address is None:
            return False
        with self._lock:
            if not self._gone and time.monotonic() - self._checked >= RECHECK_SECONDS:
                self._checked = time.monotonic()
                self._gone = not answers(self._address)
            return self._gone

    def check(self) -> None:
        """Raises `EngineGone` when the engine is gone: the gate before every API write."""
        if self.gone():
            raise EngineGone(
                "the `pulumi` that started this provider is gone (killed or cancelled): no more webhook is "
                "written. Run the recovery step, `pulumi-webhooks recover --stack STACK`, then `pulumi up`"
            )

    def exit_when_gone(self, busy: Callable[[], bool], bound_seconds: float) -> None:
        """Starts (once) a thread that ends this process once the engine is gone and `busy()` is false,
        or `bound_seconds` after it went (the longest asked), whichever comes first."""
        with self._lock:
            self._bound = max(self._bound, bound_seconds)
            if self._watching or self._address is None:
                return
            self._watching = True

        def watch() -> None:
            while not self.gone():
                time.sleep(POLL_SECONDS)
            deadline = time.monotonic() + self._bound
            while busy() and time.monotonic() < deadline:
                time.sleep(0.1)
            log.info("the engine is gone and no API call is in flight: this provider process ends")
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)  # the SDK's server waits forever otherwise, and nobody is left to stop it

        threading.Thread(target=watch, name="webhooks-engine-watch", daemon=True).start()


_watch: EngineWatch | None = None
_watch_lock = threading.Lock()


def watch(address: str | None = None) -> EngineWatch:
    """This process's one watch of its engine: at `address` (HOST:PORT, a plugin's first argument),
    given on the first call, or else the dynamic-provider server's (none in any other process)."""
    global _watch
    with _watch_lock:
        if _watch is None:
            host, _, port = (address or "").rpartition(":")
            engine = (host, int(port)) if host and port.isdigit() else engine_address()
            _watch = EngineWatch(engine)
            if engine is not None:  # a provider process, started by an engine
                atexit.register(end_provider_process)
        return _watch

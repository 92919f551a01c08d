"""Every use of the Pulumi Python SDK's internals, one function each: what an SDK upgrade can break.

The rest of the package uses the SDK's public API only. Each function below relies on
something the SDK does not promise; `tests/test_sdk_internals.py` pins each one and, when
a new SDK changes it, fails with a message naming it. Checked against SDK 3.272.0, the
pinned one; each says since which SDK release the SDK has behaved so:

- `PROVIDER_KEY`: the property of a dynamic resource that holds its serialized provider,
  `pulumi.dynamic.dynamic.PROVIDER_KEY`, `"__provider"` (since 0.17.25, the first dynamic
  providers).
- `is_unknown`: a value not known yet reaches a dynamic provider's `check` and `diff` as
  `pulumi.output.Unknown` (since 1.3.0) or as the sentinel string `pulumi.runtime.rpc.UNKNOWN`
  (since 0.14.0).
- `deserialize_provider`, `serialize_provider`: a serialized provider is the base64 of a dill
  pickle, made by `pulumi.dynamic.dynamic.serialize_provider` (since 0.17.25).
- `restore_sdk_pickler`: `serialize_provider` patches `pickle._Pickler` to sort dicts and never
  undoes it, so each registration wraps the previous one's patch (since 3.33.2).
- `register_at`: the SDK records a resource's registration stack and source position by calling
  the module-level `pulumi.runtime.resource._get_stack_trace()` from `register_resource` and
  `read_resource`, and takes the position from its first frame (stacks since 3.195.0;
  positions since 3.76.0).
- `current_monitor`: `pulumi.runtime.settings.get_monitor()`, the resource monitor of the
  program being run (since 0.11.0).
- `exit_as_told`: the SDK's program runner, `pulumi-language-python-exec`, and the language host
  take exit code 32 for "the user was already told why" (since 3.38.0).
- `engine_address`: the engine starts a plugin with its own gRPC address as the first argument,
  and the dynamic-provider launcher passes it on to `python -m pulumi.dynamic` (since 0.17.25).
- `show_failures_with`: the dynamic-provider server (`python -m pulumi.dynamic`, the `__main__`
  module of its process) sends every exception a provider method raises to the engine as its
  module-level `traceback.format_exc()` (since 0.17.25).
- `widen_provider_server`: that server runs provider calls on a `ThreadPoolExecutor(max_workers=4)`,
  made in its `main()` as the local `server`'s `_state.thread_pool` (grpcio's), and Python's
  executor reads `_max_workers` at every submit (four threads since 0.17.25).
- `send_detailed_diff`: it builds each Diff's answer with the module-level
  `proto.DiffResponse(**fields)` (its `pulumi.runtime.proto`) right after the provider's `diff`
  returns, on the same thread (since 0.17.25); `detailedDiff` and `hasDetailedDiff` are the
  protocol's (since 1.x), and the CLI shows just the paths they name.
- `report_partial_state`: it does so in its `_abort_with_traceback` wrapper, whose frame holds the
  call's gRPC `context`, by `context.abort()` inside the `except` block (since 0.17.25); the engine
  reads an `ErrorResourceInitFailed` in the status details of a failed Create or Update as "made,
  with these properties, but failed", and records the resource so (the protocol since 1.x).
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import contextvars
import logging
import os
import pickle
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

import dill
import grpc
import pulumi.runtime.resource as _sdk_resource
from google.protobuf import any_pb2
from google.rpc import status_pb2
from pulumi.dynamic.dynamic import PROVIDER_KEY as _PROVIDER_KEY
from pulumi.dynamic.dynamic import serialize_provider as _sdk_serialize_provider
from pulumi.output import Unknown
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, source_pb2
from pulumi.runtime.settings import get_monitor

PROVIDER_KEY: str = _PROVIDER_KEY
"""The property of every dynamic resource that holds its serialized provider."""

EXIT_AFTER_USER_MESSAGE = 32
"""The runner's exit code for "the user has been told why"."""

_lock = threading.Lock()


def is_unknown(value: Any) -> bool:
    """Whether a value a dynamic provider received is not known yet (a preview's unknown)."""
    return isinstance(value, Unknown) or value == rpc.UNKNOWN


def deserialize_provider(serialized: str) -> object:
    """The provider object a `__provider` value holds; raises whatever dill raises if it cannot."""
    return dill.loads(base64.b64decode(serialized))


def serialize_provider(provider: object) -> str:
    """The `__provider` value the SDK writes for `provider` (for state made outside a program)."""
    with restore_sdk_pickler():
        return str(_sdk_serialize_provider(provider))


@contextmanager
def restore_sdk_pickler() -> Iterator[None]:
    """Undoes, on leaving, the SDK's patch of `pickle._Pickler` made while registering a dynamic resource.

    Each registration patches the pickler again, wrapping the previous patch: past about 950
    resources in one program, pickling fails with RecursionError. Restored after each
    registration, at most one wrapper is ever in place, whatever the program's size.
    """
    patched = ("_batch_setitems", "save_dict")
    saved = {name: pickle._Pickler.__dict__[name] for name in patched}  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for name, original in saved.items():
            setattr(pickle._Pickler, name, original)  # type: ignore[attr-defined]


class Site(Protocol):
    """A line of the user's program."""

    @property
    def file(self) -> str: ...

    @property
    def line(self) -> int: ...


_registering_at: contextvars.ContextVar[Site | None] = contextvars.ContextVar("registering_at", default=None)


def register_at(site: Site, register: Callable[..., None], *args: Any) -> None:
    """Calls `register(*args)` (a resource constructor) so that state records `site` as the
    resource's source position and its whole registration stack.

    By default the SDK records every frame out to the interpreter's (about 2 KB of state per
    resource, which the file backend writes twice per step) and, as the position, the frame
    below the resource's constructors, which for our resources is this package's own. Here
    the SDK's stack capture, while `register` runs on this thread, is the one user line.
    Other threads and other resources keep the SDK's own capture: the choice is a context
    variable, so Automation API programs on several threads of one process never meet.
    """
    _capture_stacks_our_way()
    token = _registering_at.set(site)
    try:
        register(*args)
    finally:
        _registering_at.reset(token)


def _capture_stacks_our_way() -> None:
    with _lock:
        if getattr(_sdk_resource._get_stack_trace, "_pulumi_webhooks", False):
            return
        sdk_capture = _sdk_resource._get_stack_trace

        def stack_trace() -> source_pb2.StackTrace:
            site = _registering_at.get()
            if site is None:
                return sdk_capture()
            position = source_pb2.SourcePosition(uri=Path(site.file).as_uri(), line=site.line)
            return source_pb2.StackTrace(frames=[source_pb2.StackFrame(pc=position)])

        stack_trace._pulumi_webhooks = True  # type: ignore[attr-defined]
        _sdk_resource._get_stack_trace = stack_trace  # type: ignore[assignment]


def current_monitor() -> object | None:
    """The resource monitor of the program running here; None outside a Pulumi program."""
    return get_monitor()


_runner_in_spare = False


def running_the_runner() -> None:
    """Tells that this process runs the SDK's runner in a Python kept ready for it (program_spare)."""
    global _runner_in_spare
    _runner_in_spare = True


def under_the_language_host() -> bool:
    """Whether this program was started by the SDK's runner, which the language host runs: as the
    interpreter's script, or in a Python kept ready for it."""
    return _runner_in_spare or any(os.path.basename(arg) == "pulumi-language-python-exec" for arg in sys.orig_argv)


def exit_as_told() -> bool:
    """Makes a failing program exit with the code that tells the language host the user has been told why.

    The SDK's runner logs a `RunError`'s message (with no traceback) and exits with 1,
    which the host reports as one more, misleading error: "an unhandled error occurred:
    program exited with non-zero exit code: 1". Only under the host; an Automation API
    inline program runs in its caller's process, which must keep its own exit code.
    Returns whether it will.
    """
    global _told
    if not under_the_language_host():
        return False
    atexit.register(_exit_after_user_message)
    _told = True
    return True


_told = False


def told_user() -> bool:
    """Whether this program will exit with EXIT_AFTER_USER_MESSAGE (exit_as_told)."""
    return _told


def _exit_after_user_message() -> None:
    # Handlers run last-registered first, so this one would cut off every handler registered
    # before it (logging's flush, the SDK's span export): run them first, then exit as told.
    atexit.unregister(_exit_after_user_message)
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(EXIT_AFTER_USER_MESSAGE)


_detailed_diffs = threading.local()
DIFF_KINDS = {"add": 0, "delete": 2, "update": 4}
"""The kinds of a detailed diff's change: provider_pb2.PropertyDiff.Kind's ADD, DELETE, UPDATE."""


def send_detailed_diff(paths: dict[str, str]) -> bool:
    """Makes the Diff answer that the dynamic-provider server builds next, on this thread, a
    detailed one: `paths` maps property paths (`hooks["ops/a"].endpoint`) to "add", "delete" or
    "update", and the CLI then shows those and nothing else of the property. Call it as the last
    thing `diff` does. False when this is not that server; the answer then stays a plain one."""
    server = provider_server()
    if server is None:
        return False
    with _lock:
        if not isinstance(getattr(server, "proto", None), _DetailedDiffs):
            server.proto = _DetailedDiffs(server.proto)  # type: ignore[attr-defined]
    _detailed_diffs.paths = paths
    return True


class _DetailedDiffs:
    """`pulumi.runtime.proto`, but a DiffResponse carries the detailed diff `send_detailed_diff` left."""

    def __init__(self, module: ModuleType) -> None:
        self._module = module
        self.DiffResponse = _DetailedDiffResponse(module.DiffResponse)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)


class _DetailedDiffResponse:
    """The DiffResponse message class (its constants too), made with the detailed diff left for it."""

    def __init__(self, message: Any) -> None:
        self._message = message

    def __getattr__(self, name: str) -> Any:
        return getattr(self._message, name)

    def __call__(self, **fields: Any) -> Any:
        paths = getattr(_detailed_diffs, "paths", None)
        _detailed_diffs.paths = None
        if paths is not None:
            fields["diffs"] = sorted({path.split("[", 1)[0].split(".", 1)[0] for path in paths})
            fields["detailedDiff"] = {
                path: provider_pb2.PropertyDiff(kind=DIFF_KINDS[kind], inputDiff=False)  # type: ignore[arg-type]
                for path, kind in paths.items()
            }
            fields["hasDetailedDiff"] = True
        return self._message(**fields)


def widen_provider_server(workers: int) -> bool:
    """Lets the dynamic-provider server of this process run up to `workers` provider calls at once,
    not four: with the engine's own `--parallel` as the other bound, per-hook resources are then
    created, updated and deleted that many at a time. False when this is not that server."""
    server = provider_server()
    frame = sys._current_frames().get(threading.main_thread().ident or 0) if server is not None else None
    while frame is not None and not (frame.f_code.co_name == "main" and frame.f_code.co_filename == _server_file()):
        frame = frame.f_back
    pool = getattr(getattr(frame.f_locals.get("server") if frame else None, "_state", None), "thread_pool", None)
    if not isinstance(pool, ThreadPoolExecutor):
        return False
    with _lock:
        pool._max_workers = max(pool._max_workers, workers)  # type: ignore[attr-defined]
    return True


def report_partial_state(resource_id: str, properties: dict[str, Any], reasons: list[str], message: str) -> bool:
    """Makes the failure the dynamic-provider server is sending carry what was done: the
    resource's id and its properties now, for the engine to record with `reasons` as its init
    errors. Call it while the server formats the failure (from `show_failures_with`'s view);
    False when not called from there, and the failure is then a plain one."""
    context = _server_call_context()
    if context is None:
        return False
    loop = asyncio.new_event_loop()  # as the server serializes a result
    try:
        struct = loop.run_until_complete(rpc.serialize_properties(properties, {}))
    finally:
        loop.close()
    failed = provider_pb2.ErrorResourceInitFailed(id=resource_id, properties=struct, reasons=reasons)
    code = grpc.StatusCode.UNKNOWN  # the code the server aborts with
    details = any_pb2.Any()
    details.Pack(failed)
    status = status_pb2.Status(code=code.value[0], message=message, details=[details])
    context.set_trailing_metadata((("grpc-status-details-bin", status.SerializeToString()),))
    return True


def _server_call_context() -> Any:
    """The gRPC context of the call the dynamic-provider server is failing, from its wrapper's frame."""
    frame = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        if code.co_name == "wrapper" and code.co_filename == _server_file() and "context" in frame.f_locals:
            return frame.f_locals["context"]
        frame = frame.f_back  # type: ignore[assignment]
    return None


def _server_file() -> str | None:
    server = provider_server()
    return getattr(server, "__file__", None) if server is not None else None


def end_provider_process() -> None:
    """Ends a provider process once its server has stopped and its calls are done (the engine
    stops each provider at the end of every preview and update, and waits for it to exit).
    The interpreter's own teardown (its modules, gRPC's threads) would take another 0.1 s."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(1 if hasattr(sys, "last_value") else 0)  # an unhandled exception keeps its exit status


def engine_address() -> tuple[str, int] | None:
    """(host, port) of the engine that started this dynamic-provider process; None in any other process."""
    if provider_server() is None or len(sys.argv) < 2:
        return None
    host, _, port = sys.argv[1].rpartition(":")
    return (host, int(port)) if host and port.isdigit() else None


def provider_server() -> ModuleType | None:
    """The SDK's dynamic-provider server module, when this process is that server."""
    server = sys.modules.get("__main__")
    return server if server is not None and hasattr(server, "DynamicResourceProviderServicer") else None


def show_failures_with(view: Callable[[ModuleType], ModuleType]) -> bool:
    """Gives the dynamic-provider server, in this process only, `view(traceback)` in place of the
    `traceback` module it formats failures with; False when this process is not that server."""
    import traceback

    server = provider_server()
    if server is None:
        return False
    with _lock:
        if getattr(server, "traceback", None) is traceback:
            server.traceback = view(traceback)  # type: ignore[attr-defined]
        return getattr(server, "traceback", None) is not traceback

"""Each Pulumi SDK internal the package relies on (`pulumi_webhooks.sdk_internals`), pinned.

When an SDK upgrade changes one, its test here fails with a message that names it, so the
upgrade's author knows which function to fix rather than meeting a strange failure later.
The end-to-end tests check the same things under the real CLI (tests/e2e/test_state.py for
the recorded stack, tests/test_provider_grpc.py for the server's failure messages).
"""

from __future__ import annotations

import importlib.util
import inspect
import pickle
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pulumi.runtime.resource as sdk_resource
from google.protobuf import struct_pb2
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.output import Unknown
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor

from pulumi_webhooks import Webhook, WebhookProvider, sdk_internals
from pulumi_webhooks.program.callsite import CallSite


def dynamic_server_source() -> str:
    """The text of `pulumi/dynamic/__main__.py`; importing it would start the server."""
    spec = importlib.util.find_spec("pulumi.dynamic.__main__")
    assert spec is not None and spec.origin, "pulumi.dynamic.__main__ (the dynamic-provider server) is gone"
    return Path(spec.origin).read_text()


def test_provider_key_is_the_property_the_sdk_stores_the_provider_in() -> None:
    assert sdk_internals.PROVIDER_KEY == "__provider", "pulumi.dynamic.dynamic.PROVIDER_KEY changed"
    assert 'PROVIDER_KEY = "__provider"' in dynamic_server_source(), (
        "the dynamic-provider server (pulumi.dynamic.__main__) reads the provider from another property"
    )


def test_is_unknown_sees_the_unknowns_a_provider_receives_at_preview() -> None:
    """The server deserializes inputs with keep_unknowns=True: unknowns arrive as rpc.UNKNOWN."""
    struct = struct_pb2.Struct()
    struct.update({"endpoint": rpc.UNKNOWN, "authType": "none"})
    received = rpc.deserialize_properties(struct, True)
    assert sdk_internals.is_unknown(received["endpoint"]), "pulumi.runtime.rpc.UNKNOWN no longer marks unknowns"
    assert not sdk_internals.is_unknown(received["authType"])
    assert sdk_internals.is_unknown(Unknown()), "pulumi.output.Unknown changed"


def test_deserialize_provider_reads_what_the_sdk_serializes() -> None:
    serialized = serialize_provider(WebhookProvider("billing"))
    provider = sdk_internals.deserialize_provider(serialized)
    assert isinstance(provider, WebhookProvider) and provider.connection == "billing", (
        "pulumi.dynamic.dynamic.serialize_provider no longer writes base64 of a dill pickle"
    )


def test_restore_sdk_pickler_undoes_the_patch_serialize_provider_leaves_behind() -> None:
    originals = {name: pickle._Pickler.__dict__[name] for name in ("_batch_setitems", "save_dict")}  # type: ignore[attr-defined]
    try:
        with sdk_internals.restore_sdk_pickler():
            serialize_provider(WebhookProvider())
            patched = pickle._Pickler.__dict__["save_dict"] is not originals["save_dict"]  # type: ignore[attr-defined]
        assert {name: pickle._Pickler.__dict__[name] for name in originals} == originals  # type: ignore[attr-defined]
    finally:
        for name, original in originals.items():
            setattr(pickle._Pickler, name, original)  # type: ignore[attr-defined]
    assert patched, (
        "pulumi.dynamic.dynamic.serialize_provider no longer patches pickle._Pickler: restore_sdk_pickler can go"
    )


class RecordingMonitor(MockMonitor):
    """Pulumi's test monitor, keeping every registration request as the engine receives it."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.requests: list[Any] = []

    def RegisterResource(self, request: Any) -> Any:
        self.requests.append(request)
        return super().RegisterResource(request)


class Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return "1", {**args.inputs, "webhookId": "1"}

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, []


def test_register_at_makes_the_engine_record_the_site_as_position_and_whole_stack() -> None:
    assert "_get_stack_trace" in sdk_resource.register_resource.__code__.co_names, (
        "pulumi.runtime.resource.register_resource no longer calls _get_stack_trace: register_at must change"
    )
    monitor = RecordingMonitor(Mocks())
    pulumi.runtime.set_mocks(Mocks(), preview=False, monitor=monitor)

    @pulumi.runtime.test
    def declare() -> None:
        Webhook("hook", endpoint="https://ops.example.com/hook", auth_type="none")

    declare()
    [request] = [r for r in monitor.requests if r.type.endswith("webhooks:Webhook")]
    lines, first = inspect.getsourcelines(declare)
    line = first + next(i for i, text in enumerate(lines) if 'Webhook("hook"' in text)
    assert (request.sourcePosition.uri, request.sourcePosition.line) == (Path(__file__).as_uri(), line), (
        "pulumi.runtime.resource._get_stack_trace: the position is no longer its first frame"
    )
    assert [(f.pc.uri, f.pc.line) for f in request.stackTrace.frames] == [(Path(__file__).as_uri(), line)]


class Inner:
    def __init__(self, register: Callable[[], None]) -> None:
        register()


class Middle:
    def __init__(self, register: Callable[[], None]) -> None:
        Inner(register)


class Outer:
    """Three constructors deep, as the SDK expects a resource's registration to be."""

    def __init__(self, register: Callable[[], None]) -> None:
        Middle(register)


def test_register_at_on_several_threads_each_records_its_own_site_and_leaves_others_alone() -> None:
    """Automation API programs may register resources on several threads of one process."""
    barrier = threading.Barrier(3, timeout=10)
    seen: dict[str, list[tuple[str, int]]] = {}

    def capture(name: str) -> Callable[[], None]:
        def register() -> None:
            barrier.wait()  # all three threads capture while the others are inside register_at
            frames = sdk_resource._get_stack_trace().frames
            seen[name] = [(frame.pc.uri, frame.pc.line) for frame in frames]
            barrier.wait()

        return register

    threads = [
        threading.Thread(target=sdk_internals.register_at, args=(CallSite("/srv/a/__main__.py", 7), capture("a"))),
        threading.Thread(target=sdk_internals.register_at, args=(CallSite("/srv/b/__main__.py", 9), capture("b"))),
        threading.Thread(target=Outer, args=(capture("plain"),)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert seen["a"] == [("file:///srv/a/__main__.py", 7)]
    assert seen["b"] == [("file:///srv/b/__main__.py", 9)]
    assert len(seen["plain"]) > 1, "a registration outside register_at keeps the SDK's own stack"


def test_current_monitor_is_the_one_the_program_runs_against() -> None:
    monitor = MockMonitor(Mocks())
    pulumi.runtime.set_mocks(Mocks(), monitor=monitor)
    assert sdk_internals.current_monitor() is monitor, "pulumi.runtime.settings.get_monitor changed"


def test_exit_as_told_exits_32_under_the_sdk_runner_only_after_the_other_exit_handlers(tmp_path: Path) -> None:
    program = (
        "import atexit\n"
        "atexit.register(print, 'an earlier exit handler ran')  # as logging's flush and the SDK's span export are\n"
        "from pulumi_webhooks import sdk_internals; print(sdk_internals.exit_as_told())\n"
    )
    runner = tmp_path / "pulumi-language-python-exec"  # the runner's name is what is recognised
    runner.write_text(program)
    under_runner = subprocess.run([sys.executable, runner], capture_output=True, text=True, timeout=60)
    assert (under_runner.returncode, under_runner.stdout.splitlines()) == (32, ["True", "an earlier exit handler ran"])
    alone = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60)
    assert alone.returncode == 0, "an inline program keeps its own exit code"
    assert alone.stdout.splitlines()[0] == "False"


def test_the_dynamic_server_formats_failures_with_its_module_level_traceback() -> None:
    source = dynamic_server_source()
    assert "\nimport traceback\n" in source and "traceback.format_exc()" in source, (
        "pulumi.dynamic.__main__ no longer formats failures with traceback.format_exc(): show_failures_with must change"
    )
    assert "class DynamicResourceProviderServicer" in source, "provider_server() recognises the server by this class"


def test_the_dynamic_server_runs_four_calls_at_once_on_a_pool_its_main_holds() -> None:
    source = dynamic_server_source()
    assert "futures.ThreadPoolExecutor(max_workers=4)" in source and "\ndef main():\n" in source, (
        "pulumi.dynamic.__main__.main() no longer makes its server with a four-thread pool: "
        "widen_provider_server must change"
    )
    assert "    server = grpc.server(" in source, "widen_provider_server finds the server as main()'s local `server`"


def test_the_dynamic_server_builds_each_diff_answer_with_its_module_level_proto() -> None:
    source = dynamic_server_source()
    assert (
        "result = provider.diff(request.id, olds, news)" in source and "return proto.DiffResponse(**fields)" in source
    ), (
        "pulumi.dynamic.__main__ no longer answers Diff with proto.DiffResponse(**fields) right after "
        "provider.diff: send_detailed_diff must change"
    )


def test_the_calls_that_act_on_the_server_do_nothing_outside_it() -> None:
    assert sdk_internals.widen_provider_server(16) is False
    assert sdk_internals.report_partial_state("id", {}, ["reason"], "message") is False
    assert sdk_internals.send_detailed_diff({'hooks["a/b"]': "add"}) is False


def test_show_failures_with_does_nothing_outside_the_dynamic_server() -> None:
    assert sdk_internals.provider_server() is None
    assert sdk_internals.show_failures_with(lambda module: module) is False

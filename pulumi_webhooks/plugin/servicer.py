"""The `webhooks` provider plugin's gRPC service: the engine's calls, answered by the same provider
code as the dynamic provider's.

Each call's properties arrive as a protobuf Struct whose secrets are wrapped; they are unwrapped
for the provider, and every password or token (and whatever came in as a secret) goes back out
wrapped, so that state holds it encrypted. A `WebhooksError` reaches the user as its message
alone; anything else keeps its traceback, since it is a bug to report.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import grpc
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime import proto, rpc

from .. import __version__
from ..errors import WebhooksError
from ..provider.webhook import SECRET_KEYS, WebhookProvider, changed_keys
from ..sdk_internals import is_unknown
from . import schema

log = logging.getLogger("pulumi_webhooks.plugin")
Answer = TypeVar("Answer")

CONCURRENCY = 16
"""Calls served at once until the settings say (`maxConcurrentRequests`); the engine's --parallel bounds them too."""
SECRET_HINT = "from a secret (in YAML, `fn::secret`, or a config value set with `pulumi config set --secret`)"
CONFIG_PREFIX = f"{schema.PACKAGE}:config:"


class PluginWebhook(WebhookProvider):
    """The dynamic provider's `Webhook` lifecycle, with messages for any language."""

    secret_hint = SECRET_HINT


class WebhooksPlugin(proto.ResourceProviderServicer):  # type: ignore[misc]
    """One provider resource of the `webhooks` package: the engine starts a process per provider."""

    def __init__(self) -> None:
        self.webhooks = PluginWebhook()
        self.calls = threading.BoundedSemaphore(CONCURRENCY)

    # -- the plugin -----------------------------------------------------------

    def GetPluginInfo(self, request: Any, context: grpc.ServicerContext) -> Any:
        return proto.PluginInfo(version=__version__)

    def GetSchema(self, request: Any, context: grpc.ServicerContext) -> Any:
        return proto.GetSchemaResponse(schema=schema.schema_json())

    def Cancel(self, request: Any, context: grpc.ServicerContext) -> Any:
        return empty_pb2.Empty()

    # -- the provider resource: settings of one account ------------------------

    def CheckConfig(self, request: Any, context: grpc.ServicerContext) -> Any:
        return proto.CheckResponse(inputs=request.news)

    def DiffConfig(self, request: Any, context: grpc.ServicerContext) -> Any:
        olds, _ = unwrapped(request.olds)
        news, _ = unwrapped(request.news)
        changed = sorted(k for k in set(olds) | set(news) if olds.get(k) != news.get(k))
        # Another URL or user need not be another account: the resources' plans check that with a read
        # by id (provider/gone.py), as the dynamic provider's do, rather than replace every webhook.
        return proto.DiffResponse(
            changes=proto.DiffResponse.DIFF_SOME if changed else proto.DiffResponse.DIFF_NONE, diffs=changed
        )

    def Configure(self, request: Any, context: grpc.ServicerContext) -> Any:
        args, _ = unwrapped(request.args)
        variables = {k.removeprefix(CONFIG_PREFIX): v for k, v in request.variables.items()}

        def get(key: str) -> Any:
            name = key.split(":", 1)[-1]
            return _as_config(args[name]) if name in args else variables.get(name)

        if self.webhooks.use_settings(get):
            self.calls = threading.BoundedSemaphore(self.webhooks.client.settings.max_concurrent_requests)
        return proto.ConfigureResponse(acceptSecrets=True, supportsPreview=False, acceptResources=False)

    # -- webhooks:index:Webhook -----------------------------------------------

    def Check(self, request: Any, context: grpc.ServicerContext) -> Any:
        def check() -> Any:
            olds, _ = unwrapped(request.olds)
            news, secret = unwrapped(request.news)
            result = self.webhooks.check(olds, news)
            failures = [proto.CheckFailure(property=f.property, reason=f.reason) for f in result.failures or []]
            return proto.CheckResponse(inputs=wrapped(result.inputs or {}, secret), failures=failures)

        return self._answer(context, check)

    def Diff(self, request: Any, context: grpc.ServicerContext) -> Any:
        def diff() -> Any:
            olds, _ = unwrapped(request.olds)
            news, _ = unwrapped(request.news)
            result = self.webhooks.diff(request.id, olds, news)
            keys = changed_keys(olds, news) if result.changes else []
            kinds = {key: _kind(olds.get(key), news.get(key)) for key in keys}
            return proto.DiffResponse(
                changes=proto.DiffResponse.DIFF_SOME if result.changes else proto.DiffResponse.DIFF_NONE,
                replaces=list(result.replaces or []),
                diffs=keys,
                detailedDiff={key: proto.PropertyDiff(kind=kind, inputDiff=True) for key, kind in kinds.items()},
                hasDetailedDiff=True,
                deleteBeforeReplace=bool(result.delete_before_replace),
            )

        return self._answer(context, diff)

    def Create(self, request: Any, context: grpc.ServicerContext) -> Any:
        def create() -> Any:
            props, secret = unwrapped(request.properties)
            result = self.webhooks.create(props)
            return proto.CreateResponse(id=result.id, properties=wrapped(result.outs or {}, secret))

        return self._answer(context, create)

    def Read(self, request: Any, context: grpc.ServicerContext) -> Any:
        def read() -> Any:
            props, secret = unwrapped(request.properties)
            result = self.webhooks.read(request.id, props)
            if not result.id:
                return proto.ReadResponse(id="")  # gone: the engine drops it from state
            return proto.ReadResponse(
                id=result.id,
                properties=wrapped(result.outs or {}, secret),
                inputs=wrapped(result.inputs or {}, secret),
            )

        return self._answer(context, read)

    def Update(self, request: Any, context: grpc.ServicerContext) -> Any:
        def update() -> Any:
            olds, _ = unwrapped(request.olds)
            news, secret = unwrapped(request.news)
            result = self.webhooks.update(request.id, olds, news)
            return proto.UpdateResponse(properties=wrapped(result.outs or {}, secret))

        return self._answer(context, update)

    def Delete(self, request: Any, context: grpc.ServicerContext) -> Any:
        def delete() -> Any:
            props, _ = unwrapped(request.properties)
            self.webhooks.delete(request.id, props)
            return empty_pb2.Empty()

        return self._answer(context, delete)

    def _answer(self, context: grpc.ServicerContext, call: Callable[[], Answer]) -> Answer:
        """`call()`'s answer; its failure as the engine shows it: our errors as their message alone."""
        with self.calls:
            try:
                return call()
            except WebhooksError as error:
                context.abort(grpc.StatusCode.UNKNOWN, str(error))
            except Exception:
                log.exception("the webhooks provider failed")
                context.abort(grpc.StatusCode.UNKNOWN, traceback.format_exc())
        raise AssertionError("context.abort raises")  # pragma: no cover


def unwrapped(struct: struct_pb2.Struct) -> tuple[dict[str, Any], set[str]]:
    """A Struct's properties with secrets unwrapped (unknowns kept as the SDK's marker), and the
    names of those that were secrets."""
    props = rpc.deserialize_properties(struct, keep_unknowns=True) or {}
    secret = {k for k, v in props.items() if rpc.is_rpc_secret(v)}
    return {k: rpc.unwrap_rpc_secret(v) for k, v in props.items()}, secret


def wrapped(props: Mapping[str, Any], secret: set[str]) -> struct_pb2.Struct:
    """`props` as a Struct, each password, token and member of `secret` wrapped as a secret."""
    struct = struct_pb2.Struct()
    for key, value in props.items():
        if value is None:
            continue
        value = rpc.UNKNOWN if is_unknown(value) else value  # a preview's, as the engine writes it
        struct[key] = rpc.wrap_rpc_secret(value) if key in SECRET_KEYS or key in secret else value
    return struct


def _as_config(value: Any) -> Any:
    """A provider input as the settings read config text: `true`, `5`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value


def _kind(old: Any, new: Any) -> Any:
    if old in (None, "") and new not in (None, ""):
        return proto.PropertyDiff.ADD
    if new in (None, "") and old not in (None, ""):
        return proto.PropertyDiff.DELETE
    return proto.PropertyDiff.UPDATE

"""The `webhooks` provider plugin's gRPC service: the engine's calls, answered by the same provider
code as the dynamic provider's.

Each resource type has the dynamic provider's class behind it (`WebhookProvider`,
`FleetProvider`), configured from the provider resource's settings; this module only moves
properties on and off the wire (wire.py) and turns results and failures into the protocol's
answers. A `WebhooksError` reaches the user as its message alone, and one that says part of the
work was done (a fleet's) tells the engine what was, so that it records it. Anything else keeps
its traceback: it is a bug to report.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable, Collection
from typing import Any, TypeVar

import grpc
from google.protobuf import any_pb2, empty_pb2
from google.rpc import status_pb2
from pulumi.runtime import proto

from .. import __version__
from ..api.config import SETTINGS, provider_inputs
from ..errors import PartlyDone, WebhooksError
from ..model.fleet import HOOKS, SECRET_MAP, Plan
from ..provider.connection import Connection
from ..provider.fleet import FleetProvider
from ..provider.webhook import WebhookProvider, changed_keys
from ..sdk_internals import is_unknown
from . import schema
from .wire import unwrapped, wrapped

log = logging.getLogger("pulumi_webhooks.plugin")
Answer = TypeVar("Answer")

CONCURRENCY = 16
"""Calls served at once until the settings say (`maxConcurrentRequests`); the engine's --parallel bounds them too."""
SECRET_HINT = "from a secret (in YAML, `fn::secret`, or a config value set with `pulumi config set --secret`)"
CONFIG_PREFIX = f"{schema.PACKAGE}:config:"
ENGINE_KEYS = frozenset({"version", "pluginDownloadURL"})
"""A provider resource's inputs that the engine adds."""
KNOWN = ", ".join(SETTINGS)
KINDS = {"add": proto.PropertyDiff.ADD, "delete": proto.PropertyDiff.DELETE, "update": proto.PropertyDiff.UPDATE}


class PluginWebhook(WebhookProvider):
    """The dynamic provider's `Webhook` lifecycle, with messages for any language."""

    secret_hint = SECRET_HINT


class PluginFleet(FleetProvider):
    """The dynamic provider's `WebhookFleet` lifecycle, with messages for any language."""

    secret_hint = SECRET_HINT


class WebhooksPlugin(proto.ResourceProviderServicer):  # type: ignore[misc]
    """One provider resource of the `webhooks` package: the engine starts a process per provider."""

    def __init__(self) -> None:
        self.providers: dict[str, Connection] = {schema.WEBHOOK: PluginWebhook(), schema.FLEET: PluginFleet()}
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
        news, secret = unwrapped(request.news)
        unknown = sorted(set(news) - set(SETTINGS) - ENGINE_KEYS)
        failures = [
            proto.CheckFailure(property=key, reason=f"{key} is not a setting of the webhooks provider: use {KNOWN}")
            for key in unknown
        ]
        # The credentials are secrets whether or not the program said so: state keeps them encrypted.
        credentials = {name for name, known in SETTINGS.items() if known.secret}
        return proto.CheckResponse(inputs=wrapped(news, secret | credentials), failures=failures)

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
        get = provider_inputs(args, variables)
        read = [provider.use_settings(get) for provider in self.providers.values()]
        if all(read):
            self.calls = threading.BoundedSemaphore(
                self.providers[schema.WEBHOOK].client.settings.max_concurrent_requests
            )
        return proto.ConfigureResponse(acceptSecrets=True, supportsPreview=False, acceptResources=False)

    # -- the resources ----------------------------------------------------------

    def Check(self, request: Any, context: grpc.ServicerContext) -> Any:
        def check() -> Any:
            olds, _ = unwrapped(request.olds)
            news, secret = unwrapped(request.news)
            result = self._provider(request).check(olds, news)
            failures = [proto.CheckFailure(property=f.property, reason=f.reason) for f in result.failures or []]
            return proto.CheckResponse(inputs=wrapped(result.inputs or {}, secret), failures=failures)

        return self._answer(context, check)

    def Diff(self, request: Any, context: grpc.ServicerContext) -> Any:
        def diff() -> Any:
            olds, _ = unwrapped(request.olds)
            news, _ = unwrapped(request.news)
            result = self._provider(request).diff(request.id, olds, news)
            paths = _detailed_diff(request.type or _type(request.urn), olds, news) if result.changes else {}
            return proto.DiffResponse(
                changes=proto.DiffResponse.DIFF_SOME if result.changes else proto.DiffResponse.DIFF_NONE,
                replaces=list(result.replaces or []),
                diffs=sorted({path.split(".")[0].split("[")[0] for path in paths}),
                detailedDiff={
                    path: proto.PropertyDiff(kind=KINDS[kind], inputDiff=True) for path, kind in paths.items()
                },
                hasDetailedDiff=True,
                deleteBeforeReplace=bool(result.delete_before_replace),
            )

        return self._answer(context, diff)

    def Create(self, request: Any, context: grpc.ServicerContext) -> Any:
        props, secret = unwrapped(request.properties)

        def create() -> Any:
            result = self._provider(request).create(props)
            return proto.CreateResponse(id=result.id, properties=wrapped(result.outs or {}, secret))

        return self._answer(context, create, secret)

    def Read(self, request: Any, context: grpc.ServicerContext) -> Any:
        def read() -> Any:
            props, secret = unwrapped(request.properties)
            result = self._provider(request).read(request.id, props)
            if not result.id:
                return proto.ReadResponse(id="")  # gone: the engine drops it from state
            return proto.ReadResponse(
                id=result.id,
                properties=wrapped(result.outs or {}, secret),
                inputs=wrapped(result.inputs or {}, secret),
            )

        return self._answer(context, read)

    def Update(self, request: Any, context: grpc.ServicerContext) -> Any:
        olds, old_secret = unwrapped(request.olds)
        news, secret = unwrapped(request.news)

        def update() -> Any:
            result = self._provider(request).update(request.id, olds, news)
            return proto.UpdateResponse(properties=wrapped(result.outs or {}, secret))

        return self._answer(context, update, secret | old_secret)

    def Delete(self, request: Any, context: grpc.ServicerContext) -> Any:
        def delete() -> Any:
            props, _ = unwrapped(request.properties)
            self._provider(request).delete(request.id, props)
            return empty_pb2.Empty()

        return self._answer(context, delete)

    def _provider(self, request: Any) -> Any:
        kind = request.type or _type(request.urn)
        if kind not in self.providers:
            raise WebhooksError(
                f"the webhooks provider has no resource type {kind!r}: it has {', '.join(self.providers)}"
            )
        return self.providers[kind]

    def _answer(
        self, context: grpc.ServicerContext, call: Callable[[], Answer], secret: Collection[str] = ()
    ) -> Answer:
        """`call()`'s answer; its failure as the engine shows it: ours as their message alone, with what
        was done when it was partly done (the properties in `secret` kept secrets)."""
        with self.calls:
            try:
                return call()
            except PartlyDone as error:
                if error.done is not None:
                    _record_partial_state(context, error, secret)
                context.abort(grpc.StatusCode.UNKNOWN, str(error))
            except WebhooksError as error:
                context.abort(grpc.StatusCode.UNKNOWN, str(error))
            except Exception:
                log.exception("the webhooks provider failed")
                context.abort(grpc.StatusCode.UNKNOWN, traceback.format_exc())
        raise AssertionError("context.abort raises")  # pragma: no cover


def _type(urn: str) -> str:
    """A URN's resource type, without its parent's: `webhooks:index:Webhook`."""
    return urn.split("::")[-2].split("$")[-1] if urn.count("::") >= 3 else ""


def _detailed_diff(kind: str, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, str]:
    """Each changed property path and its kind of change ("add", "delete", "update")."""
    if kind == schema.FLEET:
        unknown = [name for name in (HOOKS, SECRET_MAP) if is_unknown(news.get(name))]
        return dict.fromkeys(unknown, "update") if unknown else Plan(olds, news).detailed_diff()
    return {key: _change(olds.get(key), news.get(key)) for key in changed_keys(olds, news)}


def _change(old: Any, new: Any) -> str:
    if old in (None, "") and new not in (None, ""):
        return "add"
    if new in (None, "") and old not in (None, ""):
        return "delete"
    return "update"


def _record_partial_state(context: grpc.ServicerContext, error: PartlyDone, secret: Collection[str]) -> None:
    """Makes the failure carry what was done: the engine records it, and the next `up` does the rest."""
    failed = proto.ErrorResourceInitFailed(
        id=error.resource_id, properties=wrapped(error.done or {}, secret), reasons=error.reasons
    )
    details = any_pb2.Any()
    details.Pack(failed)
    status = status_pb2.Status(code=grpc.StatusCode.UNKNOWN.value[0], message=str(error), details=[details])
    context.set_trailing_metadata((("grpc-status-details-bin", status.SerializeToString()),))

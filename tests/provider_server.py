"""The provider processes the engine launches, driven from a test: the dynamic-provider server
(`python -u -m pulumi.dynamic`, or started ahead: `python -m pulumi_webhooks.spare`) and the
`webhooks` plugin (`pulumi-resource-webhooks`).

`Engine` plays the engine's side of the provider protocol. For the dynamic provider, each request
carries the serialized provider in `__provider`, as the engine's do; the plugin has none.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import struct_pb2
from google.protobuf.json_format import MessageToDict
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc


def struct(values: dict[str, Any]) -> struct_pb2.Struct:
    out = struct_pb2.Struct()
    out.update({k: v for k, v in values.items() if v is not None})
    return out


def plain(value: struct_pb2.Struct) -> dict[str, Any]:
    return MessageToDict(value)


@dataclass
class Engine:
    """Plays the engine's side of the provider protocol."""

    stub: provider_pb2_grpc.ResourceProviderStub
    process: subprocess.Popen[bytes]
    provider: str | None
    urn: str

    def _own(self, props: dict[str, Any]) -> dict[str, Any]:
        return {**props, "__provider": self.provider} if self.provider else props

    def configure(self, config: dict[str, str]) -> None:
        self.stub.Configure(provider_pb2.ConfigureRequest(args=struct(config), acceptSecrets=True))

    def check(self, news: dict[str, Any], olds: dict[str, Any] | None = None) -> provider_pb2.CheckResponse:
        return self.stub.Check(
            provider_pb2.CheckRequest(urn=self.urn, olds=struct(olds or {}), news=struct(self._own(news)))
        )

    def create(self, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        response = self.stub.Create(provider_pb2.CreateRequest(urn=self.urn, properties=struct(self._own(inputs))))
        return response.id, plain(response.properties)

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> provider_pb2.DiffResponse:
        return self.stub.Diff(
            provider_pb2.DiffRequest(id=id_, urn=self.urn, olds=struct(olds), news=struct(self._own(news)))
        )

    def read(self, id_: str, state: dict[str, Any]) -> provider_pb2.ReadResponse:
        return self.stub.Read(provider_pb2.ReadRequest(id=id_, urn=self.urn, properties=struct(state)))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
        response = self.stub.Update(
            provider_pb2.UpdateRequest(id=id_, urn=self.urn, olds=struct(olds), news=struct(self._own(news)))
        )
        return plain(response.properties)

    def delete(self, id_: str, state: dict[str, Any]) -> None:
        self.stub.Delete(provider_pb2.DeleteRequest(id=id_, urn=self.urn, properties=struct(state)))


DYNAMIC = (sys.executable, "-u", "-m", "pulumi.dynamic")
PLUGIN = (str(Path(sys.executable).with_name("pulumi-resource-webhooks")),)
SPARE = (sys.executable, "-u", "-m", "pulumi_webhooks.spare")


def start_engine(
    provider: str | None,
    urn: str,
    env: dict[str, str] | None = None,
    address: str | None = None,
    command: tuple[str, ...] = DYNAMIC,
) -> Engine:
    """The provider process (`command`), started as the engine starts it: with the engine's `address` as
    its argument when given (a listening socket of the test's, which plays the engine's)."""
    process = subprocess.Popen(
        [*command, *([address] if address else [])],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=_environment(env),
    )
    return _connect(process, provider, urn)


def start_spare(provider: str | None, urn: str, address: str, spare_dir: Path, cli: int | None = None) -> Engine:
    """A provider started ahead (`python -m pulumi_webhooks.spare`), taken over as its launcher takes
    it (langhost/spare): the engine's `address` on its stdin. `cli` is the `pulumi` it is for (this
    test's process by default)."""
    process = subprocess.Popen(
        [*SPARE, "--cli", str(cli or os.getpid()), "--spare-dir", str(spare_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.PIPE,
        env=_environment(None),
    )
    assert process.stdin is not None
    process.stdin.write(f"{address}\n".encode())
    process.stdin.close()
    return _connect(process, provider, urn)


def _environment(env: dict[str, str] | None) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("WEBHOOKS_")}
    return {**clean, **(env or {})}


def _connect(process: subprocess.Popen[bytes], provider: str | None, urn: str) -> Engine:
    assert process.stdout is not None
    port = int(process.stdout.readline().strip())
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    grpc.channel_ready_future(channel).result(timeout=20)
    return Engine(provider_pb2_grpc.ResourceProviderStub(channel), process, provider, urn)

"""`pulumi-resource-webhooks ENGINE_ADDRESS`: the plugin process the engine starts, one per provider.

It prints the port it serves on as its first line, as the engine expects, and serves until the
engine ends it (or, once the engine is gone, until its calls in flight are done).
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ThreadPoolExecutor

import grpc
from pulumi.runtime.proto import provider_pb2_grpc

from ..provider import engine
from .servicer import WebhooksPlugin

WORKERS = 256
"""Threads of the server: the most `maxConcurrentRequests` allows (the servicer bounds the calls)."""
MESSAGE_BYTES = 400 * 1024 * 1024
"""The largest call: a fleet's state is one message (the engine's own limit is the same)."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pulumi-resource-webhooks", description=__doc__.splitlines()[0])
    parser.add_argument("engine", nargs="?", help="the engine's address (HOST:PORT), as the engine passes it")
    parser.add_argument("--logflow", action="store_true", help="ignored: the engine passes it")
    parser.add_argument("--logtostderr", action="store_true", help="ignored: the engine passes it")
    parser.add_argument("-v", dest="verbosity", help="ignored: the engine passes it")
    args, _ = parser.parse_known_args(argv)
    engine.watch(args.engine)  # a killed engine's plugin writes nothing more (provider/engine.py)
    limits = [("grpc.max_receive_message_length", MESSAGE_BYTES), ("grpc.max_send_message_length", MESSAGE_BYTES)]
    server = grpc.server(ThreadPoolExecutor(WORKERS), options=limits)
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(WebhooksPlugin(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()
    try:
        server.wait_for_termination()
    except KeyboardInterrupt:
        server.stop(grace=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Fixtures that run the real server as a subprocess on a loopback port."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from webhooks_standin.testing import ServerProcess

from .support import (
    ACCOUNT_FLAGS,
    ALICE_PASSWORD,
    BOB_PASSWORD,
    StartServer,
    login,
    session_for,
)


def _launcher(directory: Path) -> tuple[StartServer, list[ServerProcess]]:
    started: list[ServerProcess] = []
    counter = itertools.count()

    def start(*flags: str, db: Path | None = None, accounts: bool = True) -> ServerProcess:
        """Start a server with the standard accounts plus `flags`; `db` to reuse a database."""
        number = next(counter)
        server = ServerProcess(
            db or directory / "hooks.sqlite",
            [*(ACCOUNT_FLAGS if accounts else []), *flags],
            log_path=directory / f"server-{number}.log",
        )
        started.append(server)
        return server.start()

    return start, started


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[StartServer]:
    """Factory: start_server("--rate-limit", "5", db=...) -> a running ServerProcess."""
    start, started = _launcher(tmp_path)
    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One default server for a whole module of tests that need no special flags."""
    start, started = _launcher(tmp_path_factory.mktemp("server"))
    yield start()
    for server in started:
        server.stop()


@pytest.fixture
def alice(shared_server: ServerProcess) -> Iterator[requests.Session]:
    """A session authenticated as alice (JWT) on the shared server."""
    with session_for(login(shared_server.url, "alice", ALICE_PASSWORD)) as session:
        yield session


@pytest.fixture
def bob(shared_server: ServerProcess) -> Iterator[requests.Session]:
    with session_for(login(shared_server.url, "bob", BOB_PASSWORD)) as session:
        yield session

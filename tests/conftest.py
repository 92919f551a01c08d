"""Fixtures shared by the client, provider and server tests: a real local API server."""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from harness.api import CREDENTIAL_ARGS, Api
from harness.backends import Backend, PostgresServer, S3Server, file_backend
from tests.provider_server import Engine
from tests.support import ApiFactory
from webhooks_standin.testing import ServerProcess

NEEDS_CLI = (Path(__file__).parent / "e2e", Path(__file__).parent / "reliability")


SERVERS = {"backend", "postgres_server", "s3_server"}

PAGE_STYLES = ("link", "cursor", "next-url", "has-more", "page", "offset")
PAGE_SIZE, PAGE_MAX = "7", "10"


def vendor_flags(request: pytest.FixtureRequest) -> list[str]:
    """The stand-in as real vendors behave, for every test unless its own flags say otherwise: the list
    paged, 7 to a page and at most 10 whatever is asked, in a style chosen by the test's name (the same
    every run; STANDIN_PAGE_STYLE sets one for all, `none` for one plain list); and, for a test marked
    `list_lag(seconds)`, a list that far behind writes."""
    style = os.environ.get("STANDIN_PAGE_STYLE") or PAGE_STYLES[zlib.crc32(request.node.nodeid.encode()) % 6]
    flags = ["--page-style", style, "--page-size", PAGE_SIZE, "--page-max", PAGE_MAX]
    lag = request.node.get_closest_marker("list_lag")
    if lag is not None:
        flags += ["--list-lag-seconds", str(lag.args[0])]
    return flags


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks `cli` every test that drives the real Pulumi CLI, and `servers` every one that starts a
    PostgreSQL or S3 server: `-m "not cli and not servers"` is the fast loop."""
    for item in items:
        if any(item.path.is_relative_to(directory) for directory in NEEDS_CLI):
            item.add_marker(pytest.mark.cli)
        if SERVERS & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.servers)


@pytest.fixture
def start_api(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[ApiFactory]:
    """Starts local API servers with alice's and bob's accounts, as vendors behave (`vendor_flags`), plus
    any flags of the test's own (which win)."""
    started: list[ServerProcess] = []
    vendor = vendor_flags(request)

    def start(*flags: str, db: Path | None = None, users: Sequence[str] = CREDENTIAL_ARGS) -> Api:
        process = ServerProcess(db or tmp_path / f"api-{len(started)}.sqlite", [*users, *vendor, *flags])
        started.append(process.start())
        return Api(process)

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def api(start_api: ApiFactory) -> Api:
    return start_api()


@pytest.fixture
def engines() -> Iterator[list[Engine]]:
    """Every dynamic-provider server a test starts (tests/provider_server.py), killed when it ends."""
    started: list[Engine] = []
    yield started
    for engine in started:
        engine.process.kill()
        engine.process.wait(timeout=10)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for this test session (a table per project), stopped at its end."""
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A real S3-compatible server (versitygw) for this test session (a bucket per project)."""
    server = S3Server(tmp_path_factory.mktemp("s3")).start()
    yield server
    server.stop()


@pytest.fixture(params=["file", "postgres", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """A test of this runs on each backend a team uses: a local directory, PostgreSQL, S3."""
    if request.param == "file":
        return file_backend(tmp_path / "state")
    server = request.getfixturevalue(f"{request.param}_server")
    return server.backend()  # type: ignore[no-any-return]

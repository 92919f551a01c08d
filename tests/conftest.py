"""Fixtures shared by the client, provider and server tests: a real local API server."""

from __future__ import annotations

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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks `cli` every test that drives the real Pulumi CLI, and `servers` every one that starts a
    PostgreSQL or S3 server: `-m "not cli and not servers"` is the fast loop."""
    for item in items:
        if any(item.path.is_relative_to(directory) for directory in NEEDS_CLI):
            item.add_marker(pytest.mark.cli)
        if SERVERS & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.servers)


@pytest.fixture
def start_api(tmp_path: Path) -> Iterator[ApiFactory]:
    """Starts local API servers with alice's and bob's accounts plus any fault flags."""
    started: list[ServerProcess] = []

    def start(*flags: str, db: Path | None = None, users: Sequence[str] = CREDENTIAL_ARGS) -> Api:
        process = ServerProcess(db or tmp_path / f"api-{len(started)}.sqlite", [*users, *flags])
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

"""The recovery step's view of a stack's backend: the URL the CLI would use, and the objects behind
it, against a real PostgreSQL server and a real S3 server (versitygw) that the test run starts."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from urllib.parse import quote

import pytest

from harness.backends import PG_PASSWORD, Backend, PostgresServer, file_backend, object_exists, put_object
from pulumi_webhooks.cli.backends import (
    DirectoryStore,
    PostgresStore,
    S3Store,
    Unreadable,
    backend_url,
    open_store,
    shown,
)
from pulumi_webhooks.cli.locks import locks_of
from pulumi_webhooks.cli.stack import Stack
from pulumi_webhooks.errors import BackendFailed


def test_the_url_is_found_where_the_cli_finds_it(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "credentials.json").write_text(json.dumps({"current": "s3://from-login"}))
    project = tmp_path / "project"
    project.mkdir()
    assert backend_url(project, {"PULUMI_HOME": str(home)}) == "s3://from-login"
    (project / "Pulumi.yaml").write_text("name: p\nruntime: python\nbackend:\n  url: file://.state\n")
    assert backend_url(project, {"PULUMI_HOME": str(home)}) == "file://.state", "the project's wins over the login"
    environ = {"PULUMI_HOME": str(home), "PULUMI_BACKEND_URL": "postgres://u:p@db/x"}
    assert backend_url(project, environ) == "postgres://u:p@db/x", "PULUMI_BACKEND_URL wins over both"
    assert backend_url(tmp_path / "nowhere", {"PULUMI_HOME": str(tmp_path / "none")}) is None


def test_a_password_in_the_url_is_never_shown() -> None:
    assert (
        shown("postgres://ci:s3cret-pw@db:5432/state?sslmode=disable")
        == "postgres://ci:****@db:5432/state?sslmode=disable"
    )
    assert shown("s3://bucket?endpoint=http://127.0.0.1:9000") == "s3://bucket?endpoint=http://127.0.0.1:9000"
    assert (
        shown("postgres://db/state?password=s3cret-pw&sslmode=disable&sslpassword=k3y-pw")
        == "postgres://db/state?password=****&sslmode=disable&sslpassword=****"
    )


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("https://api.pulumi.com", "Pulumi Cloud (https://api.pulumi.com)"),
        ("https://pulumi.internal.example.com", "Pulumi Cloud"),
        ("gs://team-state", "it reads file://, postgres:// and s3:// ones"),
        ("azblob://state", "pulumi cancel --stack STACK"),
    ],
)
def test_a_backend_whose_locks_cannot_be_read_says_what_to_do(url: str, says: str, tmp_path: Path) -> None:
    store = open_store(url, tmp_path)
    assert isinstance(store, Unreadable) and says in store.reason


def test_a_relative_file_url_is_the_directory_the_cli_means(tmp_path: Path) -> None:
    store = open_store("file://.state/pulumi", tmp_path)
    assert isinstance(store, DirectoryStore) and store.root == (tmp_path / ".state" / "pulumi").resolve()


def stores(backend: Backend, tmp_path: Path) -> DirectoryStore | PostgresStore | S3Store:
    store = open_store(backend.url, tmp_path)
    assert isinstance(store, DirectoryStore | PostgresStore | S3Store)
    return store


def test_objects_are_listed_read_and_deleted_one_at_a_time(
    backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in backend.env.items():  # the credentials the AWS SDK finds, as a CI job sets them
        monkeypatch.setenv(key, value)
    locks = ".pulumi/locks/organization/p/dev/"
    for name in ("a.json", "b.json"):
        put_object(backend, locks + name, json.dumps({"pid": 1}).encode())
    put_object(backend, ".pulumi/locks/organization/p/devx/c.json", b"{}")
    store = stores(backend, tmp_path)
    assert store.keys(locks) == [locks + "a.json", locks + "b.json"], "the stack's own, not a longer name's"
    assert json.loads(store.read(locks + "a.json") or b"") == {"pid": 1}
    assert store.read(locks + "gone.json") is None
    store.delete(locks + "a.json")
    assert not object_exists(backend, locks + "a.json") and object_exists(backend, locks + "b.json")


def test_a_postgres_backend_that_refuses_the_login_fails_clearly_without_the_password(
    postgres_server: PostgresServer,
) -> None:
    url = postgres_server.backend().url.replace(PG_PASSWORD, "wrong-Passw0rd-xyz")
    with pytest.raises(BackendFailed) as raised:
        PostgresStore(url).keys(".pulumi/")
    message = str(raised.value)
    assert "the PostgreSQL backend postgres://pulumi:****@127.0.0.1" in message and "could not be read" in message
    assert "wrong-Passw0rd-xyz" not in message and PG_PASSWORD not in message


def test_a_password_with_url_escapes_reaches_the_server_as_written_and_is_never_shown(
    postgres_server: PostgresServer,
) -> None:
    """`%`, `&` and `=` in a password, escaped in the URL as the CLI needs them: the step's login
    sends the password as written, so the server's refusal names no part of it."""
    password = "50%off&a=b-Secret"
    url = postgres_server.backend().url.replace(PG_PASSWORD, "x")
    url = url.replace("postgres://pulumi:x@", "postgres://pulumi@", 1) + "&password=" + quote(password, safe="")
    with pytest.raises(BackendFailed) as raised:
        PostgresStore(url).keys(".pulumi/")
    message = str(raised.value)
    assert "password authentication failed" in message, message
    assert password not in message and quote(password, safe="") not in message and "50%" not in message


def test_the_test_run_s_postgres_server_starts_on_another_port_when_its_own_is_taken() -> None:
    """The harness picks its port seconds before the server binds it (initdb runs between): a
    port taken meanwhile costs a retry on another port, not the session's PostgreSQL tests."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        server = PostgresServer()
        server.port = taken
        server.start()
    try:
        assert server.port != taken
        backend = server.backend()
        put_object(backend, ".pulumi/meta.yaml", b"version: 1\n")
        assert object_exists(backend, ".pulumi/meta.yaml")
    finally:
        server.stop()


def test_a_table_name_from_the_url_is_a_table_name() -> None:
    with pytest.raises(BackendFailed, match="not a table name"):
        PostgresStore("postgres://u:p@127.0.0.1/db?table=x;DROP TABLE y")


def test_the_file_backend_s_sidecar_goes_with_its_object(tmp_path: Path) -> None:
    backend = file_backend(tmp_path / "state")
    key = ".pulumi/locks/organization/p/dev/a.json"
    put_object(backend, key, b"{}")
    put_object(backend, key + ".attrs", b"{}")
    store = stores(backend, tmp_path)
    assert store.keys(".pulumi/locks/") == [key], "a sidecar is not an object of its own"
    store.delete(key)
    assert not object_exists(backend, key) and not object_exists(backend, key + ".attrs")


class ReleasedWhileListed(DirectoryStore):
    """A local-directory backend where the run holding the lock releases it just after the step
    lists the locks and before it reads them."""

    def keys(self, prefix: str) -> list[str]:
        listed = super().keys(prefix)
        for key in listed:
            self.delete(key)
        return listed


def test_a_lock_released_between_listing_and_reading_is_no_lock(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: p\nruntime: python\n")
    stack = Stack("dev", tmp_path)
    key = ".pulumi/locks/organization/p/dev/0a1b.json"
    lock = {"pid": 1, "username": "ci", "hostname": "elsewhere", "timestamp": "2026-12-01T00:00:00Z"}
    put_object(file_backend(tmp_path / "state"), key, json.dumps(lock).encode())
    assert [held.key for held in locks_of(stack, DirectoryStore(tmp_path / "state"))] == [key]
    assert locks_of(stack, ReleasedWhileListed(tmp_path / "state")) == []

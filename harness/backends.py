"""State backends for the tests, real servers started and stopped by the test run: a local
directory, PostgreSQL (the Debian package's binaries) and an S3-compatible bucket (versitygw,
built by scripts/install-versitygw). Each project gets its own namespace in the server: a table
of the PostgreSQL database, a bucket of the S3 server.
"""

from __future__ import annotations

import base64
import json
import os
import random
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

REPO = Path(__file__).resolve().parents[1]
PG_USER = "pulumi"
PG_PASSWORD = "pg-Passw0rd-not-a-secret-of-interest"
S3_KEY = "webhooks-test"
S3_SECRET = "s3-Secret-not-a-secret-of-interest"
BACKEND_SECRETS = [PG_PASSWORD, S3_SECRET]


@dataclass(frozen=True)
class Backend:
    """Where one project keeps its state: the URL to log in to, and the environment it needs."""

    kind: str
    url: str
    env: dict[str, str] = field(default_factory=dict)


def free_port() -> int:
    """A loopback port no one holds, from below the kernel's ephemeral range: a port of that range
    can be taken by any outgoing connection (the CLI's, a test's) between this pick and the
    server's own bind, which for PostgreSQL comes seconds later, after initdb."""
    ephemeral_start = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    below = range(10000, ephemeral_start)  # empty where the range starts low: any port, then
    for port in random.sample(below, min(100, len(below))):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def file_backend(directory: Path) -> Backend:
    directory.mkdir(parents=True, exist_ok=True)
    return Backend("file", f"file://{directory}")


def postgres_binaries() -> Path:
    """The newest PostgreSQL server binaries of the machine (the Debian package `postgresql`)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if os.environ.get("PG_BIN"):
        return Path(os.environ["PG_BIN"])
    if not found:
        raise RuntimeError("no PostgreSQL server here: install the Debian package postgresql (.ci/run does)")
    return found[-1].parent


class PostgresServer:
    """A PostgreSQL server of its own, in a temporary directory, on a loopback port, with a
    password login; run as the `postgres` user when the tests run as root (initdb refuses root)."""

    def __init__(self) -> None:
        # Its own directory in /tmp: under root, the server's user must be able to reach it.
        self.directory = Path(tempfile.mkdtemp(prefix="webhooks-postgres-"))
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def start(self) -> PostgresServer:
        bin_dir = postgres_binaries()
        data, sockets = self.directory / "data", self.directory / "sockets"
        self.directory.mkdir(parents=True, exist_ok=True)
        password_file = self.directory / "password"
        password_file.write_text(PG_PASSWORD + "\n")
        for path in (self.directory, sockets):
            path.mkdir(parents=True, exist_ok=True)
        if self._as:
            shutil.chown(self.directory, "postgres")
            shutil.chown(sockets, "postgres")
            shutil.chown(password_file, "postgres")
        subprocess.run(
            [
                *self._as,
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                PG_USER,
                "--pwfile",
                str(password_file),
                "--auth=scram-sha-256",
                "--no-sync",
                "-E",
                "UTF8",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        for _ in range(3):  # a port taken between its pick and the server's bind: pick another
            if self._serve(bin_dir, data, sockets):
                return self
            said = (self.directory / "postgres.log").read_text()[-2000:]
            self.stop(keep_directory=True)  # a server that never answered is not left running
            if "Address already in use" not in said:
                break
            self.port = free_port()
        shutil.rmtree(self.directory, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL did not start: {said}")

    def _serve(self, bin_dir: Path, data: Path, sockets: Path) -> bool:
        """Starts the server on `self.port`; whether it answers within a minute."""
        with (self.directory / "postgres.log").open("wb") as log:
            self.process = subprocess.Popen(
                [
                    *self._as,
                    str(bin_dir / "postgres"),
                    "-D",
                    str(data),
                    "-p",
                    str(self.port),
                    "-k",
                    str(sockets),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    "fsync=off",
                    "-c",
                    "max_connections=200",
                    "-c",
                    "lc_messages=C",  # its log is read for "Address already in use"
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.process.poll() is None:
            ready = subprocess.run(
                # Its own socket directory: on a port taken by another server, that one would answer.
                [str(bin_dir / "pg_isready"), "-h", str(sockets), "-p", str(self.port)],
                capture_output=True,
                timeout=10,
            )
            if ready.returncode == 0:
                return True
            time.sleep(0.2)
        return False

    def backend(self) -> Backend:
        """A table of its own in the server's database: the CLI makes it on first use."""
        table = f"state_{secrets.token_hex(6)}"
        url = f"postgres://{PG_USER}:{PG_PASSWORD}@127.0.0.1:{self.port}/postgres?sslmode=disable&table={table}"
        return Backend("postgres", url)

    def stop(self, keep_directory: bool = False) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                os.killpg(self.process.pid, 15)
            self.process.wait(timeout=60)
            self.process = None
        if not keep_directory:
            shutil.rmtree(self.directory, ignore_errors=True)


def versitygw() -> Path:
    installed = subprocess.run(
        [REPO / "scripts" / "install-versitygw"], check=True, capture_output=True, text=True, timeout=3000
    )
    return Path(installed.stdout.strip().splitlines()[-1])


class S3Server:
    """The Versity S3 gateway over a directory (its posix backend), on a loopback port."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> S3Server:
        data = self.directory / "data"
        data.mkdir(parents=True, exist_ok=True)
        log = (self.directory / "versitygw.log").open("wb")
        env = {**os.environ, "ROOT_ACCESS_KEY_ID": S3_KEY, "ROOT_SECRET_ACCESS_KEY": S3_SECRET}
        self.process = subprocess.Popen(
            [
                str(versitygw()),
                "--port",
                f"127.0.0.1:{self.port}",
                "--health",
                "/health",
                "--quiet",
                "posix",
                str(data),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2) as answer:
                    if answer.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        self.stop()  # a server that never answered is not left running
        raise RuntimeError(f"versitygw did not start: {(self.directory / 'versitygw.log').read_text()[-2000:]}")

    def backend(self) -> Backend:
        """A bucket of its own (a directory of the posix backend)."""
        bucket = f"state-{secrets.token_hex(6)}"
        (self.directory / "data" / bucket).mkdir()
        url = f"s3://{bucket}?endpoint=http://127.0.0.1:{self.port}&use_path_style=true&region=us-east-1"
        env = {"AWS_ACCESS_KEY_ID": S3_KEY, "AWS_SECRET_ACCESS_KEY": S3_SECRET, "AWS_REGION": "us-east-1"}
        return Backend("s3", url, env)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=60)
            self.process = None


def put_object(backend: Backend, key: str, content: bytes) -> None:
    """Writes one object of a backend as the CLI does (a test's hand-made lock, say)."""
    if backend.kind == "file":
        path = Path(backend.url.removeprefix("file://")) / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    elif backend.kind == "postgres":
        import psycopg

        dsn, table, prefix = _postgres(backend)
        blob = json.dumps({"data": base64.b64encode(content).decode()})
        with psycopg.connect(dsn) as connection:
            # The table as the CLI makes it on first use (its schema.sql), if the CLI has not yet.
            connection.execute(
                f"CREATE TABLE IF NOT EXISTS {table} (key TEXT PRIMARY KEY, data JSON NOT NULL, "
                "updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now())"
            )
            connection.execute(
                f"INSERT INTO {table} (key, data) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET data = %s",
                (prefix + key, blob, blob),
            )
    else:
        _s3(backend).put_object(Bucket=urlsplit(backend.url).netloc, Key=key, Body=content)


def object_exists(backend: Backend, key: str) -> bool:
    if backend.kind == "file":
        return (Path(backend.url.removeprefix("file://")) / key).exists()
    if backend.kind == "postgres":
        import psycopg

        dsn, table, prefix = _postgres(backend)
        with psycopg.connect(dsn) as connection:
            return connection.execute(f"SELECT 1 FROM {table} WHERE key = %s", (prefix + key,)).fetchone() is not None
    listed = _s3(backend).list_objects_v2(Bucket=urlsplit(backend.url).netloc, Prefix=key)
    return any(item["Key"] == key for item in listed.get("Contents", []))


def stored_objects(backend: Backend) -> dict[str, bytes]:
    """Every object of the backend under `.pulumi/`, by key: any write of the CLI changes it (a
    checkpoint, its backup, a history entry)."""
    if backend.kind == "file":
        root = Path(backend.url.removeprefix("file://"))
        return {str(p.relative_to(root)): p.read_bytes() for p in (root / ".pulumi").rglob("*") if p.is_file()}
    if backend.kind == "postgres":
        import psycopg

        dsn, table, prefix = _postgres(backend)
        with psycopg.connect(dsn) as connection:
            rows = connection.execute(f"SELECT key, data::text FROM {table} WHERE key LIKE %s", (prefix + ".pulumi/%",))
            return {key.removeprefix(prefix): data.encode() for key, data in rows}
    client, bucket = _s3(backend), urlsplit(backend.url).netloc
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=".pulumi/")
    keys = [item["Key"] for page in pages for item in page.get("Contents", [])]
    return {key: client.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}


def _postgres(backend: Backend) -> tuple[str, str, str]:
    """The DSN without `table`, the table, and the key prefix (the database's name, as the CLI puts it)."""
    parts = urlsplit(backend.url)
    query = parse_qs(parts.query)
    table = query.pop("table")[0]
    dsn = urlunsplit(parts._replace(query="&".join(f"{k}={v[0]}" for k, v in query.items())))
    return dsn, table, parts.path.strip("/") + "/"


def _s3(backend: Backend) -> Any:
    import boto3
    from botocore.config import Config

    endpoint = parse_qs(urlsplit(backend.url).query)["endpoint"][0]
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=S3_KEY,
        aws_secret_access_key=S3_SECRET,
        config=Config(s3={"addressing_style": "path"}),
    )

"""A stack's backend, read as the Pulumi CLI keeps it: the same keys in a local directory, a
PostgreSQL table or an S3-compatible bucket.

Every DIY backend of the CLI stores the same objects under `.pulumi/`: each stack's state, and its
locks as `.pulumi/locks/organization/<project>/<stack>/<uuid>.json`. The recovery step reads and
deletes those objects itself, one at a time, so that it clears exactly the locks it judged stale
(`pulumi cancel` would delete every lock, a live run's too). The backend's URL is found where the
CLI finds it: PULUMI_BACKEND_URL, then the project's `backend.url`, then the stored login; its
password never appears in a message. Pulumi Cloud, and buckets of other clouds, keep their locks
where this step cannot read them: `open_store` says so, and what to do.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

import yaml

from ..api.redact import Redactor
from ..errors import BackendFailed


class Store(Protocol):
    """The objects of a DIY backend, by key."""

    kind: str
    """What it is, for messages: "local directory", "PostgreSQL", "S3-compatible bucket"."""

    def keys(self, prefix: str) -> list[str]: ...

    def read(self, key: str) -> bytes | None: ...

    def delete(self, key: str) -> None: ...


@dataclass(frozen=True)
class Unreadable:
    """A backend whose locks this step cannot read: why, and what to do instead."""

    reason: str


NO_BACKEND = (
    "no state backend was found for it (no PULUMI_BACKEND_URL, no backend.url in Pulumi.yaml, no "
    "`pulumi login`): if `pulumi up` says the stack is locked by a run you know was killed, run "
    "`pulumi cancel --stack STACK` once, then the pipeline again"
)


def backend_url(cwd: Path, environ: Mapping[str, str]) -> str | None:
    """The URL the CLI would use in `cwd`: PULUMI_BACKEND_URL, the project's, or the stored login."""
    if environ.get("PULUMI_BACKEND_URL"):
        return environ["PULUMI_BACKEND_URL"]
    for name in ("Pulumi.yaml", "Pulumi.yml"):
        path = cwd / name
        if path.is_file():
            project = yaml.safe_load(path.read_text()) or {}
            url = (project.get("backend") or {}).get("url") if isinstance(project.get("backend"), dict) else None
            if url:
                return str(url)
            break
    home = Path(environ.get("PULUMI_CREDENTIALS_PATH") or environ.get("PULUMI_HOME") or Path.home() / ".pulumi")
    try:
        current = json.loads((home / "credentials.json").read_text()).get("current")
    except (OSError, ValueError):
        return None
    return str(current) if current else None


# libpq takes a password in the query too (`?password=...`, `sslpassword=...`).
_QUERY_PASSWORD = re.compile(r"(^|&)((?:ssl)?password=)[^&]*", re.I)


def shown(url: str) -> str:
    """`url` fit for a message: any password in it as ****, as the CLI shows it."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        netloc = netloc.replace(f":{parts.password}@", ":****@", 1)
    return urlunsplit(parts._replace(netloc=netloc, query=_QUERY_PASSWORD.sub(r"\1\2****", parts.query)))


def open_store(url: str, cwd: Path) -> Store | Unreadable:
    """The objects behind `url`, or why they cannot be read here."""
    scheme = urlsplit(url).scheme
    if scheme == "file":
        return DirectoryStore(_directory(url, cwd))
    if scheme in ("postgres", "postgresql"):
        return PostgresStore(url)
    if scheme == "s3":
        return S3Store(url)
    if scheme in ("http", "https"):
        return Unreadable(
            f"its backend is Pulumi Cloud ({shown(url)}), which keeps a stack's lock (an update in progress) "
            "where this step cannot read it: if `pulumi up` says an update is in progress and you know that "
            "run was killed, run `pulumi cancel --stack STACK` once, then the pipeline again"
        )
    return Unreadable(
        f"its backend ({shown(url)}) is one whose locks this step cannot read (it reads file://, postgres:// "
        "and s3:// ones): if `pulumi up` says the stack is locked by a run you know was killed, "
        "run `pulumi cancel --stack STACK` once, then the pipeline again"
    )


def _directory(url: str, cwd: Path) -> Path:
    parts = urlsplit(url)
    path = os.path.expanduser(parts.netloc + parts.path)
    return (cwd / path).resolve()


class DirectoryStore:
    """A local-directory backend (`file://`): objects are files under the directory."""

    kind = "local directory"

    def __init__(self, root: Path) -> None:
        self.root = root

    def keys(self, prefix: str) -> list[str]:
        folder = self.root / prefix
        if not folder.is_dir():
            return []
        return sorted(
            str(path.relative_to(self.root)) for path in folder.rglob("*") if path.is_file() and path.suffix != ".attrs"
        )

    def read(self, key: str) -> bytes | None:
        try:
            return (self.root / key).read_bytes()
        except OSError:
            return None

    def delete(self, key: str) -> None:
        path = self.root / key
        for each in (path, path.with_name(path.name + ".attrs")):  # and the blob store's metadata sidecar
            each.unlink(missing_ok=True)


class PostgresStore:
    """The CLI's PostgreSQL backend: a table (`pulumi_state`, or the URL's `table`) of key, data
    (JSON holding the object's base64) and updated_at. As for any bucket, the CLI puts the URL's
    path (here the database's name) before every key."""

    kind = "PostgreSQL"
    _TABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        query = parse_qsl(parts.query, keep_blank_values=True)
        self.table = next((value for key, value in query if key == "table"), "pulumi_state")
        if not self._TABLE.fullmatch(self.table):
            raise BackendFailed(f"the backend URL names the table {self.table!r}, which is not a table name")
        # Re-encoded, so that a password with %, & or = in it reaches libpq as written.
        self._dsn = urlunsplit(parts._replace(query=urlencode([(k, v) for k, v in query if k != "table"])))
        self._prefix = f"{parts.path.strip('/')}/" if parts.path.strip("/") else ""
        self._shown = shown(url)
        # libpq's messages may quote what it could not parse, password included.
        passwords = [v for k, v in query if k.lower() in ("password", "sslpassword")]
        self._redact = Redactor([parts.password, unquote(parts.password or ""), *passwords])

    def _run(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        try:
            import psycopg
        except ImportError:
            raise BackendFailed(
                "reading a PostgreSQL backend needs psycopg: `pip install 'pulumi-webhooks[postgres]'`"
            ) from None
        try:
            with psycopg.connect(self._dsn, connect_timeout=30) as connection, connection.cursor() as cursor:
                cursor.execute(sql, args)  # type: ignore[arg-type]
                return list(cursor.fetchall()) if cursor.description else []
        except psycopg.Error as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            first = self._redact(first)
            raise BackendFailed(f"the PostgreSQL backend {self._shown} could not be read: {first}") from None

    def keys(self, prefix: str) -> list[str]:
        full = self._prefix + prefix
        escaped = full.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = self._run(f"SELECT key FROM {self.table} WHERE key LIKE %s ORDER BY key", escaped + "%")
        return [str(row[0])[len(self._prefix) :] for row in rows]

    def read(self, key: str) -> bytes | None:
        rows = self._run(f"SELECT data FROM {self.table} WHERE key = %s", self._prefix + key)
        if not rows:
            return None
        data = rows[0][0]
        blob = json.loads(data) if isinstance(data, str) else data
        return base64.b64decode(blob["data"])

    def delete(self, key: str) -> None:
        self._run(f"DELETE FROM {self.table} WHERE key = %s", self._prefix + key)


class S3Store:
    """An S3 bucket (`s3://bucket/prefix?endpoint=...&region=...`), AWS's or an S3-compatible
    server's, with the credentials the AWS SDKs find (AWS_ACCESS_KEY_ID, a profile, a role)."""

    kind = "S3-compatible bucket"

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query))
        self.bucket = parts.netloc
        self.prefix = parts.path.strip("/")
        endpoint = query.get("endpoint")
        insecure = query.get("disableSSL", query.get("disable_https", "false")).lower() == "true"
        if endpoint and "://" not in endpoint:
            endpoint = ("http://" if insecure else "https://") + endpoint
        self._endpoint = endpoint
        self._region = query.get("region") or query.get("awssdk_region")
        self._path_style = "true" in (query.get("use_path_style", ""), query.get("s3ForcePathStyle", ""))
        self._profile = query.get("profile")
        self._client: Any = None
        self._shown = shown(url)

    def _s3(self) -> Any:
        if self._client is None:
            try:
                import boto3
                from botocore.config import Config
            except ImportError:
                raise BackendFailed("reading an S3 backend needs boto3: `pip install 'pulumi-webhooks[s3]'`") from None
            session = boto3.session.Session(profile_name=self._profile)
            style = "path" if self._path_style else "auto"
            config = Config(s3={"addressing_style": style}, retries={"max_attempts": 5})
            self._client = session.client("s3", endpoint_url=self._endpoint, region_name=self._region, config=config)
        return self._client

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    @contextmanager
    def _reading(self) -> Iterator[None]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            yield
        except (ClientError, BotoCoreError) as error:
            raise BackendFailed(f"the S3 backend {self._shown} could not be read: {error}") from None

    def keys(self, prefix: str) -> list[str]:
        start = len(self.prefix) + 1 if self.prefix else 0
        with self._reading():
            pages = self._s3().get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self._key(prefix))
            return sorted(item["Key"][start:] for page in pages for item in page.get("Contents", []))

    def read(self, key: str) -> bytes | None:
        from botocore.exceptions import ClientError

        with self._reading():
            try:
                answer = self._s3().get_object(Bucket=self.bucket, Key=self._key(key))
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                    return None
                raise
            return bytes(answer["Body"].read())

    def delete(self, key: str) -> None:
        with self._reading():
            self._s3().delete_object(Bucket=self.bucket, Key=self._key(key))

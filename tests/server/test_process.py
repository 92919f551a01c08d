"""The server as a process: CLI, start line, signals, restart, concurrency, logs."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from .support import (
    ALICE_PASSWORD,
    ALICE_STATIC_TOKEN,
    BOB_PASSWORD,
    STATIC_TOKEN,
    TIMEOUT,
    StartServer,
    basic_hook,
    bearer,
    login,
)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "webhooks_standin", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_help_lists_the_options() -> None:
    result = _cli("--help")
    assert result.returncode == 0
    for flag in (
        "--host",
        "--port",
        "--db",
        "--user",
        "--api-token",
        "--token-ttl",
        "--max-body-bytes",
        "--rate-limit",
        "--fail-rate",
        "--latency-ms",
        "--create-without-id",
        "--id-field",
        "--drop-create-response-rate",
        "--without-route",
        "--seed",
    ):
        assert flag in result.stdout
    assert result.stdout.startswith("usage: python -m webhooks_standin ")
    assert "(see docs/api.md)" in result.stdout


def test_the_server_loads_nothing_of_the_provider() -> None:
    """The stand-in is a distribution of its own: starting it loads neither pulumi_webhooks nor
    what the provider brings (pulumi, pydantic, dill), so it starts fast and plays the vendor alone."""
    probe = (
        "import sys, webhooks_standin.__main__, webhooks_standin.testing;"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'pulumi_webhooks', 'pulumi', 'pydantic', 'dill'}))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=30, check=True)
    assert result.stdout.strip() == "[]", result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["--user", "no-colon"],
        ["--fail-rate", "1.5"],
        ["--id-field", "uuid"],
        ["--port", "-1"],
        ["--token-ttl", "0"],
        ["--without-route", "GET /nowhere"],
        ["--without-route", "PATCH /webhooks/<id>"],
    ],
)
def test_bad_options_exit_2(tmp_path: Path, args: list[str]) -> None:
    result = _cli("--db", str(tmp_path / "x.sqlite"), *args)
    assert result.returncode == 2
    assert result.stdout == ""


def test_listening_line_and_clean_stop(start_server: StartServer) -> None:
    server = start_server()
    assert re.fullmatch(r"http://127\.0\.0\.1:[1-9][0-9]*", server.url)
    assert requests.get(f"{server.url}/healthz", timeout=TIMEOUT).status_code == 200
    assert server.stop() == 0


def test_sigint_stops_cleanly(start_server: StartServer) -> None:
    server = start_server()
    server.process.send_signal(signal.SIGINT)
    assert server.process.wait(timeout=5) == 0
    assert "Traceback" not in server.log_text()


def test_data_and_tokens_survive_restart(start_server: StartServer, tmp_path: Path) -> None:
    db = tmp_path / "persist.sqlite"
    first = start_server(db=db)
    token = login(first.url, "alice", ALICE_PASSWORD)
    created = requests.post(
        f"{first.url}/webhooks", json=basic_hook(isAlertHook=True), headers=bearer(token), timeout=TIMEOUT
    )
    hook_id = created.json()["webhookId"]
    before = requests.get(f"{first.url}/webhooks/{hook_id}", headers=bearer(token), timeout=TIMEOUT).json()
    assert first.stop() == 0

    second = start_server(db=db)
    after = requests.get(f"{second.url}/webhooks/{hook_id}", headers=bearer(token), timeout=TIMEOUT)
    assert after.status_code == 200, "a JWT issued before the restart must still be valid"
    assert after.json() == before
    # Ids keep growing after a restart.
    again = requests.post(f"{second.url}/webhooks", json=basic_hook(), headers=bearer(token), timeout=TIMEOUT)
    assert again.json()["webhookId"] > hook_id


def test_parallel_creates_make_distinct_rows(start_server: StartServer) -> None:
    url = start_server().url

    def create(number: int) -> int:
        response = requests.post(
            f"{url}/webhooks",
            json=basic_hook(endpoint=f"https://p{number}.example.test"),
            headers=bearer(STATIC_TOKEN),
            timeout=TIMEOUT,
        )
        assert response.status_code == 201, response.text
        return int(response.json()["webhookId"])

    with ThreadPoolExecutor(max_workers=50) as pool:
        ids = list(pool.map(create, range(50)))

    assert len(set(ids)) == 50
    listed = requests.get(f"{url}/webhooks", headers=bearer(STATIC_TOKEN), timeout=TIMEOUT).json()
    assert sorted(hook["webhookId"] for hook in listed) == sorted(ids)
    assert {hook["endpoint"] for hook in listed} == {f"https://p{n}.example.test" for n in range(50)}


def test_log_has_one_line_per_request_and_no_secret(start_server: StartServer) -> None:
    hook_password = "log-Hook-pw-a1b2c3"
    hook_token = "log-Hook-token-d4e5f6"
    query_secret = "log-Query-secret-778899"
    wrong_password = "log-Wrong-pw-000111"
    server = start_server()
    url = server.url

    jwt = login(url, "alice", ALICE_PASSWORD)
    login(url, "bob", BOB_PASSWORD)
    requests.post(f"{url}/authtoken", json={"userName": "alice", "password": wrong_password}, timeout=TIMEOUT)
    created = requests.post(
        f"{url}/webhooks?token={query_secret}",
        json=basic_hook(password=hook_password),
        headers=bearer(jwt),
        timeout=TIMEOUT,
    )
    hook_id = created.json()["webhookId"]
    requests.put(
        f"{url}/webhooks/{hook_id}",
        json={"endpoint": "https://x.example.test", "authType": "bearer", "token": hook_token},
        headers=bearer(ALICE_STATIC_TOKEN),
        timeout=TIMEOUT,
    )
    # Secrets in places a validation error would be tempted to echo.
    requests.post(
        f"{url}/webhooks",
        json={"endpoint": "https://x", "authType": hook_token, "token": hook_token, "userName": hook_password},
        headers=bearer(jwt),
        timeout=TIMEOUT,
    )
    requests.get(f"{url}/webhooks", headers=bearer(hook_token), timeout=TIMEOUT)
    requests.get(f"{url}/webhooks/{hook_id}?password={query_secret}", headers=bearer(STATIC_TOKEN), timeout=TIMEOUT)
    assert server.stop() == 0

    log = server.log_text()
    for secret in (
        ALICE_PASSWORD,
        BOB_PASSWORD,
        STATIC_TOKEN,
        ALICE_STATIC_TOKEN,
        jwt,
        jwt.split(".")[2],
        hook_password,
        hook_token,
        query_secret,
        wrong_password,
    ):
        assert secret not in log
    assert "?" not in log, "no query string in the log"
    assert "HTTP/1.1" not in log, "werkzeug's own access log is off"

    request_lines = [line for line in log.splitlines() if re.search(r" (GET|POST|PUT|DELETE) /", line)]
    assert len(request_lines) == 8
    assert re.search(r"POST /authtoken 200 [0-9.]+ms alice$", request_lines[0])
    assert re.search(r"POST /authtoken 401 [0-9.]+ms -$", request_lines[2])
    assert re.search(r"POST /webhooks 201 [0-9.]+ms alice$", request_lines[3])
    assert re.search(rf"PUT /webhooks/{hook_id} 200 [0-9.]+ms alice$", request_lines[4])
    assert re.search(r"GET /webhooks 401 [0-9.]+ms -$", request_lines[6])
    assert re.search(rf"GET /webhooks/{hook_id} 404 [0-9.]+ms default$", request_lines[7])


def test_broken_request_line_gets_json_and_is_not_logged(start_server: StartServer) -> None:
    server = start_server()
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    secret = "raw-Query-secret-5151"
    with socket.create_connection((host, int(port)), timeout=TIMEOUT) as conn:
        conn.sendall(f"GET /webhooks?token={secret} NOT AN HTTP VERSION\r\n\r\n".encode())
        received = b""
        while chunk := conn.recv(4096):
            received += chunk
    # http.server answers an unparsable request line HTTP/0.9 style: a bare body.
    body = received.rpartition(b"\r\n\r\n")[2]
    assert json.loads(body) == {"message": "HTTP error 400"}
    assert secret.encode() not in received
    assert server.stop() == 0
    assert secret not in server.log_text()

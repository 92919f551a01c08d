"""`python -m pulumi_webhooks doctor` as a subprocess against the real local server."""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from harness.api import OTHER_PASSWORD, PASSWORD, STATIC_TOKEN, USER, Api
from tests.support import ApiFactory

ROUND_TRIP = ["create", "list lag", "read by id", "update", "delete", "gone", "idempotency"]
ALL_CHECKS = ["settings", "reachable", "credentials", "list shape", *ROUND_TRIP, "rate limits"]
# The report's line: status, check name, time, detail (with "  fix: ..." when not ok).
LINE = re.compile(r"(ok|FAIL|skip|info) +(\S+(?: \S+)*) +(\d+ ms|-)  (.*)")


@dataclass
class Doctor:
    code: int
    out: str
    err: str

    def checks(self) -> dict[str, tuple[str, str]]:
        """Check name -> (status, detail), in the order printed."""
        matches = [LINE.fullmatch(line) for line in self.out.splitlines()[:-1]]
        assert all(matches), self.out
        return {m[2]: (m[1], m[4]) for m in matches if m}


def doctor(
    url: str, *args: str, connection: str | None = None, secrets: tuple[str, ...] = (), **variables: str
) -> Doctor:
    """Runs the doctor with these variables (default: alice's login at `url`) and checks that no secret shows."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBHOOKS_", "REQUESTS_CA_", "CURL_CA_"))}
    env.update(variables or {"WEBHOOKS_API_USERNAME": USER, "WEBHOOKS_API_PASSWORD": PASSWORD})
    env.setdefault("WEBHOOKS_API_URL", url)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pulumi_webhooks",
            *(["--connection", connection] if connection else []),
            "doctor",
            *args,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    shown = run.stdout + run.stderr
    for secret in (PASSWORD, OTHER_PASSWORD, STATIC_TOKEN, "doctor-secret-", "Bearer ", *secrets):
        assert secret not in shown, f"{secret!r} shown"
    assert "Traceback" not in shown
    return Doctor(run.returncode, run.stdout, run.stderr)


@pytest.fixture
def api(start_api: ApiFactory) -> Api:
    """One plain list, for the exact texts below; the paged styles have a test of their own."""
    return start_api("--page-style", "none")


def writes(api: Api) -> dict[str, int]:
    return {route: n for route, n in api.stats()["requests"].items() if not route.startswith("GET ")}


def test_a_healthy_api_passes_every_check_and_keeps_nothing(api: Api) -> None:
    kept = api.post("/webhooks", {"endpoint": "https://ops.example.com/kept", "authType": "none"}).json()
    run = doctor(api.url)
    assert run.code == 0, run.out
    checks = run.checks()
    assert list(checks) == ALL_CHECKS
    assert {status for name, (status, _) in checks.items() if name != "rate limits"} == {"ok"}
    assert checks["settings"][1] == f"{api.url}, login as {USER}"
    assert checks["reachable"][1] == "HTTP 401; plain HTTP, no TLS"
    assert checks["credentials"][1] == "login accepted; its tokens live 1h 0m"
    assert checks["list shape"][1] == "a JSON list not paged; 1 webhook(s), ids in 'webhookId'"
    assert re.fullmatch(r"webhook \d+, id in 'webhookId'", checks["create"][1])
    assert checks["list lag"][1] == "the list showed the new webhook at once, within webhooks:listSettleSeconds (10 s)"
    assert checks["read by id"][1] == "fields as written, token masked as '********'"
    assert checks["update"][1] == "endpoint and isAlertHook changed, and read back so"
    assert re.fullmatch(
        r"ignored: the repeat made a second webhook \(\d+; both deleted\), so lost creates are looked for",
        checks["idempotency"][1],
    )
    assert checks["rate limits"] == ("info", "no rate-limit headers seen")
    assert run.out.splitlines()[-1] == "all checks passed"

    assert [h["webhookId"] for h in api.webhooks()] == [kept["webhookId"]], "the disposable webhooks are gone"
    assert writes(api) == {
        "POST /webhooks": 4,  # the kept one, the disposable one, and the idempotency check's two
        "POST /authtoken": 1,
        "PUT /webhooks/<id>": 1,
        "DELETE /webhooks/<id>": 3,
    }


def test_a_static_token_on_an_empty_account(api: Api) -> None:
    run = doctor(api.url, WEBHOOKS_API_TOKEN=STATIC_TOKEN)
    assert run.code == 0, run.out
    checks = run.checks()
    assert checks["settings"][1] == f"{api.url}, a static token"
    assert checks["credentials"] == ("ok", "static token accepted; not a JWT with an exp claim: its expiry is unknown")
    assert checks["list shape"] == ("ok", "a JSON list not paged, empty: no items to tell the id field")
    assert "POST /authtoken" not in writes(api)
    assert api.webhooks() == []


def test_a_static_jwt_reports_its_time_left(start_api: ApiFactory) -> None:
    api = start_api("--token-ttl", "600")
    jwt = requests.post(f"{api.url}/authtoken", json={"userName": USER, "password": PASSWORD}, timeout=10).json()
    run = doctor(api.url, "--read-only", secrets=(jwt["token"],), WEBHOOKS_API_TOKEN=jwt["token"])
    assert run.code == 0, run.out
    status, detail = run.checks()["credentials"]
    assert status == "ok"
    assert re.fullmatch(r"static token accepted; it expires in (9m \d+s|10m 0s) and is never renewed", detail)


def test_read_only_writes_nothing(api: Api) -> None:
    api.post("/webhooks", {"endpoint": "https://ops.example.com/kept", "authType": "bearer", "token": "t0ken-kept"})
    before, hooks = writes(api), api.webhooks()
    run = doctor(api.url, "--read-only")
    assert run.code == 0, run.out
    checks = run.checks()
    assert list(checks) == ["settings", "reachable", "credentials", "list shape", "round trip", "rate limits"]
    assert checks["round trip"] == ("skip", "--read-only: nothing written")
    assert writes(api) == {**before, "POST /authtoken": 1}, "a login, and otherwise only reads"
    assert api.webhooks() == hooks


def test_json_reports_every_check_and_the_result(api: Api) -> None:
    passed = doctor(api.url, "--json")
    assert passed.code == 0
    report = json.loads(passed.out)
    assert (report["apiUrl"], report["ok"], report["readOnly"]) == (api.url, True, False)
    assert [c["name"] for c in report["checks"]] == ALL_CHECKS
    for check in report["checks"]:
        assert set(check) == {"name", "status", "ms", "detail", "fix"}
        assert check["fix"] is None and check["status"] in ("ok", "info")
        assert isinstance(check["ms"], int) if check["status"] == "ok" else check["ms"] is None

    refused = doctor(api.url, "--json", "--read-only", WEBHOOKS_API_TOKEN="wrong-T0ken-json", secrets=("wrong-T0ken",))
    assert refused.code == 1
    report = json.loads(refused.out)
    assert (report["ok"], report["readOnly"]) == (False, True)
    [failed] = [c for c in report["checks"] if c["status"] == "fail"]
    assert failed["name"] == "credentials" and "WEBHOOKS_API_TOKEN" in failed["fix"]


def test_a_wrong_password_fails_credentials_with_the_hint(api: Api) -> None:
    run = doctor(
        api.url,
        WEBHOOKS_API_USERNAME=USER,
        WEBHOOKS_API_PASSWORD="wrong-Passw0rd-doc",
        secrets=("wrong-Passw0rd-doc",),
    )
    assert run.code == 1
    checks = run.checks()
    status, detail = checks["credentials"]
    assert status == "FAIL"
    assert "POST /authtoken: HTTP 401: Authentication failed  fix: The API refused the login of" in detail
    assert "WEBHOOKS_API_USERNAME" in detail and "WEBHOOKS_API_PASSWORD" in detail
    assert checks["list shape"] == checks["round trip"] == ("skip", "credentials failed")
    assert run.out.splitlines()[-1] == "1 check(s) failed: credentials"
    assert writes(api) == {"POST /authtoken": 1}


def test_a_wrong_token_fails_credentials_with_the_hint(api: Api) -> None:
    run = doctor(api.url, WEBHOOKS_API_TOKEN="wrong-T0ken-doc", secrets=("wrong-T0ken",))
    assert run.code == 1
    status, detail = run.checks()["credentials"]
    assert status == "FAIL"
    assert "GET /webhooks: HTTP 401: Invalid or expired token  fix: The API refused the token from" in detail
    assert "WEBHOOKS_API_TOKEN" in detail
    assert writes(api) == {}


def test_an_unreachable_url_names_it_and_its_setting() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    run = doctor(url)
    assert run.code == 1
    checks = run.checks()
    status, detail = checks["reachable"]
    assert status == "FAIL"
    assert f"no HTTP answer from {url}: " in detail and "Connection refused" in detail
    assert "fix: check webhooks:apiUrl (or WEBHOOKS_API_URL), and that the API is up" in detail
    assert [checks[name][0] for name in ("credentials", "list shape", "round trip")] == ["skip"] * 3

    billing = doctor(url, connection="billing", WEBHOOKS_BILLING_API_URL=url, WEBHOOKS_BILLING_API_TOKEN=STATIC_TOKEN)
    assert billing.code == 1
    assert billing.checks()["settings"] == ("ok", f"{url}, a static token")
    assert "fix: check webhooks:billing.apiUrl (or WEBHOOKS_BILLING_API_URL), and" in billing.checks()["reachable"][1]


def test_tls_to_a_plain_http_port_fails_with_the_fix(api: Api) -> None:
    url = api.url.replace("http://", "https://")
    run = doctor(url)
    assert run.code == 1
    status, detail = run.checks()["reachable"]
    assert status == "FAIL"
    assert detail.startswith(f"TLS failed at {url}: ")
    assert "REQUESTS_CA_BUNDLE" in detail


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An HTTPS server with a self-signed certificate for 127.0.0.1 that answers every GET `[]`."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )

    class EmptyList(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"[]")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), EmptyList)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"https://127.0.0.1:{server.server_address[1]}", cert
    server.shutdown()
    server.server_close()


def test_an_unknown_ca_fails_tls_until_requests_ca_bundle_names_it(tls_server: tuple[str, Path]) -> None:
    url, cert = tls_server
    refused = doctor(url, "--read-only", WEBHOOKS_API_TOKEN=STATIC_TOKEN)
    assert refused.code == 1
    status, detail = refused.checks()["reachable"]
    assert status == "FAIL" and "certificate verify failed" in detail and "REQUESTS_CA_BUNDLE" in detail

    trusted = doctor(url, "--read-only", WEBHOOKS_API_TOKEN=STATIC_TOKEN, REQUESTS_CA_BUNDLE=str(cert))
    assert trusted.code == 0, trusted.out
    assert trusted.checks()["reachable"] == ("ok", "HTTP 200; TLS ok, certificate verified")


@pytest.mark.slow
def test_random_5xx_are_retried_and_the_doctor_passes(start_api: ApiFactory) -> None:
    api = start_api("--fail-rate", "0.3", "--seed", "5")
    run = doctor(api.url)
    assert run.code == 0, run.out
    statuses = api.stats()["status"]
    assert sum(statuses.get(code, 0) for code in ("500", "502", "503", "504")) > 0, "the server did fail"
    assert api.webhooks() == []


@pytest.mark.slow
def test_rate_limiting_is_retried_and_its_retry_after_reported(start_api: ApiFactory) -> None:
    api = start_api("--rate-limit", "3")
    run = doctor(api.url)
    assert run.code == 0, run.out
    status, detail = run.checks()["rate limits"]
    refused = api.stats()["status"]["429"]
    assert status == "info"
    assert re.fullmatch(
        rf"Retry-After: 1; {refused} answer\(s\) 429, retried \(set webhooks:maxRequestsPerSecond "
        r"\(or WEBHOOKS_MAX_REQUESTS_PER_SECOND\) to the API's quota to spare them\)",
        detail,
    )
    assert api.webhooks() == []


@pytest.mark.parametrize(
    ("flags", "created"),
    [
        (["--create-without-id"], r"webhook \d+, no id in the answer: found by listing"),
        (["--id-field", "id"], r"webhook \d+, id in 'id'"),
    ],
)
def test_create_answers_the_client_copes_with(start_api: ApiFactory, flags: list[str], created: str) -> None:
    api = start_api(*flags)
    run = doctor(api.url)
    assert run.code == 0, run.out
    status, detail = run.checks()["create"]
    assert status == "ok" and re.fullmatch(created, detail)
    assert api.webhooks() == []


@pytest.mark.parametrize(
    ("route", "failing", "fix"),
    [
        ("GET /webhooks/<id>", "read by id", "`pulumi refresh` takes every webhook for deleted"),
        ("PUT /webhooks/<id>", "update", "without it every update fails"),
    ],
)
def test_a_missing_route_fails_its_step_and_leaves_nothing(
    start_api: ApiFactory, route: str, failing: str, fix: str
) -> None:
    api = start_api("--without-route", route)
    run = doctor(api.url)
    assert run.code == 1
    checks = run.checks()
    assert [name for name, (status, _) in checks.items() if status == "FAIL"] == [failing]
    method = route.split()[0]
    assert re.fullmatch(
        rf"{method} /webhooks/\d+ answered 404 for the webhook just created  fix: .*{re.escape(fix)}.*",
        checks[failing][1],
    )
    assert checks["delete"][0] == "ok" and "cleanup" not in checks
    assert api.webhooks() == []


def test_without_read_by_id_the_rest_of_the_round_trip_says_what_it_cannot_tell(start_api: ApiFactory) -> None:
    api = start_api("--without-route", "GET /webhooks/<id>")
    checks = doctor(api.url).checks()
    assert checks["update"] == ("ok", "accepted; not read back (read by id failed)")
    assert checks["gone"] == ("skip", "read by id failed, so a missing webhook cannot be told")


def test_without_delete_the_leftover_webhook_is_named(start_api: ApiFactory) -> None:
    api = start_api("--without-route", "DELETE /webhooks/<id>")
    run = doctor(api.url)
    [left] = api.webhooks()
    webhook_id = left["webhookId"]
    (_, token) = api.stored_secrets()[str(webhook_id)]
    assert token is not None and token.startswith("doctor-secret-"), "the disposable token, as stored"
    assert token not in run.out + run.err
    assert run.code == 1
    checks = run.checks()
    assert checks["delete"][0] == "FAIL" and "`pulumi destroy` takes them for gone" in checks["delete"][1]
    assert checks["gone"] == checks["idempotency"] == ("skip", "delete failed")
    assert checks["cleanup"] == (
        "FAIL",
        f"webhook {webhook_id} is left behind: the API still has it  fix: delete webhook {webhook_id} "
        f"(endpoint {left['endpoint']}) in the API by hand",
    )
    assert run.out.splitlines()[-1] == "2 check(s) failed: delete, cleanup"


def test_without_the_list_nothing_is_written(start_api: ApiFactory) -> None:
    api = start_api("--without-route", "GET /webhooks")
    run = doctor(api.url)
    assert run.code == 1
    checks = run.checks()
    assert checks["list shape"] == (
        "FAIL",
        "GET /webhooks: HTTP 404: Not found  fix: the provider needs GET /webhooks to answer a JSON list, "
        "or an object holding one; check webhooks:apiUrl (or WEBHOOKS_API_URL)",
    )
    assert checks["round trip"] == ("skip", "list shape failed")
    assert writes(api) == {"POST /authtoken": 1}


def test_a_failed_create_is_looked_for_and_nothing_is_left(start_api: ApiFactory) -> None:
    api = start_api("--without-route", "POST /webhooks")
    run = doctor(api.url)
    assert run.code == 1
    checks = run.checks()
    assert checks["create"][0] == "FAIL"
    assert checks["cleanup"] == ("ok", "none was made")
    assert api.webhooks() == []


STYLE_NAMES = {
    "link": ("Link headers (rel=next)", "per_page"),
    "cursor": ("a cursor in the body", "limit"),
    "next-url": ("a next-page URL in the body", "page_size"),
    "has-more": ("has-more with the last id", "limit"),
    "page": ("page numbers with a total", "pageSize"),
    "offset": ("offsets with a total", "limit"),
}


@pytest.mark.parametrize("style", list(STYLE_NAMES))
def test_the_list_s_paging_is_named_and_its_largest_page_asked(start_api: ApiFactory, style: str) -> None:
    api = start_api("--page-style", style, "--page-size", "3", "--page-max", "5")
    for i in range(11):
        api.post("/webhooks", {"endpoint": f"https://ops.example.com/{i}", "authType": "none"})
    run = doctor(api.url, "--read-only")
    assert run.code == 0, run.out
    name, size = STYLE_NAMES[style]
    shape = "a JSON list" if style == "link" else "an envelope"
    assert run.checks()["list shape"] == (
        "ok",
        f"{shape} paged by {name}: 3 pages of up to 5 (asked {size}=100); 11 webhook(s), ids in 'webhookId'",
    )


@pytest.mark.slow
def test_a_lagging_list_is_timed_and_a_settle_window_below_it_fails(start_api: ApiFactory) -> None:
    api = start_api("--page-style", "none", "--list-lag-seconds", "1.5")
    status, detail = doctor(api.url).checks()["list lag"]
    assert status == "ok"
    assert re.fullmatch(
        r"the list showed the new webhook after 1\.\d s, within webhooks:listSettleSeconds \(10 s\)", detail
    )
    short = doctor(
        api.url, WEBHOOKS_API_USERNAME=USER, WEBHOOKS_API_PASSWORD=PASSWORD, WEBHOOKS_LIST_SETTLE_SECONDS="1"
    )
    assert short.code == 1
    status, detail = short.checks()["list lag"]
    assert status == "FAIL"
    assert re.fullmatch(
        r"the list showed webhook \d+ 1\.\d s after its create  fix: set webhooks:listSettleSeconds "
        r"\(or WEBHOOKS_LIST_SETTLE_SECONDS\) to at least [34] \(now 1\)",
        detail,
    )
    assert api.webhooks() == []


def test_idempotency_keys_honoured_or_not_are_reported(start_api: ApiFactory) -> None:
    honouring = start_api("--idempotency-keys")
    run = doctor(honouring.url)
    assert run.code == 0, run.out
    assert run.checks()["idempotency"] == (
        "ok",
        "honoured: a repeat made nothing (set webhooks:idempotentCreates to true: lost creates are sent again at once)",
    )
    assert honouring.webhooks() == []

    ignoring = start_api()
    claimed = doctor(
        ignoring.url, WEBHOOKS_API_USERNAME=USER, WEBHOOKS_API_PASSWORD=PASSWORD, WEBHOOKS_IDEMPOTENT_CREATES="true"
    )
    assert claimed.code == 1
    status, detail = claimed.checks()["idempotency"]
    assert status == "FAIL" and "set webhooks:idempotentCreates (or WEBHOOKS_IDEMPOTENT_CREATES) to false" in detail
    assert ignoring.webhooks() == []

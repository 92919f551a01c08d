"""`pulumi-webhooks doctor`: does the API serve every route the provider relies on, as it expects?

One line per check: status, time, what was seen and, unless ok, the fix. API calls
go through the provider's own client, so a check passes only when the provider's
code path works. The round trip writes one disposable webhook (its endpoint under
`.invalid`, which never resolves) and deletes it, even when a step fails.
"""

from __future__ import annotations

import math
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests

from .. import errors
from ..api.auth import jwt_claims, lifetime_seconds
from ..api.client import WebhooksClient
from ..api.config import client_settings, setting
from ..api.creates import OutcomeUnknown
from ..api.listing import items_of
from ..api.redact import Redactor
from ..api.transport import root_cause
from ..model.live import ID_KEYS, SECRETS, LiveWebhook
from ..model.spec import MASK, parse

if TYPE_CHECKING:
    from .stack import Stack

RATE_HEADERS = ("retry-after", "x-ratelimit-", "ratelimit-")
LONGEST_LAG_SECONDS = 60.0
LAG_POLL_SECONDS = 0.25
ROUTE_USES = {
    "GET": "reads webhooks with GET /webhooks/{id}: without it `pulumi refresh` takes every webhook for deleted",
    "PUT": "changes webhooks with PUT /webhooks/{id}: without it every update fails",
    "DELETE": "deletes webhooks with DELETE /webhooks/{id}: without it `pulumi destroy` takes them for gone "
    "and leaves them in the API",
}


@dataclass
class Check:
    name: str
    status: str  # ok, fail, skip, or info (never a failure)
    ms: int | None
    detail: str
    fix: str | None = None

    def line(self) -> str:
        took = "-" if self.ms is None else f"{self.ms} ms"
        text = f"{'FAIL' if self.status == 'fail' else self.status:<5} {self.name:<12} {took:>8}  {self.detail}"
        return f"{text}  fix: {self.fix}" if self.fix else text


@dataclass
class Report:
    api_url: str | None
    read_only: bool
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check.status != "fail" for check in self.checks)

    def lines(self) -> list[str]:
        failed = [check.name for check in self.checks if check.status == "fail"]
        summary = f"{len(failed)} check(s) failed: {', '.join(failed)}" if failed else "all checks passed"
        return [check.line() for check in self.checks] + [summary]

    def as_json(self) -> dict[str, Any]:
        checks = [asdict(check) for check in self.checks]
        return {"apiUrl": self.api_url, "ok": self.ok, "readOnly": self.read_only, "checks": checks}


class Failed(errors.WebhooksError):
    """A check that did not pass: what was seen, and how to fix it."""

    def __init__(self, detail: str, fix: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.fix = fix


def diagnose(connection: str | None, read_only: bool, stack: Stack | None = None) -> Report:
    """The checks, in order; with `stack`, settings come from its config first, as the provider's do."""
    doctor = _Doctor(connection, Report(None, read_only), stack)
    steps = {
        "settings": doctor.settings,
        "reachable": doctor.reachable,
        "credentials": doctor.credentials,
        "list shape": doctor.list_shape,
    }
    # `list lag` and `idempotency` run inside the round trip, on its disposable webhooks.
    names = list(steps)
    failed = next((name for name in names if not doctor.run(name, steps[name])), None)
    if failed is not None:
        doctor.skip([*names[names.index(failed) + 1 :], "round trip"], f"{failed} failed")
    elif read_only:
        doctor.skip(["round trip"], "--read-only: nothing written")
    else:
        doctor.round_trip()
    doctor.rate_limits()
    return doctor.report


class _Doctor:
    def __init__(self, connection: str | None, report: Report, stack: Stack | None) -> None:
        self.connection = connection
        self.stack = stack
        self.report = report
        self.client: WebhooksClient
        self.answers: list[requests.Response] = []  # every HTTP answer seen, oldest first
        # A recognisable token, so that a leak is easy to find in any output or log.
        self.token = f"doctor-secret-{secrets.token_urlsafe(12)}"
        self.redact = Redactor([self.token])
        endpoint = f"https://doctor.invalid/pulumi-webhooks/{secrets.token_hex(6)}"
        self.written = {"endpoint": endpoint, "authType": "bearer", "token": self.token, "isAlertHook": True}
        self.ours = endpoint  # unique to this run: every endpoint the round trip writes starts so
        self.hook_id = ""
        self.leftover = False  # the disposable webhook may still exist
        self.strays = False  # the idempotency check's may

    def run(self, name: str, step: Callable[[], str]) -> bool:
        started = time.monotonic()
        try:
            status, detail, fix = "ok", step(), None
        except Failed as failure:
            status, detail, fix = "fail", failure.detail, failure.fix
        except errors.ApiError as error:
            status, detail, fix = "fail", _described(error), error.hint or None
        except errors.WebhooksError as error:  # its message says what to do
            status, detail, fix = "fail", str(error), None
        ms = round((time.monotonic() - started) * 1000)
        self.report.checks.append(Check(name, status, ms, self.redact(detail), fix and self.redact(fix)))
        return status == "ok"

    def skip(self, names: list[str], reason: str) -> None:
        self.report.checks.extend(Check(name, "skip", None, reason) for name in names)

    def answers_to(self, method: str, path_end: str, since: int = 0) -> list[Any]:
        """The JSON of each answer to `method` on a path (its query aside) ending in `path_end`, oldest first,
        among those heard after the first `since`."""
        found = []
        for answer in self.answers[since:]:
            sent = answer.request  # None for an answer the retries consumed
            if sent is not None and sent.method == method and urlsplit(sent.path_url or "").path.endswith(path_end):
                try:
                    found.append(answer.json())
                except ValueError:
                    found.append(None)
        return found

    def answer_to(self, method: str, path_end: str) -> Any:
        """The JSON of the latest answer to `method` on a path ending in `path_end`, if any."""
        answers = self.answers_to(method, path_end)
        return answers[-1] if answers else None

    def settings(self) -> str:
        try:
            config = self.stack.config() if self.stack else lambda _key: None
            settings = client_settings(config, os.environ, self.connection)
        except errors.ConfigError as error:
            where = "the stack config keys or variables" if self.stack else "the variables (or use --stack)"
            raise Failed(str(error), f"set {where} it names") from None
        self.redact.add(settings.api_token, settings.password)
        self.report.api_url = settings.api_url
        self.client = WebhooksClient(settings, on_response=self.answers.append)
        return f"{settings.api_url}, " + ("a static token" if settings.api_token else f"login as {settings.user_name}")

    def reachable(self) -> str:
        s = self.client.settings
        try:  # without credentials: whether HTTP, and TLS, work at all
            answer = requests.get(s.api_url, timeout=(s.connect_timeout, s.read_timeout), allow_redirects=False)
        except requests.exceptions.SSLError as error:
            raise Failed(
                f"TLS failed at {s.api_url}: {root_cause(error)}",
                "if a private CA signed the API's certificate, set REQUESTS_CA_BUNDLE to that CA's bundle (PEM); "
                "otherwise check that the URL's host and port are the API's HTTPS ones",
            ) from None
        except requests.RequestException as error:
            url = setting("apiUrl", self.connection)
            fix = f"check {url}, and that the API is up"
            raise Failed(f"no HTTP answer from {s.api_url}: {root_cause(error)}", fix) from None
        self.answers.append(answer)
        tls = "TLS ok, certificate verified" if s.api_url.lower().startswith("https:") else "plain HTTP, no TLS"
        return f"HTTP {answer.status_code}; {tls}"

    def credentials(self) -> str:
        try:
            self.client.listing()
        except errors.ApiError as error:
            # Any other answer to a sent token (a 404, say) means it passed: list shape tells the rest.
            if isinstance(error, errors.Unauthorized) or error.path == "/authtoken" or (error.status or 500) >= 500:
                raise
        if token := self.client.settings.api_token:
            return f"static token accepted; {_expiry(token)}"
        login = self.answer_to("POST", "/authtoken")  # the client took it: a JSON object with a token
        self.redact.add(login["token"])
        return f"login accepted; its tokens live {_duration(lifetime_seconds(login))}"

    def list_shape(self) -> str:
        heard = len(self.answers)
        try:
            listing = self.client.listing()
        except errors.IncompleteListing:
            raise  # its message says what the list does, and its hint what to set
        except errors.ApiError as error:
            if error.status not in (200, 404):  # a usable route that failed: the client's hint says more
                raise
            url = setting("apiUrl", self.connection)
            fix = f"the provider needs GET /webhooks to answer a JSON list, or an object holding one; check {url}"
            raise Failed(_described(error), fix) from None
        pages = self.answers_to("GET", "/webhooks", since=heard)
        items = [item for page in pages for item in items_of(page)]
        shape = "an envelope" if isinstance(pages[-1], dict) else "a JSON list"
        paged = f"{shape} {listing.describe()}"
        if not items:
            return f"{paged}, empty: no items to tell the id field"
        found = {next((repr(k) for k in ID_KEYS if item.get(k) not in (None, "")), "") for item in items}
        if "" in found:
            fix = "the provider finds listed webhooks by id: ask the API's owner which field holds it"
            raise Failed(f"{shape}, but not every item has an id ({', '.join(ID_KEYS)})", fix)
        hint = ""
        if listing.pages == 1 and listing.style == "none" and len(items) >= 10:
            hint = (f"; if the account holds more than {len(items)} webhooks, the API cuts its list without saying "
                    "so: set webhooks:listPaging")  # fmt: skip
        return f"{paged}; {len(listing.hooks)} webhook(s), ids in {', '.join(sorted(found))}{hint}"

    def round_trip(self) -> None:
        try:
            if not self.run("create", self.create):
                self.skip(["list lag", "read by id", "update", "delete", "gone", "idempotency"], "create failed")
                return
            self.run("list lag", self.list_lag)
            readable = self.run("read by id", self.read)
            self.run("update", lambda: self.update(readable))
            if not self.run("delete", self.delete):
                self.skip(["gone", "idempotency"], "delete failed")  # it makes two more webhooks to delete
                return
            if not readable:
                self.skip(["gone"], "read by id failed, so a missing webhook cannot be told")
            else:
                self.run("gone", self.gone)
            self.run("idempotency", self.idempotency)
        finally:
            if self.leftover or self.strays:
                self.run("cleanup", self.cleanup)

    def create(self) -> str:
        self.leftover = True  # a create that fails may still have made it: cleanup looks
        self.hook_id = self.client.create(parse(self.written))
        answer = self.answer_to("POST", "/webhooks")
        key = next((k for k in ID_KEYS if isinstance(answer, dict) and k in answer), None)
        return f"webhook {self.hook_id}, " + (f"id in {key!r}" if key else "no id in the answer: found by listing")

    def list_lag(self) -> str:
        """How long the new webhook takes to show in the list: what webhooks:listSettleSeconds must cover."""
        settle = self.client.settings.list_settle_seconds
        created = time.monotonic()
        deadline = created + max(LONGEST_LAG_SECONDS, 2 * settle)
        while self.hook_id not in {hook.id for hook in self.client.listing().hooks}:
            if time.monotonic() > deadline:
                raise Failed(
                    f"the list did not show webhook {self.hook_id} within {deadline - created:.0f} s of its create",
                    "a list that lags longer than webhooks:listSettleSeconds defeats the lost-create guard: ask the "
                    "API's owner how long its list lags, and set webhooks:listSettleSeconds above it",
                )
            time.sleep(LAG_POLL_SECONDS)
        lag = time.monotonic() - created
        key = setting("listSettleSeconds", self.connection)
        if lag > settle:
            raise Failed(f"the list showed webhook {self.hook_id} {lag:.1f} s after its create",
                         f"set {key} to at least {math.ceil(2 * lag)} (now {settle:g})")  # fmt: skip
        within = f"within {key.key} ({settle:g} s)"
        if lag < LAG_POLL_SECONDS:
            return f"the list showed the new webhook at once, {within}"
        return f"the list showed the new webhook after {lag:.1f} s, {within}"

    def idempotency(self) -> str:
        """Whether the API honours Idempotency-Key: the same create sent twice with one key makes one webhook."""
        key = f"doctor-{secrets.token_hex(8)}"
        body = parse({**self.written, "endpoint": f"{self.ours}/idempotency"})
        setting_key = setting("idempotentCreates", self.connection)
        self.strays = True  # until deleted here: cleanup finds what these creates made by their endpoint
        try:
            first, second = self.client.post_create(body, key), self.client.post_create(body, key)
        except OutcomeUnknown as unknown:
            return f"cannot tell: a create's answer was lost ({unknown}); whatever it made is deleted at the end"
        if first is None or second is None:
            return "cannot tell: a create answers without an id; what it made is deleted at the end"
        for webhook_id in sorted({first, second}):
            self.client.delete(webhook_id)
        self.strays = False
        if first == second:
            return (
                f"honoured: a repeat made nothing (set {setting_key.key} to true: lost creates are sent again at once)"
            )
        if self.client.settings.idempotent_creates:
            raise Failed(
                f"ignored: the repeat made a second webhook ({second}; both deleted)",
                f"set {setting_key} to false: with it true, a lost create sent again makes a duplicate",
            )
        return f"ignored: the repeat made a second webhook ({second}; both deleted), so lost creates are looked for"

    def read(self) -> str:
        live = self._read()
        raw = self.answer_to("GET", f"/webhooks/{self.hook_id}")
        shown = raw.get("token") if isinstance(raw, dict) else None
        if shown == self.token:
            raise Failed("the API answered the webhook's token in clear", "tell the API's owner: reads must mask it")
        _compare(live, self.written)
        return f"fields as written, token masked as {MASK!r}" if shown == MASK else "fields as written, token hidden"

    def update(self, readable: bool) -> str:
        changed = {**self.written, "endpoint": f"{self.written['endpoint']}/changed", "isAlertHook": False}
        try:
            self.client.update(self.hook_id, parse(changed))
        except errors.NotFound:
            raise self._missing("PUT") from None
        self.written = changed
        if not readable:
            return "accepted; not read back (read by id failed)"
        _compare(self._read(), changed)
        return "endpoint and isAlertHook changed, and read back so"

    def delete(self) -> str:
        if not self.client.delete(self.hook_id):
            raise self._missing("DELETE")
        self.leftover = False
        return "accepted"

    def gone(self) -> str:
        if self.client.get(self.hook_id) is not None:
            self.leftover = True
            raise Failed("it still reads back after its delete", "tell the API's owner: a delete must remove it")
        return "reads as missing, as the provider expects"

    def cleanup(self) -> str:
        """Deletes the disposable webhook: by id, or when the create's outcome is unknown, by its endpoint."""
        what = f"webhook {self.hook_id}" if self.hook_id else "the disposable webhook"
        by_hand = f"delete {what} (endpoint {self.written['endpoint']}) in the API by hand"
        try:
            ids = [self.hook_id] if self.hook_id and self.leftover else []
            ids += [h.id for h in self.client.listing().hooks if self._ours(h) and h.id not in ids]
            for hook in ids:
                self.client.delete(hook)
            left = [webhook_id for webhook_id in ids if self.client.get(webhook_id) is not None]
        except errors.ApiError as error:
            raise Failed(f"{what} may be left behind: {_described(error)}", by_hand) from None
        if left:
            listed = ", ".join(left)
            by_hand = f"delete webhook {listed} (endpoint {self.written['endpoint']}) in the API by hand"
            raise Failed(f"webhook {listed} is left behind: the API still has it", by_hand)
        return f"deleted webhook {', '.join(ids)}, which the failed steps left behind" if ids else "none was made"

    def _ours(self, hook: LiveWebhook) -> bool:
        return hook.endpoint.startswith(self.ours)

    def rate_limits(self) -> None:
        seen = {k: v for a in self.answers for k, v in a.headers.items() if k.lower().startswith(RATE_HEADERS)}
        refused = sum(answer.status_code == 429 for answer in self.answers)
        detail = "; ".join(f"{k}: {v}" for k, v in sorted(seen.items())) or "no rate-limit headers seen"
        if refused:
            quota = setting("maxRequestsPerSecond", self.connection)
            detail += f"; {refused} answer(s) 429, retried (set {quota} to the API's quota to spare them)"
        self.report.checks.append(Check("rate limits", "info", None, detail))

    def _read(self) -> LiveWebhook:
        live = self.client.get(self.hook_id)
        if live is None:
            raise self._missing("GET")
        return live

    def _missing(self, method: str) -> Failed:
        return Failed(
            f"{method} /webhooks/{self.hook_id} answered 404 for the webhook just created",
            f"the provider {ROUTE_USES[method]}; ask the API's owner about the route",
        )


def _compare(live: LiveWebhook, written: dict[str, Any]) -> None:
    expected = LiveWebhook.of(live.id, written)
    wrong = [f"{k} is {live.fields[k]!r}, not {v!r}" for k, v in expected.fields.items() if live.fields[k] != v]
    wrong += [
        f"{k} reads as {'set' if k in live.secrets_set else 'not set'}"
        for k in SECRETS
        if (k in live.secrets_set) != (k in expected.secrets_set)
    ]
    if wrong:
        raise Failed(
            f"reads back otherwise: {'; '.join(wrong)}", "tell the API's owner: a read must show what was written"
        )


def _described(error: errors.ApiError) -> str:
    status = "no response" if error.status is None else f"HTTP {error.status}"
    return f"{error.method} {error.path}: {status}: {error.message}"


def _expiry(token: str) -> str:
    """When a JWT expires, from its `exp` claim read without verifying it (and never shown)."""
    exp = jwt_claims(token).get("exp")
    if not isinstance(exp, (int, float)) or isinstance(exp, bool):
        return "not a JWT with an exp claim: its expiry is unknown"
    left = exp - time.time()
    if not math.isfinite(left):
        return "its exp claim is not a time: its expiry is unknown"
    return (
        f"it expires in {_duration(left)} and is never renewed"
        if left > 0
        else f"its exp passed {_duration(-left)} ago"
    )


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "an unknown time"
    minutes, second = divmod(round(seconds), 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours}h {minute}m" if hours else f"{minute}m {second}s" if minute else f"{second}s"

"""HTTP client of the webhooks API: auth, timeouts, retries, error mapping, redaction.

It knows nothing of Pulumi. One client serves every thread of a provider
process; each thread gets its own lazily created `requests.Session`.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import requests
import urllib3
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.response import BaseHTTPResponse

from . import errors
from .auth import TokenSource
from .ratelimit import TokenBucket
from .redact import Redactor
from .retry import api_retry
from .spec import WebhookSpec

log = logging.getLogger("pulumi_webhooks.client")

ID_KEYS = ("webhookId", "id", "_id", "hookId")
# The fields a listed webhook can be matched on; secrets come back masked.
MATCH_KEYS = ("endpoint", "authType", "isAlertHook", "userName")
CREATE_ATTEMPTS = 5
NOT_FOUND_HINT = "The webhook no longer exists in the API; run `pulumi refresh` to drop it from the stack's state"
FORBIDDEN_HINT = "The API account in use may not do this: check its permissions with the API's owner"
# How long a create of unknown outcome is looked for before it is sent again.
SETTLE_SECONDS = 2.0

ResponseHook = Callable[[requests.Response], None]
"""Sees every HTTP answer of the API; one that was retried (429, 5xx) comes with status and headers, no body."""


@dataclass(frozen=True)
class ClientSettings:
    """Where the API is and how to authenticate. `credential_hint` tells a user what to fix on 401."""

    api_url: str
    api_token: str | None = field(default=None, repr=False)
    user_name: str | None = None
    password: str | None = field(default=None, repr=False)
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    max_retries: int = 5
    max_retry_seconds: float = 120.0
    backoff_factor: float = 0.5
    max_requests_per_second: float | None = None
    credential_hint: str = "check the API credentials"
    # False: refuse to create a webhook whose exact look-alike already exists (an interrupted
    # run's orphan, most likely) rather than duplicate it.
    create_look_alikes: bool = False


class WebhooksClient:
    def __init__(self, settings: ClientSettings, on_response: ResponseHook | None = None) -> None:
        self.settings = settings
        self._on_response = on_response
        self._base = settings.api_url.rstrip("/")
        self._redact = Redactor([settings.api_token, settings.password])
        self._local = threading.local()
        rate = settings.max_requests_per_second
        self._bucket = TokenBucket(rate) if rate else None
        if settings.api_token:
            self._tokens = TokenSource(static_token=settings.api_token)
        else:
            self._tokens = TokenSource(login=self._login)
        # Webhooks that existed before this client's first create, by id, and ids it
        # created since: neither may be adopted as the result of an ambiguous create.
        self._baseline_hooks: dict[str, dict[str, Any]] | None = None
        self._owned_ids: set[str] = set()
        self._state_lock = threading.Lock()
        self._baseline_lock = threading.Lock()
        self._create_locks: dict[tuple[Any, ...], threading.Lock] = {}
        self._refused: errors.Unauthorized | None = None  # the API's answer to these credentials

    @property
    def logins(self) -> int:
        """How many times this client fetched a token at /authtoken."""
        return self._tokens.logins

    # -- webhook operations -------------------------------------------------

    def create(self, spec: WebhookSpec) -> str:
        """Create the webhook and return its id; never leaves a duplicate behind."""
        body = spec.to_api()
        secrets = (spec.password, spec.token)
        with self._create_lock(body):
            baseline = self._baseline()
            look_alikes = sorted((i for i, item in baseline.items() if looks_like(item, body)), key=_id_order)
            if look_alikes and not self.settings.create_look_alikes:
                raise errors.LookAlikeExists(look_alikes)
            for attempt in range(1, CREATE_ATTEMPTS + 1):
                try:
                    response = self._send("POST", "/webhooks", body, secrets)
                except errors.Unreachable as failure:
                    outcome: str = f"no response: {failure.message}"
                else:
                    if response.status_code < 500:
                        payload = self._payload("POST", "/webhooks", response, secrets)
                        webhook_id = _extract_id(payload)
                        if webhook_id is None:
                            webhook_id = self._find_created(body, baseline)
                        if webhook_id is None:
                            raise _created_without_trace()
                        return self._own(webhook_id)
                    outcome = f"HTTP {response.status_code}"
                # The create may have committed, or may still commit (a gateway's 504
                # while the backend works on): look, for a while, before sending again.
                log.info("create outcome unknown (%s); looking for the webhook before retrying", outcome)
                found = self._settle(body, baseline)
                if found is not None:
                    return self._own(found)
                if attempt < CREATE_ATTEMPTS:
                    time.sleep(random.uniform(0.2, 0.5) * 2**attempt)
            raise errors.ServerError(
                "POST",
                "/webhooks",
                None,
                f"the create failed {CREATE_ATTEMPTS} times ({outcome})",
                "No matching webhook was listed after the last attempt; run the deployment again",
            )

    def get(self, webhook_id: str) -> dict[str, Any] | None:
        """The webhook as the API reads it (secrets masked), or None when it is gone."""
        path = _webhook_path(webhook_id)
        try:
            payload = self._payload("GET", path, self._send("GET", path))
        except errors.NotFound:
            return None
        if not isinstance(payload, dict):
            raise errors.ServerError("GET", path, 200, "the answer is not a JSON object")
        return payload

    def list(self) -> list[dict[str, Any]]:
        payload = self._payload("GET", "/webhooks", self._send("GET", "/webhooks"))
        if isinstance(payload, dict):  # tolerate an envelope such as {"webhooks": [...]}
            payload = next((v for v in payload.values() if isinstance(v, list)), None)
        if not isinstance(payload, list):
            raise errors.ServerError("GET", "/webhooks", 200, "the answer is not a JSON list")
        return [item for item in payload if isinstance(item, dict)]

    def update(self, webhook_id: str, spec: WebhookSpec) -> None:
        path = _webhook_path(webhook_id)
        secrets = (spec.password, spec.token)
        body = spec.to_api()
        try:
            self._payload("PUT", path, self._send("PUT", path, body, secrets), secrets)
        except errors.ValidationFailed as failure:
            # The API answers 400 both for a bad body and for a missing webhook.
            if self.get(webhook_id) is None:
                raise errors.NotFound("PUT", path, failure.status, failure.message, NOT_FOUND_HINT) from None
            raise
        with self._baseline_lock:
            if self._baseline_hooks is not None and str(webhook_id) in self._baseline_hooks:
                self._baseline_hooks[str(webhook_id)] = body  # it now looks like this

    def delete(self, webhook_id: str) -> bool:
        """Delete the webhook; False if it was already gone."""
        path = _webhook_path(webhook_id)
        try:
            self._payload("DELETE", path, self._send("DELETE", path))
            existed = True
        except errors.NotFound:
            existed = False
        with self._baseline_lock:
            if self._baseline_hooks is not None:
                self._baseline_hooks.pop(str(webhook_id), None)  # gone: no longer a look-alike
        return existed

    # -- ambiguous creates --------------------------------------------------

    @contextmanager
    def _create_lock(self, body: dict[str, Any]) -> Iterator[None]:
        """Serialises creates of look-alike webhooks, so one never adopts another's result."""
        key = tuple(body.get(k) for k in MATCH_KEYS)
        with self._state_lock:
            lock = self._create_locks.setdefault(key, threading.Lock())
        with lock:
            yield

    def _baseline(self) -> dict[str, dict[str, Any]]:
        """A copy: updates and deletes of other threads change the original."""
        with self._baseline_lock:
            if self._baseline_hooks is None:
                self._baseline_hooks = {i: item for item in self.list() if (i := _extract_id(item)) is not None}
            return dict(self._baseline_hooks)

    def _own(self, webhook_id: str) -> str:
        with self._state_lock:
            self._owned_ids.add(webhook_id)
        return webhook_id

    def _settle(self, body: dict[str, Any], baseline: Iterable[str]) -> str | None:
        """After an unknown outcome: the created webhook, looked for over `SETTLE_SECONDS`.

        If the API cannot even be listed, nobody can tell whether the webhook
        exists: that is an error that says how to find out, never a blind retry.
        """
        deadline = time.monotonic() + SETTLE_SECONDS
        delay = 0.25
        while True:
            try:
                found = self._find_created(body, baseline)
            except (errors.Unreachable, errors.ServerError, errors.RateLimited) as failure:
                raise errors.AmbiguousCreate(
                    "POST",
                    "/webhooks",
                    None,
                    f"the create's outcome is unknown and the webhooks cannot be listed ({failure.message})",
                    "A webhook may have been created: check `python -m pulumi_webhooks list` and take it "
                    "over with adopt_id, or delete it, before running the deployment again",
                ) from None
            if found is not None or time.monotonic() + delay > deadline:
                return found
            time.sleep(delay)
            delay *= 2

    def _find_created(self, body: dict[str, Any], baseline: Iterable[str]) -> str | None:
        """The id of the webhook this create made, found by listing and matching; None if none is listed."""
        with self._state_lock:
            taken = set(baseline) | self._owned_ids
        candidates = [
            webhook_id
            for item in self.list()
            if (webhook_id := _extract_id(item)) is not None and webhook_id not in taken and looks_like(item, body)
        ]
        if len(candidates) == 1:
            return candidates[0]
        if len(candidates) > 1:
            raise errors.AmbiguousCreate(
                "POST",
                "/webhooks",
                None,
                f"webhooks {', '.join(candidates)} all match the one being created",
                "Nothing more was created. Delete the extra copies in the API, then run the deployment again",
            )
        return None

    # -- HTTP ---------------------------------------------------------------

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            s = self.settings
            session = requests.Session()
            retried = self._retried if self._on_response else None
            session.mount(self._base + "/", HTTPAdapter(max_retries=api_retry(s, self._bucket, on_retried=retried)))
            session.mount(
                self._base + "/authtoken",
                HTTPAdapter(max_retries=api_retry(s, self._bucket, retry_post_on_any_status=True, on_retried=retried)),
            )
            session.headers["Accept"] = "application/json"
            self._local.session = session
        return session

    def _http(
        self, method: str, path: str, body: Any, headers: dict[str, str], secrets: Iterable[str | None]
    ) -> requests.Response:
        """One request with its urllib3 retries; transport failures become `Unreachable`."""
        if self._bucket is not None:
            self._bucket.acquire()
        started = time.monotonic()
        try:
            response = self._session().request(
                method,
                self._base + path,
                json=body,
                headers=headers,
                timeout=(self.settings.connect_timeout, self.settings.read_timeout),
                allow_redirects=False,
            )
        except requests.RequestException as failure:
            if not _timed_out(failure):
                raise errors.Unreachable(
                    method,
                    path,
                    None,
                    self._redact(f"could not reach the API at {self._base}: {root_cause(failure)}", secrets),
                    "Check webhooks:apiUrl / WEBHOOKS_API_URL and that the API is up",
                ) from None
            s = self.settings
            raise errors.Unreachable(
                method,
                path,
                None,
                f"timed out (connect {s.connect_timeout:g}s, read {s.read_timeout:g}s) "
                f"waiting for the API at {self._base}",
                "The API is slow or down; try again later, or raise webhooks:timeoutSeconds",
            ) from None
        if self._on_response is not None:
            self._on_response(response)
        if log.isEnabledFor(logging.DEBUG):  # redaction is not free: only when someone listens
            elapsed_ms = (time.monotonic() - started) * 1000
            log.debug("%s %s -> %s in %.0f ms", method, self._redact(path), response.status_code, elapsed_ms)
        return response

    def _retried(self, answer: BaseHTTPResponse) -> None:
        """An answer urllib3 retried, and so never handed to requests, shown to `on_response`."""
        assert self._on_response is not None
        response = requests.Response()
        response.status_code = answer.status
        response.headers = CaseInsensitiveDict(answer.headers)
        response.reason = answer.reason or ""
        self._on_response(response)

    def _send(self, method: str, path: str, body: Any = None, secrets: Iterable[str | None] = ()) -> requests.Response:
        """An authenticated request; a 401 renews a fetched token once and retries.

        Once the API has refused the credentials themselves (the login, or a fresh
        or static token), every later call fails at once with the same message:
        a deployment of hundreds of hooks asks the API once, not once per hook.
        """
        if self._refused is not None:
            raise self._refused.repeated()
        token = self._tokens.current()
        response = self._http(method, path, body, {"Authorization": f"Bearer {token}"}, secrets)
        if response.status_code == 401 and self._tokens.renewable:
            log.info("the API refused the token; renewing it once")
            self._tokens.invalidate(token)
            token = self._tokens.current()
            response = self._http(method, path, body, {"Authorization": f"Bearer {token}"}, secrets)
        if response.status_code == 401:
            message = self._server_message(response, secrets)
            raise self._refuse(errors.Unauthorized(method, path, 401, message, self.settings.credential_hint))
        return response

    def _refuse(self, refused: errors.Unauthorized) -> errors.Unauthorized:
        """Remembers the first refusal of these credentials; later calls repeat it without asking."""
        with self._state_lock:
            if self._refused is None:
                self._refused = refused
        return refused

    def _login(self) -> dict[str, Any]:
        if self._refused is not None:  # logins run one at a time: only the first is sent
            raise self._refused.repeated()
        credentials = {"userName": self.settings.user_name, "password": self.settings.password}
        response = self._http("POST", "/authtoken", credentials, {}, ())
        if response.status_code in (400, 401, 403, 404):
            message = self._server_message(response, ())
            raise self._refuse(
                errors.Unauthorized("POST", "/authtoken", response.status_code, message, self.settings.credential_hint)
            )
        payload = self._payload("POST", "/authtoken", response)
        if not isinstance(payload, dict):
            raise errors.ServerError("POST", "/authtoken", response.status_code, "the answer is not a JSON object")
        self._redact.add(payload.get("token") if isinstance(payload.get("token"), str) else None)
        return payload

    def _payload(self, method: str, path: str, response: requests.Response, secrets: Iterable[str | None] = ()) -> Any:
        """The JSON of a successful answer (None when empty); a typed error otherwise."""
        status = response.status_code
        if 200 <= status < 300:
            if not response.content:
                return None
            try:
                return response.json()
            except ValueError:
                return None
        message = self._server_message(response, secrets)
        if status == 404:
            raise errors.NotFound(method, path, status, message, NOT_FOUND_HINT)
        if status == 401:
            raise errors.Unauthorized(method, path, status, message, self.settings.credential_hint)
        if status == 403:
            raise errors.Unauthorized(method, path, status, message, FORBIDDEN_HINT)
        if status == 429:
            raise errors.RateLimited(
                method,
                path,
                status,
                message,
                "The API kept rate-limiting after every retry; lower the deployment's parallelism or try later",
            )
        if status in (400, 409, 413, 422):
            raise errors.ValidationFailed(method, path, status, message)
        if status >= 500:
            raise errors.ServerError(method, path, status, message, "The API failed; try again later")
        raise errors.ApiError(method, path, status, message)

    def _server_message(self, response: requests.Response, secrets: Iterable[str | None]) -> str:
        """The server's own words: a JSON message, other JSON, plain text or the reason phrase."""
        text = response.text.strip()
        try:
            payload = json.loads(text) if text else None
        except ValueError:
            payload = None
        if isinstance(payload, dict) and isinstance(payload.get("message"), str):
            message = payload["message"]
        elif payload is not None:
            message = json.dumps(payload, sort_keys=True)
        else:
            message = text or response.reason or "no message"
        # Redact before shortening: a secret cut in half would no longer be recognised.
        return self._redact(message, secrets)[:500]


def _created_without_trace() -> errors.AmbiguousCreate:
    return errors.AmbiguousCreate(
        "POST",
        "/webhooks",
        None,
        "the API reported the webhook created but returned no id, and no new matching webhook is listed",
        "Check the API's webhook list, then run `pulumi refresh` and the deployment again",
    )


def _extract_id(payload: Any) -> str | None:
    if not isinstance(payload, dict):
        return None
    for key in ID_KEYS:
        value = payload.get(key)
        if isinstance(value, (int, str)) and not isinstance(value, bool) and str(value):
            return str(value)
    return None


def _id_order(webhook_id: str) -> tuple[int, str]:
    """Numeric ids in numeric order, others after them."""
    return (int(webhook_id), "") if webhook_id.isdigit() else (1 << 62, webhook_id)


def looks_like(item: dict[str, Any], body: dict[str, Any]) -> bool:
    """Whether a listed (masked) webhook could be the one `body` created."""
    if bool(item.get("isAlertHook")) != bool(body.get("isAlertHook")):
        return False
    if any((item.get(key) or None) != (body.get(key) or None) for key in ("endpoint", "authType", "userName")):
        return False
    # Secrets are masked, but whether one is set still shows.
    return all(bool(item.get(key)) == bool(body.get(key)) for key in ("password", "token"))


def _webhook_path(webhook_id: str) -> str:
    return "/webhooks/" + quote(str(webhook_id), safe="")


def _causes(failure: BaseException) -> Iterator[BaseException]:
    """The chain of a requests/urllib3 failure, outermost first."""
    cause: BaseException | None = failure
    seen: set[int] = set()
    while isinstance(cause, BaseException) and id(cause) not in seen:
        seen.add(id(cause))
        yield cause
        reason = getattr(cause, "reason", None)
        args_cause = next((a for a in cause.args if isinstance(a, BaseException)), None)
        cause = reason if isinstance(reason, BaseException) else args_cause or cause.__cause__ or cause.__context__


def root_cause(failure: BaseException) -> str:
    """The innermost reason of a failure, without the long wrappers."""
    *_, cause = _causes(failure)
    return str(cause) or type(cause).__name__


def _timed_out(failure: BaseException) -> bool:
    # urllib3's NewConnectionError (a refusal) subclasses its ConnectTimeoutError.
    return any(
        isinstance(c, (requests.Timeout, urllib3.exceptions.TimeoutError, TimeoutError))
        and not isinstance(c, urllib3.exceptions.NewConnectionError)
        for c in _causes(failure)
    )

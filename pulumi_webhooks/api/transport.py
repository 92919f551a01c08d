"""The API's transport: sessions, auth, timeouts, retries, error mapping and redaction.

It knows nothing of webhooks beyond the routes' names, and nothing of Pulumi. One
transport serves every thread of a provider process; each thread gets its own
lazily created `requests.Session`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.response import BaseHTTPResponse

from .. import errors
from .auth import TokenSource
from .ratelimit import TokenBucket
from .redact import Redactor
from .retry import api_retry
from .settings import ClientSettings

log = logging.getLogger("pulumi_webhooks.transport")

NOT_FOUND_HINT = "The webhook no longer exists in the API; run `pulumi refresh` to drop it from the stack's state"
FORBIDDEN_HINT = "The API account in use may not do this: check its permissions with the API's owner"

ResponseHook = Callable[[requests.Response], None]
"""Sees every HTTP answer of the API; one that was retried (429, 5xx) comes with status and headers, no body."""
WriteGate = Callable[[], None]
"""Called before each webhook write (POST, PUT, DELETE) is sent; raises to stop it."""
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DOWN_MEMORY_SECONDS = 30.0
"""After a call's every retry failed to connect, calls fail at once for this long."""


class Transport:
    def __init__(
        self, settings: ClientSettings, on_response: ResponseHook | None = None, before_write: WriteGate | None = None
    ) -> None:
        self.settings = settings
        self._on_response = on_response
        self._before_write = before_write
        self._in_flight = 0
        self._in_flight_lock = threading.Lock()
        self._down: tuple[float, errors.Unreachable] | None = None  # when every retry last failed to connect
        self._base = settings.api_url.rstrip("/")
        self._redact = Redactor([settings.api_token, settings.password])
        self._local = threading.local()
        # Always one per client: a 429's Retry-After holds every thread, a rate or not.
        self._bucket = TokenBucket(settings.max_requests_per_second or None)
        if settings.api_token:
            self._tokens = TokenSource(static_token=settings.api_token)
        else:
            self._tokens = TokenSource(login=self._login)
        self._refused: errors.Unauthorized | None = None  # the API's answer to these credentials
        self._refused_lock = threading.Lock()

    @property
    def busy(self) -> bool:
        """Whether a request is in flight."""
        return self._in_flight > 0

    @property
    def base(self) -> str:
        """The API's base URL, without a trailing slash: every path is under it."""
        return self._base

    def call(self, method: str, path: str, body: Any = None, secrets: Iterable[str | None] = ()) -> Any:
        """The JSON answer of a successful call (None when empty); a typed `errors.ApiError` otherwise."""
        return self.payload(method, path, self.send(method, path, body, secrets), secrets)

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
        if self._before_write is not None and method in WRITES and path != "/authtoken":
            self._before_write()
        down = self._down
        if down is not None and time.monotonic() - down[0] < DOWN_MEMORY_SECONDS:
            # Every retry of a call just failed to reach it: the next calls fail at once, not after
            # retries of their own (a fleet of hundreds would wait minutes to say one thing).
            raise down[1].repeated(method, path)
        self._bucket.acquire()
        started = time.monotonic()
        with self._in_flight_lock:
            self._in_flight += 1
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
                unreachable = errors.Unreachable(
                    method,
                    path,
                    None,
                    self._redact(f"could not reach the API at {self._base}: {root_cause(failure)}", secrets),
                    "Check webhooks:apiUrl / WEBHOOKS_API_URL and that the API is up",
                )
                if _refused(failure):  # no connection at all, after every retry: the API is down
                    self._down = (time.monotonic(), unreachable)
                raise unreachable from None
            s = self.settings
            raise errors.Unreachable(
                method,
                path,
                None,
                f"timed out (connect {s.connect_timeout:g}s, read {s.read_timeout:g}s) "
                f"waiting for the API at {self._base}",
                "The API is slow or down; try again later, or raise webhooks:timeoutSeconds",
            ) from None
        finally:
            with self._in_flight_lock:
                self._in_flight -= 1
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

    def send(
        self,
        method: str,
        path: str,
        body: Any = None,
        secrets: Iterable[str | None] = (),
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        """An authenticated request (with `headers` besides); a 401 renews a fetched token once and retries.

        Once the API has refused the credentials themselves (the login, or a fresh
        or static token), every later call fails at once with the same message:
        a deployment of hundreds of hooks asks the API once, not once per hook.
        """
        if self._refused is not None:
            raise self._refused.repeated()
        token = self._tokens.current()
        response = self._http(method, path, body, {**(headers or {}), "Authorization": f"Bearer {token}"}, secrets)
        if response.status_code == 401 and self._tokens.renewable:
            log.info("the API refused the token; renewing it once")
            self._tokens.invalidate(token)
            token = self._tokens.current()
            response = self._http(method, path, body, {**(headers or {}), "Authorization": f"Bearer {token}"}, secrets)
        if response.status_code == 401:
            message = self._server_message(response, secrets)
            raise self._refuse(errors.Unauthorized(method, path, 401, message, self.settings.credential_hint))
        return response

    def _refuse(self, refused: errors.Unauthorized) -> errors.Unauthorized:
        """Remembers the first refusal of these credentials; later calls repeat it without asking."""
        with self._refused_lock:
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
        payload = self.payload("POST", "/authtoken", response)
        if not isinstance(payload, dict):
            raise errors.ServerError("POST", "/authtoken", response.status_code, "the answer is not a JSON object")
        self._redact.add(payload.get("token") if isinstance(payload.get("token"), str) else None)
        return payload

    def payload(self, method: str, path: str, response: requests.Response, secrets: Iterable[str | None] = ()) -> Any:
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
                f"The API kept rate-limiting for {self.settings.max_retry_seconds:g} s; set "
                "webhooks:maxRequestsPerSecond to this stack's share of the account's quota, or try later",
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


def _refused(failure: BaseException) -> bool:
    """Whether no connection could be made (refused, no route): not a connection dropped mid-answer."""
    return any(isinstance(c, (urllib3.exceptions.NewConnectionError, ConnectionRefusedError)) for c in _causes(failure))


def _timed_out(failure: BaseException) -> bool:
    # urllib3's NewConnectionError (a refusal) subclasses its ConnectTimeoutError.
    return any(
        isinstance(c, (requests.Timeout, urllib3.exceptions.TimeoutError, TimeoutError))
        and not isinstance(c, urllib3.exceptions.NewConnectionError)
        for c in _causes(failure)
    )

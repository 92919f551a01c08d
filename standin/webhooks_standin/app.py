"""The WSGI application: routing, auth, body parsing, faults, the webhook routes.

Order of checks for every request: faults (latency, rate limit, random 5xx),
then auth (except /authtoken and /healthz), then route and method, then the
body. So a client without a valid token learns nothing, not even a 404.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from werkzeug.exceptions import HTTPException, NotFound, RequestEntityTooLarge
from werkzeug.routing import Map, RequestRedirect, Rule
from werkzeug.wrappers import Request, Response

from .faults import FaultConfig, Faults
from .listing import BadListRequest, LaggingView, ListingConfig, page_of
from .stats import Stats
from .store import Store, WebhookFields, WebhookRow
from .tokens import TokenAuthority
from .validation import ValidationError, validate_webhook

logger = logging.getLogger("webhooks_standin")

MASK = "********"
_ID_PATTERN = re.compile(r"[0-9]{1,18}")  # stays inside SQLite's 64-bit integers
_UNSAFE_LOG_CHARS = str.maketrans({c: f"\\x{c:02x}" for c in [*range(0x20), 0x7F]})

_ROUTES = Map(
    [
        Rule("/authtoken", endpoint="authtoken"),
        Rule("/healthz", endpoint="healthz"),
        Rule("/webhooks", endpoint="webhooks"),
        Rule("/webhooks/<id>", endpoint="webhook"),
        Rule("/_admin/stats", endpoint="admin_stats"),
        Rule("/_admin/webhooks", endpoint="admin_webhooks"),
        Rule("/_admin/reset-stats", endpoint="admin_reset_stats"),
        Rule("/_admin/revoke-tokens", endpoint="admin_revoke_tokens"),
    ],
    redirect_defaults=False,
)
# Reachable without a bearer token.
_PUBLIC = frozenset({"authtoken", "healthz"})
# Test plumbing: never slowed down or refused by faults, never counted in stats.
_INTERNAL = frozenset({"healthz", "admin_stats", "admin_webhooks", "admin_reset_stats", "admin_revoke_tokens"})
# (endpoint, method) -> the WebhooksApp method that answers it.
_HANDLERS = {
    ("authtoken", "POST"): "login",
    ("healthz", "GET"): "healthz",
    ("webhooks", "POST"): "create_webhook",
    ("webhooks", "GET"): "list_webhooks",
    ("webhook", "GET"): "get_webhook",
    ("webhook", "PUT"): "update_webhook",
    ("webhook", "DELETE"): "delete_webhook",
    ("admin_stats", "GET"): "admin_stats",
    ("admin_webhooks", "GET"): "admin_webhooks",
    ("admin_reset_stats", "POST"): "admin_reset_stats",
    ("admin_revoke_tokens", "POST"): "admin_revoke_tokens",
}
_RULES = {str(rule.endpoint): rule.rule for rule in _ROUTES.iter_rules()}
VENDOR_ROUTES = tuple(f"{method} {_RULES[endpoint]}" for endpoint, method in _HANDLERS if endpoint not in _INTERNAL)
"""The vendor's routes, as `--without-route` names them: 'POST /authtoken', 'GET /webhooks/<id>', ..."""


@dataclass(frozen=True)
class AppConfig:
    # account name -> password, for POST /authtoken
    users: dict[str, str] = field(default_factory=dict)
    # static bearer token -> account it acts as
    api_tokens: dict[str, str] = field(default_factory=dict)
    token_ttl: int = 3600
    max_body_bytes: int = 65536
    faults: FaultConfig = field(default_factory=FaultConfig)
    listing: ListingConfig = field(default_factory=ListingConfig)
    # Honour an Idempotency-Key on creates, as Stripe-style APIs do: the same key and body within
    # a day answer what the first create answered, and make nothing.
    idempotency_keys: bool = False


IDEMPOTENCY_KEY_SECONDS = 24 * 3600


class ApiError(Exception):
    """Answer the request with this status and `{"message": ...}`."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers, content_type="application/json")


def _iso(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _read_body(row: WebhookRow, id_field: str) -> dict[str, Any]:
    fields = row.fields
    return {
        id_field: row.id,
        "isAlertHook": fields.is_alert_hook,
        "endpoint": fields.endpoint,
        "authType": fields.auth_type,
        "userName": fields.user_name,
        # Secrets are write-only.
        "password": MASK if fields.password is not None else None,
        "token": MASK if fields.token is not None else None,
    }


@dataclass
class _Exchange:
    """What the access log and the stats need to know about one request."""

    route: str
    account: str | None = None
    drop_connection: bool = False


Handler = Callable[[Request, _Exchange, dict[str, str]], Response]


class WebhooksApp:
    def __init__(self, store: Store, config: AppConfig) -> None:
        self.store = store
        self.config = config
        self.tokens = TokenAuthority(store, config.token_ttl, config.api_tokens)
        self.faults = Faults(config.faults)
        self.stats = Stats()
        self.view = LaggingView(config.listing.lag_seconds)
        self._keys_lock = threading.Lock()
        self._handlers: dict[tuple[str, str], Handler] = {key: getattr(self, name) for key, name in _HANDLERS.items()}

    # --- WSGI entry point -------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        started = time.perf_counter()
        request = Request(environ)
        request.max_content_length = self.config.max_body_bytes

        endpoint, args, rule = self._match(request)
        exchange = _Exchange(route=f"{request.method} {rule}")
        counted = endpoint not in _INTERNAL
        if counted:
            self.stats.arrived()
        try:
            response = self._dispatch(request, exchange, endpoint, args)
        except ApiError as error:
            response = json_response(error.status, {"message": error.message}, error.headers)
        except HTTPException as error:
            response = json_response(error.code or 500, {"message": error.name})
        except Exception:
            # No request data in the log: only where it failed.
            logger.exception("unhandled error on %s", exchange.route)
            response = json_response(500, {"message": "Internal server error"})
        finally:
            if counted:
                self.stats.left()
        status = "dropped" if exchange.drop_connection else str(response.status_code)
        if counted:
            self.stats.record(exchange.route, status)
        logger.info(
            "%s %s %s %.1fms %s",
            request.method,
            request.path.translate(_UNSAFE_LOG_CHARS),
            status,
            (time.perf_counter() - started) * 1000,
            exchange.account or "-",
        )
        if exchange.drop_connection:
            _drop_connection(environ)
        return response(environ, start_response)

    def _match(self, request: Request) -> tuple[str | None, dict[str, str], str]:
        """(endpoint, arguments, rule text); endpoint is None when no route matches."""
        adapter = _ROUTES.bind_to_environ(request.environ)
        try:
            matched_rule, args = adapter.match(return_rule=True)
        except (NotFound, RequestRedirect):
            return None, {}, "<unmatched>"
        return str(matched_rule.endpoint), {key: str(value) for key, value in args.items()}, matched_rule.rule

    def _dispatch(self, request: Request, exchange: _Exchange, endpoint: str | None, args: dict[str, str]) -> Response:
        if endpoint not in _INTERNAL:
            self._apply_faults()
        if endpoint not in _PUBLIC:
            exchange.account = self._authenticate(request)
        # A route the server is told to lack answers exactly like one it never had.
        if endpoint is None or exchange.route in self.config.faults.without_routes:
            raise ApiError(404, "Not found")
        handler = self._handlers.get((endpoint, request.method))
        if handler is None:
            allowed = sorted(method for name, method in self._handlers if name == endpoint)
            raise ApiError(405, "Method not allowed", {"Allow": ", ".join(allowed)})
        return handler(request, exchange, args)

    def _apply_faults(self) -> None:
        self.faults.delay()
        retry_after = self.faults.rate_limited()
        if retry_after is not None:
            raise ApiError(429, "Too many requests", {"Retry-After": retry_after})
        injected = self.faults.injected_error()
        if injected is not None:
            raise ApiError(injected, "Injected server error")

    def _authenticate(self, request: Request) -> str:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise ApiError(401, "Missing bearer token")
        account = self.tokens.verify(token)
        if account is None:
            raise ApiError(401, "Invalid or expired token")
        return account

    def _json_body(self, request: Request) -> Any:
        if request.mimetype != "application/json" and not request.mimetype.endswith("+json"):
            raise ApiError(415, "Content-Type must be application/json")
        raw = _read_limited(request, self.config.max_body_bytes)
        if raw is None:
            raise ApiError(413, f"Request body is larger than {self.config.max_body_bytes} bytes")
        try:
            return json.loads(raw)
        except (ValueError, RecursionError):
            raise ApiError(400, "Request body is not valid JSON") from None

    # --- auth -------------------------------------------------------------

    def login(self, request: Request, exchange: _Exchange, args: dict[str, str]) -> Response:
        try:
            body = self._json_body(request)
        except ApiError as error:
            if error.status != 400:
                raise
            raise ApiError(400, f"invalid grant: {error.message}") from None
        user = body.get("userName") if isinstance(body, dict) else None
        password = body.get("password") if isinstance(body, dict) else None
        if not isinstance(user, str) or not user or not isinstance(password, str):
            raise ApiError(400, "invalid grant: userName and password must be strings")
        known = self.config.users.get(user)
        if known is None:
            raise ApiError(404, "invalid grant: no such user")
        if not _same_secret(known, password):
            raise ApiError(401, "Authentication failed")
        exchange.account = user
        issued = self.tokens.issue(user)
        return json_response(
            200,
            {
                "type": "Bearer",
                "token": issued.token,
                "expiresIn": str(issued.expires_at - issued.issued_at),
                "issued": _iso(issued.issued_at),
                "expires": _iso(issued.expires_at),
            },
        )

    def healthz(self, request: Request, exchange: _Exchange, args: dict[str, str]) -> Response:
        return json_response(200, {"status": "ok"})

    # --- webhooks ---------------------------------------------------------

    def create_webhook(self, request: Request, exchange: _Exchange, args: dict[str, str]) -> Response:
        body = self._json_body(request)
        fields = _validated(body)
        assert exchange.account is not None
        key = request.headers.get("Idempotency-Key", "").strip() if self.config.idempotency_keys else ""
        if not key:
            return self._answer_create(exchange, self._commit_create(exchange.account, fields))
        asked = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        with self._keys_lock:  # a second request with the key waits for the first's answer
            found = self.store.answer_for_key(exchange.account, key, IDEMPOTENCY_KEY_SECONDS)
            if found is not None:
                first_hash, first_answer = found
                if first_hash != asked:
                    raise ApiError(422, "Idempotency-Key was already used with other parameters")
                return self._answer_create(exchange, json.loads(first_answer), replayed=True)
            answer = self._commit_create(exchange.account, fields)
            self.store.record_answer(exchange.account, key, asked, json.dumps(answer))
        return self._answer_create(exchange, answer)

    def _commit_create(self, account: str, fields: WebhookFields) -> dict[str, Any]:
        """Stores the webhook; the body of the create's answer."""
        with self.view.writing:
            new_id = self.store.create(account, fields)
            self.view.record(account, new_id, None)
        answer: dict[str, Any] = {"message": "Webhook created successfully"}
        if not self.config.faults.create_without_id:
            answer[self.config.faults.id_field] = new_id
        return answer

    def _answer_create(self, exchange: _Exchange, answer: dict[str, Any], replayed: bool = False) -> Response:
        # The webhook is committed either way: that is the point of these faults. A replayed
        # answer (an idempotency key seen before) can be lost on its way as well.
        exchange.drop_connection = self.faults.drop_create_response()
        if self.faults.fail_after_commit():
            raise ApiError(500, "Injected server error after commit")
        return json_response(201, answer, {"Idempotent-Replayed": "true"} if replayed else None)

    def list_webhooks(self, request: Request, exchange: _Exchange, args: dict[str, str]) -> Response:
        assert exchange.account is not None
        rows = self.view.as_listed(exchange.account, self.store.list(exchange.account))
        try:
            page = page_of(self.config.listing, rows, request.args, request.base_url, self._read_body)
        except BadListRequest as error:
            raise ApiError(400, str(error)) from None
        return json_response(200, page.body, page.headers)

    def get_webhook(self, request: Request, exchange: _Exchange, args: dict[str, str]) -> Response:
        assert exchange.account is not None
        webhook_id = _parse_id(args["id"])
        row = self.store.get(exchange.account, webhook_id) if webhook_id is not None else None
        if row is None:
            raise ApiError(404, "Webhook not found")
        return json_response(200, self._read_body(row))

    def update_webhook(self, request: Request, exchange: _Exchange, args: dict[str, str]) -> Response:
        assert exchange.account is not None
        fields = _validated(self._json_body(request))
        webhook_id = _parse_id(args["id"])
        with self.view.writing:
            before = self.store.update(exchange.account, webhook_id, fields) if webhook_id is not None else None
            if before is not None:
                self.view.record(exchange.account, before.id, before)
        # Vendor quirk: a missing webhook is a 400, not a 404.
        if before is None:
            raise ApiError(400, "Webhook not found")
        return json_response(200, {"message": "Webhook updated successfully"})

    def delete_webhook(self, request: Request, exchange: _Exchange, args: dict[str, str]) -> Response:
        assert exchange.account is not None
        webhook_id = _parse_id(args["id"])
        with self.view.writing:
            before = self.store.delete(exchange.account, webhook_id) if webhook_id is not None else None
            if before is not None:
                self.view.record(exchange.account, before.id, before)
        if before is None:
            raise ApiError(404, "Webhook not found")
        return json_response(200, {"message": "Webhook deleted successfully"})

    def _read_body(self, row: WebhookRow) -> dict[str, Any]:
        return _read_body(row, self.config.faults.id_field)

    # --- admin (tests only) -------------------------------------------------

    def admin_stats(self, request: Request, exchange: _Exchange, args: dict[str, str]) -> Response:
        return json_response(200, self.stats.snapshot())

    def admin_webhooks(self, request: Request, exchange: _Exchange, args: dict[str, str]) -> Response:
        """The account's webhooks as they are now, whole: neither paged nor lagged."""
        assert exchange.account is not None
        return json_response(200, [self._read_body(row) for row in self.store.list(exchange.account)])

    def admin_reset_stats(self, request: Request, exchange: _Exchange, args: dict[str, str]) -> Response:
        self.stats.reset()
        return json_response(200, {"message": "Stats reset"})

    def admin_revoke_tokens(self, request: Request, exchange: _Exchange, args: dict[str, str]) -> Response:
        self.tokens.rotate_key()
        return json_response(200, {"message": "Issued tokens revoked"})


def _validated(body: Any) -> WebhookFields:
    try:
        return validate_webhook(body)
    except ValidationError as error:
        raise ApiError(400, str(error)) from None


def _read_limited(request: Request, limit: int) -> bytes | None:
    """The body, or None when it is longer than `limit` bytes.

    Werkzeug refuses a too-large Content-Length up front, but silently cuts a
    chunked body at the limit: read one byte past it to tell the two apart.
    """
    chunks: list[bytes] = []
    size = 0
    try:
        stream = request.stream
        while size <= limit:
            chunk = stream.read(limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except RequestEntityTooLarge:
        return None
    return None if size > limit else b"".join(chunks)


def _parse_id(raw: str) -> int | None:
    return int(raw) if _ID_PATTERN.fullmatch(raw) else None


def _same_secret(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode())


def _drop_connection(environ: dict[str, Any]) -> None:
    """Close the client's connection without a response.

    Werkzeug's attempt to write the response then fails with a connection
    error, which its handler treats as a client that went away: no traceback.
    """
    sock = environ.get("werkzeug.socket")
    if sock is None:
        logger.warning("cannot drop the connection: no socket in the WSGI environ")
        return
    # Already closed by the client: nothing left to drop.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def create_app(store: Store, config: AppConfig) -> WebhooksApp:
    return WebhooksApp(store, config)

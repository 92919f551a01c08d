"""Command line: python -m webhooks_standin --port 0 --db hooks.sqlite [options]."""

from __future__ import annotations

import argparse
import logging
import re
import sys

from .app import VENDOR_ROUTES, AppConfig
from .faults import ID_FIELDS, RETRY_AFTER_FORMATS, FaultConfig
from .listing import PAGE_STYLES, ListingConfig
from .serving import serve

_ACCOUNT_PATTERN = re.compile(r"[A-Za-z0-9_.@-]+")


def _user(value: str) -> tuple[str, str]:
    name, sep, password = value.partition(":")
    if not sep or not name or not password:
        raise argparse.ArgumentTypeError("expected NAME:PASSWORD")
    return name, password


def _api_token(value: str) -> tuple[str, str]:
    """ACCOUNT=TOKEN or TOKEN (account "default"); returns (token, account)."""
    account, sep, token = value.partition("=")
    # A token may itself contain "=" (base64 padding): only a plain account
    # name before a non-empty rest makes it the ACCOUNT=TOKEN form.
    if sep and token and _ACCOUNT_PATTERN.fullmatch(account):
        return token, account
    if not value:
        raise argparse.ArgumentTypeError("expected TOKEN or ACCOUNT=TOKEN")
    return value, "default"


def _probability(value: str) -> float:
    number = float(value)
    if not 0.0 <= number <= 1.0:
        raise argparse.ArgumentTypeError("expected a number between 0 and 1")
    return number


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("expected a positive integer")
    return number


def _non_negative_int(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError("expected a non-negative integer")
    return number


def _positive_float(value: str) -> float:
    number = float(value)
    if not number > 0:
        raise argparse.ArgumentTypeError("expected a positive number")
    return number


def _non_negative_float(value: str) -> float:
    number = float(value)
    if not number >= 0:
        raise argparse.ArgumentTypeError("expected a number of 0 or more")
    return number


def _route(value: str) -> str:
    method, _, rule = value.strip().partition(" ")
    route = f"{method.upper()} {rule.strip()}"
    if route not in VENDOR_ROUTES:
        raise argparse.ArgumentTypeError(f"expected one of: {', '.join(repr(r) for r in VENDOR_ROUTES)}")
    return route


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m webhooks_standin",
        description="Local stand-in for the vendor webhooks API (see docs/api.md), with fault knobs.",
        epilog=(
            "Besides the vendor routes: GET /healthz (no auth), and for tests (bearer auth):"
            " GET /_admin/stats, GET /_admin/webhooks (the account's webhooks, whole and current),"
            " POST /_admin/reset-stats, POST /_admin/revoke-tokens."
            " Once listening, prints one line 'listening on http://HOST:PORT' to stdout."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=_non_negative_int, default=8080, help="port (default 8080); 0 picks a free one")
    parser.add_argument("--db", required=True, help="SQLite file, created if missing")
    parser.add_argument(
        "--user",
        type=_user,
        action="append",
        default=[],
        metavar="NAME:PASSWORD",
        help="account that can log in at POST /authtoken (repeatable)",
    )
    parser.add_argument(
        "--api-token",
        type=_api_token,
        action="append",
        default=[],
        metavar="[ACCOUNT=]TOKEN",
        help="static bearer token, for account 'default' unless ACCOUNT= is given (repeatable)",
    )
    parser.add_argument(
        "--token-ttl",
        type=_positive_int,
        default=3600,
        metavar="SECONDS",
        help="lifetime of tokens from /authtoken (default 3600)",
    )
    parser.add_argument(
        "--max-body-bytes",
        type=_positive_int,
        default=65536,
        metavar="N",
        help="larger request bodies get 413 (default 65536)",
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        type=str.upper,
        help="logging level of the request log on stderr (default INFO)",
    )

    vendor = parser.add_argument_group(
        "how real APIs differ (all off by default: one consistent list, keys ignored)",
        "GET /webhooks/<id> always reads the current webhook; only the list pages and lags.",
    )
    vendor.add_argument(
        "--page-style",
        choices=PAGE_STYLES,
        default="none",
        help="how GET /webhooks pages its list: none (one JSON list), link (Link rel=next, ?page&per_page), "
        "cursor ({items, nextCursor, hasMore}, ?cursor&limit), next-url ({count, next, results}, ?page&page_size), "
        "has-more ({data, has_more}, ?starting_after&limit), page ({items, page, pageSize, totalCount}), "
        "offset ({items, offset, limit, total})",
    )
    vendor.add_argument(
        "--page-size",
        type=_positive_int,
        default=30,
        metavar="N",
        help="webhooks per page when the client asks for no size (default 30)",
    )
    vendor.add_argument(
        "--page-max",
        type=_positive_int,
        default=100,
        metavar="N",
        help="the largest page a client may ask for; larger asks get this (default 100)",
    )
    vendor.add_argument(
        "--page-max-refused", action="store_true", help="answer a larger ask than --page-max 400, as Stripe does"
    )
    vendor.add_argument(
        "--page-loop",
        action="store_true",
        help="a paging bug: after the last page, the next link, cursor or total leads back to the first page",
    )
    vendor.add_argument(
        "--list-lag-seconds",
        type=_non_negative_float,
        default=0.0,
        metavar="S",
        help="GET /webhooks shows the account as it was S seconds ago, as a read replica or search index does",
    )
    vendor.add_argument(
        "--idempotency-keys",
        action="store_true",
        help="honour Idempotency-Key on POST /webhooks: a repeat with the same key and body within a day "
        "answers as the first did and makes nothing; with another body, 422",
    )

    faults = parser.add_argument_group("fault injection (all off by default)")
    faults.add_argument(
        "--rate-limit",
        type=_positive_float,
        metavar="N",
        help="requests per second across the server, burst N; beyond it 429 + Retry-After",
    )
    faults.add_argument(
        "--fail-rate",
        type=_probability,
        default=0.0,
        metavar="F",
        help="probability of a random 500/502/503/504 before any processing",
    )
    faults.add_argument(
        "--latency-ms",
        type=_non_negative_int,
        default=0,
        metavar="N",
        help="sleep this long before handling each request",
    )
    faults.add_argument(
        "--create-without-id",
        action="store_true",
        help='create answers only {"message": "Webhook created successfully"}',
    )
    faults.add_argument(
        "--id-field",
        choices=ID_FIELDS,
        default="webhookId",
        help="name of the id in every body the server returns: create, list and read (default webhookId)",
    )
    faults.add_argument(
        "--drop-create-response-rate",
        type=_probability,
        default=0.0,
        metavar="F",
        help="probability that a create commits, then the connection drops without a response",
    )
    faults.add_argument(
        "--fail-after-commit-rate",
        type=_probability,
        default=0.0,
        metavar="F",
        help="probability that a create commits, then answers 500 (like a gateway timing out)",
    )
    faults.add_argument(
        "--retry-after-format",
        choices=RETRY_AFTER_FORMATS,
        default="seconds",
        help="how a 429 states its Retry-After: seconds (default) or an HTTP date",
    )
    faults.add_argument(
        "--without-route",
        type=_route,
        action="append",
        default=[],
        metavar="'METHOD /rule'",
        help="answer this vendor route 404 (after auth), as if the API lacked it, e.g. 'GET /webhooks/<id>' "
        "(repeatable)",
    )
    faults.add_argument("--seed", type=int, help="seed of the random generator for faults")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Werkzeug's own access log prints the full path with the query string.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    config = AppConfig(
        users=dict(args.user),
        api_tokens=dict(args.api_token),
        token_ttl=args.token_ttl,
        max_body_bytes=args.max_body_bytes,
        faults=FaultConfig(
            rate_limit=args.rate_limit,
            fail_rate=args.fail_rate,
            latency_ms=args.latency_ms,
            create_without_id=args.create_without_id,
            id_field=args.id_field,
            drop_create_response_rate=args.drop_create_response_rate,
            fail_after_commit_rate=args.fail_after_commit_rate,
            retry_after_format=args.retry_after_format,
            seed=args.seed,
            without_routes=frozenset(args.without_route),
        ),
        listing=ListingConfig(
            page_style=args.page_style,
            page_size=args.page_size,
            page_max=args.page_max,
            lag_seconds=args.list_lag_seconds,
            page_loop=args.page_loop,
            page_max_refused=args.page_max_refused,
        ),
        idempotency_keys=args.idempotency_keys,
    )
    serve(args.host, args.port, args.db, config)
    return 0


if __name__ == "__main__":
    sys.exit(main())

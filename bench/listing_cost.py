"""python -m bench.listing_cost [--hooks 2000] [--latency-ms 50] [--page-size 30] [--page-max 100]

What one whole listing costs, in API calls and seconds, for each paging style of the local API
server: the first listing of a process (one page at the API's default size tells the style, then
the list is read again at the largest page) and every later one. Prints a table, then JSON.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness.api import CREDENTIAL_ARGS, STATIC_TOKEN, USER, Api
from pulumi_webhooks.api.client import WebhooksClient
from pulumi_webhooks.api.settings import ClientSettings
from webhooks_standin.testing import ServerProcess

STYLES = ("none", "link", "cursor", "next-url", "has-more", "page", "offset")


def fill(db: Path, count: int) -> None:
    """A database of `count` webhooks of alice's, written directly: making them is not what is timed."""
    ServerProcess(db, CREDENTIAL_ARGS).start().stop()  # the server makes its schema
    with sqlite3.connect(db) as connection:
        connection.executemany(
            "INSERT INTO webhooks (account, is_alert_hook, endpoint, auth_type) VALUES (?, 0, ?, 'none')",
            [(USER, f"https://bench.example.com/{i}") for i in range(count)],
        )


def measure(style: str, hooks: int, latency_ms: int, page_size: int, page_max: int, db: Path) -> dict[str, Any]:
    flags = ["--page-style", style, "--page-size", str(page_size), "--page-max", str(page_max)]
    server = ServerProcess(db, [*CREDENTIAL_ARGS, *flags, "--latency-ms", str(latency_ms)]).start()
    try:
        api = Api(server)
        client = WebhooksClient(ClientSettings(api_url=api.url, api_token=STATIC_TOKEN))
        row: dict[str, Any] = {"style": style, "hooks": hooks}
        for which in ("first", "later"):
            api.post("/_admin/reset-stats")
            started = time.perf_counter()
            listing = client.listing()
            row[f"{which}_seconds"] = round(time.perf_counter() - started, 2)
            row[f"{which}_calls"] = int(api.stats()["requests"].get("GET /webhooks", 0))
            assert len(listing.hooks) == hooks, f"{style}: {len(listing.hooks)} of {hooks} listed"
        row["listed_as"] = listing.describe()
        return row
    finally:
        server.stop()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.listing_cost", description=__doc__.splitlines()[0])
    parser.add_argument("--hooks", type=int, default=2000)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--page-size", type=int, default=30, help="the server's page when none is asked (30)")
    parser.add_argument("--page-max", type=int, default=100, help="the largest page the server gives (100)")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="listing-") as tmp:
        db = Path(tmp) / "api.sqlite"
        fill(db, args.hooks)
        for style in STYLES:
            rows.append(measure(style, args.hooks, args.latency_ms, args.page_size, args.page_max, db))
    limits = f"{args.page_size} a page unless asked, at most {args.page_max}"
    print(f"{args.hooks} webhooks, {args.latency_ms} ms a call, {limits}")
    print("| style | first listing of a process | every later one | listed as |")
    print("|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['style']} | {r['first_calls']} calls, {r['first_seconds']} s | {r['later_calls']} calls, "
            f"{r['later_seconds']} s | {r['listed_as']} |"
        )
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

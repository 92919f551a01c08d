"""Command line: `python -m pulumi_webhooks list` shows the account's webhooks.

It reads the API URL and credentials from the same environment variables as
the provider (WEBHOOKS_API_URL, WEBHOOKS_API_TOKEN or WEBHOOKS_API_USERNAME with
WEBHOOKS_API_PASSWORD; WEBHOOKS_<NAME>_... for a named connection).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from .client import WebhooksClient
from .config import client_settings
from .errors import WebhooksError

COLUMNS = ("webhookId", "endpoint", "authType", "isAlertHook", "userName")


def list_webhooks(args: argparse.Namespace) -> int:
    client = WebhooksClient(client_settings(lambda _key: None, os.environ, args.connection))
    hooks = client.list()
    if args.json:
        print(json.dumps(hooks, indent=2, sort_keys=True))
        return 0
    rows = [[str(h.get(c) if h.get(c) is not None else "-") for c in COLUMNS] for h in hooks]
    widths = [max([len(c), *(len(r[i]) for r in rows)]) for i, c in enumerate(COLUMNS)]
    for row in [list(COLUMNS), *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    print(f"{len(hooks)} webhook(s) at {client.settings.api_url}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pulumi_webhooks", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="list the account's webhooks (secrets masked)")
    listing.add_argument("--connection", help="a named connection (reads WEBHOOKS_<NAME>_API_URL, ...)")
    listing.add_argument("--json", action="store_true", help="print the API's JSON")
    listing.set_defaults(run=list_webhooks)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except WebhooksError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

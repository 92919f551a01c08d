"""Command line of pulumi_webhooks: list, adopt, drift, recover and doctor (see `--help`).

Installed as `pulumi-webhooks`; `python -m pulumi_webhooks` is the same. The API
URL and credentials come from the same environment variables as the provider's
fallbacks: WEBHOOKS_API_URL, and WEBHOOKS_API_TOKEN or WEBHOOKS_API_USERNAME
with WEBHOOKS_API_PASSWORD (WEBHOOKS_<NAME>_... for a named connection).

Exit codes: 0 done (for drift: in sync; for doctor: every check passed), 1 error
(settings, API, catalog; for doctor: a check failed), 2 drift found, 64 wrong usage,
75 the stack is busy (recover --stack: try later).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, NoReturn

import yaml
from tqdm import tqdm

from .. import __version__
from ..api.client import WebhooksClient
from ..api.config import ConfigGetter, client_settings
from ..api.listing import Listing
from ..errors import StackBusy, WebhooksError
from ..model import catalog
from ..model.live import ID, VISIBLE
from . import adopt, drift, holdings
from .stack import Stack

COLUMNS = (ID, *VISIBLE)
ACCOUNT_FROM = (
    "The account is the one the environment names, as the provider's fallbacks do: WEBHOOKS_API_URL, and "
    "WEBHOOKS_API_TOKEN or WEBHOOKS_API_USERNAME with WEBHOOKS_API_PASSWORD (WEBHOOKS_<NAME>_API_URL, ... "
    "with --connection NAME); no stack's config is read."
)
DRIFT_FOUND = 2
USAGE = 64  # EX_USAGE: argparse's own 2 would read as "drift found"
BUSY = 75  # EX_TEMPFAIL: the stack is locked by a run that may still be going


def api_client(args: argparse.Namespace, config: ConfigGetter | None = None) -> WebhooksClient:
    """A client of the connection's account, with the settings from a stack's `config` (when
    given), then the environment, as the provider reads them."""
    return WebhooksClient(client_settings(config or (lambda _key: None), os.environ, args.connection))


def live_webhooks(args: argparse.Namespace, config: ConfigGetter | None = None) -> tuple[WebhooksClient, Listing]:
    """The account's whole list, every page of it."""
    client = api_client(args, config)
    with tqdm(desc="listing webhooks", disable=None, file=sys.stderr, leave=False, bar_format="{desc}"):
        listing = client.listing()
    return client, listing


def progress(items: Sequence[Any], description: str) -> Any:
    """A progress bar on stderr when it is a terminal; the plain items otherwise."""
    return tqdm(items, desc=description, unit=" hook", disable=None, file=sys.stderr, leave=False)


def list_command(args: argparse.Namespace) -> int:
    client, listing = live_webhooks(args)
    listed = [hook.as_api() for hook in listing.hooks]
    if args.json:
        print(json.dumps(listed, indent=2, sort_keys=True))
        return 0
    rows = [[str(h[c] if h[c] is not None else "-") for c in COLUMNS] for h in listed]
    widths = [max([len(c), *(len(r[i]) for r in rows)]) for i, c in enumerate(COLUMNS)]
    for row in [list(COLUMNS), *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    print(f"{len(listed)} webhook(s) at {client.settings.api_url}, {listing.describe()}")
    return 0


def adopt_command(args: argparse.Namespace) -> int:
    if args.json and args.output == "-":
        args.parser.error("adopt --json reports on the catalog it writes: give --output FILE")
    _, listing = live_webhooks(args)
    hooks = listing.hooks
    data, keys = adopt.catalog_for(progress(hooks, "adopting"), args.team)
    catalog.parse(data)  # what adopt writes must load as is
    text = yaml.safe_dump(data, sort_keys=False)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text)
        if args.json:
            summary = {"catalog": args.output, "team": args.team, "webhooks": len(hooks), "secretKeys": keys}
            print(json.dumps(summary, indent=2))
        else:
            print(f"wrote {len(hooks)} webhook(s) to {args.output} (team '{args.team}', each with its adopt_id)")
    if keys:
        print("The API never returns secrets. Set each one before `pulumi up`:", file=sys.stderr)
        for key in keys:
            print(f"  pulumi config set --secret {key} <value>", file=sys.stderr)
    return 0


def drift_command(args: argparse.Namespace) -> int:
    if args.cwd != "." and not args.stack:
        args.parser.error("drift: --cwd goes with --stack")
    hooks = catalog.load(args.catalog)
    stack = Stack(args.stack, Path(args.cwd)) if args.stack else None
    client, listing = live_webhooks(args, stack.config() if stack else None)
    found = None
    if stack:
        with tqdm(desc="reading the stacks' state", disable=None, file=sys.stderr, leave=False, bar_format="{desc}"):
            found = holdings.read(stack, client.settings.account())
    report = drift.compare(progress(hooks, "comparing"), list(listing.hooks), client.get, found)
    if args.json:
        print(json.dumps(report.as_json(), indent=2, sort_keys=True))
    else:
        for line in report.lines():
            print(line)
    return DRIFT_FOUND if report.drifted else 0


def recover_command(args: argparse.Namespace) -> int:
    # Imported here, as in doctor_command: reading a state's providers loads the Pulumi SDK,
    # which list, adopt and drift never need (it is half a command's start-up time).
    from . import recovery

    if args.stack:
        if args.state != "-":
            args.parser.error("recover: give --stack or a STATE file, not both")
        minutes, wait = args.break_locks_older_than, args.wait
        if minutes is not None and minutes <= 0:
            args.parser.error("recover: --break-locks-older-than takes a number of minutes above 0")
        if wait is not None and wait <= 0:
            args.parser.error("recover: --wait takes a number of minutes above 0")
        stack = Stack(args.stack, Path(args.cwd))
        report = recovery.recover_stack(
            stack,
            None if minutes is None else timedelta(minutes=minutes),
            None if wait is None else timedelta(minutes=wait),
        )
        if args.json:
            print(json.dumps(report.as_json(), indent=2))
        for line in report.lines():
            print(line, file=sys.stderr)
        return 0
    if args.json or args.cwd != "." or args.break_locks_older_than is not None or args.wait is not None:
        args.parser.error("recover: --json, --cwd, --wait and --break-locks-older-than go with --stack")
    source = sys.stdin if args.state == "-" else open(args.state, encoding="utf-8")  # noqa: SIM115
    with source:
        export = json.load(source)
    repaired, found = recovery.settled_repair(api_client(args), export, args.connection)
    json.dump(repaired, sys.stdout, indent=4)
    print(found.summary(), file=sys.stderr)
    return 0


def doctor_command(args: argparse.Namespace) -> int:
    from . import doctor

    if args.cwd != "." and not args.stack:
        args.parser.error("doctor: --cwd goes with --stack")
    stack = None
    if args.stack:
        stack = Stack(args.stack, Path(args.cwd))
    report = doctor.diagnose(args.connection, args.read_only, stack)
    if args.json:
        print(json.dumps(report.as_json(), indent=2))
    else:
        for line in report.lines():
            print(line)
    return 0 if report.ok else 1


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="pulumi-webhooks",
        description=__doc__.splitlines()[0],
        epilog="exit codes: 0 done (drift: in sync; doctor: all checks passed), 1 error (doctor: a check failed), "
        "2 drift found, 64 wrong usage, 75 stack busy",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--connection", help="a named connection (reads WEBHOOKS_<NAME>_API_URL, ...)")
    commands = parser.add_subparsers(dest="command", required=True)

    listing = commands.add_parser(
        "list",
        help="list the account's webhooks (secrets masked)",
        description=f"List the account's webhooks, every page of the API's list (secrets masked). {ACCOUNT_FROM}",
    )
    listing.add_argument("--json", action="store_true", help="print the API's JSON")
    listing.set_defaults(run=list_command)

    adopting = commands.add_parser(
        "adopt",
        help="write a catalog that takes the account's webhooks under management",
        description=f"Write a catalog of the account's webhooks, each with its adopt_id. {ACCOUNT_FROM}",
    )
    adopting.add_argument("--output", "-o", default="-", help="catalog file to write (YAML; default: stdout)")
    adopting.add_argument("--team", default="adopted", help="team of the adopted hooks (default: adopted)")
    adopting.add_argument("--json", action="store_true", help="report the catalog written, and its secret keys")
    adopting.set_defaults(run=adopt_command)

    drifting = commands.add_parser(
        "drift",
        help="compare a catalog with the live API; exit 0 in sync, 2 drift, 1 error",
        description="Compare a catalog with the account's webhooks. Without --stack, no Pulumi state is read: "
        "hooks match by adopt_id, else by endpoint, and every other webhook is extra. With --stack, hooks "
        "match by the ids in that stack's state (so an endpoint changed out of band shows as changed), the "
        "account is the one its config names (then the environment, as the provider reads it), and the "
        "state of every stack of its backend (`pulumi stack ls --all`) says which other webhooks belong "
        "to a stack and which to none; only the latter are extra. Without --stack, the account is the one "
        "the environment names: WEBHOOKS_API_URL, and WEBHOOKS_API_TOKEN or WEBHOOKS_API_USERNAME with "
        "WEBHOOKS_API_PASSWORD (WEBHOOKS_<NAME>_API_URL, ... with --connection NAME).",
    )
    drifting.add_argument("catalog", help="catalog file (.yaml, .yml, .json or .toml)")
    drifting.add_argument("--stack", help="the stack that deploys the catalog: match by the ids in its state")
    drifting.add_argument("--cwd", default=".", help="with --stack: the Pulumi project's directory (default: .)")
    drifting.add_argument("--json", action="store_true", help="print the report as JSON")
    drifting.set_defaults(run=drift_command)

    recovering = commands.add_parser(
        "recover",
        help="after an interrupted `pulumi up`: resolve its pending creates in a `pulumi stack export` "
        "(stdin to stdout, for `pulumi stack import`)",
    )
    recovering.add_argument("state", nargs="?", default="-", help="`pulumi stack export` output (default: stdin)")
    recovering.add_argument(
        "--stack",
        help="the pipeline step: make this stack ready for `pulumi up` (stale lock, interrupted creates), "
        "in place; a no-op when there is nothing to recover",
    )
    recovering.add_argument("--cwd", default=".", help="with --stack: the Pulumi project's directory (default: .)")
    recovering.add_argument(
        "--break-locks-older-than",
        type=float,
        metavar="MINUTES",
        help="with --stack: also clear a lock taken on another machine this long ago (a killed CI job's)",
    )
    recovering.add_argument(
        "--wait",
        type=float,
        metavar="MINUTES",
        help="with --stack: when a running `pulumi` holds the stack, wait for it up to this long (else exit 75)",
    )
    recovering.add_argument("--json", action="store_true", help="with --stack: print what was done as JSON")
    recovering.set_defaults(run=recover_command)

    doctoring = commands.add_parser(
        "doctor",
        help="check that the API serves every route the provider relies on, as it expects (one line per check, "
        "with the fix when not ok); exit 0 all passed, 1 a check failed",
    )
    doctoring.add_argument(
        "--read-only",
        action="store_true",
        help="skip the round trip that creates, reads, updates and deletes one disposable webhook",
    )
    doctoring.add_argument(
        "--stack", help="read the settings from this stack's config first, then the environment, as the provider does"
    )
    doctoring.add_argument("--cwd", default=".", help="with --stack: the Pulumi project's directory (default: .)")
    doctoring.add_argument("--json", action="store_true", help="print the report as JSON")
    doctoring.set_defaults(run=doctor_command)
    return parser


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(USAGE, f"{self.prog}: error: {message}\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.parser = parser
    try:
        return int(args.run(args))
    except BrokenPipeError:
        # The reader stopped early (`pulumi-webhooks list | head`): it had what it asked for.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing left to flush at exit
        return 0
    except StackBusy as error:
        print(f"error: {error}", file=sys.stderr)
        return BUSY
    except WebhooksError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1

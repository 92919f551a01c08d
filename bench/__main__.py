"""python -m bench [--quick] [--sizes 100,500] [--latencies 50,200] [--runs 3] [--programs fleet,hooks]
                   [--tofu PATH --restapi PATH] [--compare-env NAME:KEY=VALUE] [--api-flag=FLAG] [--chart PNG]

For each N and API latency, in each run, side by side against one local API server:
- `pulumi` on a `WebhookFleet` of N hooks (`fleet`) and on N `Webhook`s (`hooks`), as users
  type it: `up --yes` (create), `preview --expect-no-changes`, `up --yes` after changing every
  endpoint (update), `refresh --yes`, `destroy --yes`; and the same on an empty stack, the
  engine's fixed cost;
- with --tofu and --restapi, the peer: OpenTofu with Mastercard's restapi provider on the same
  N hooks (`apply`, `plan`, `apply` after the change, `apply -refresh-only`, `destroy`);
- with --compare-env, the fleet again with other engine settings (or another copy of the package, with
  PYTHONPATH);
- with --api-flag, the local API server as a vendor may behave: `--api-flag=--page-style=page` pages
  its list.
Odd runs go through the tools in reverse order, after one untimed run of the smallest scenario.
Prints a table (median, min-max over runs, and each tool's ratio to the peer's time, pair by pair
within a run), then a JSON summary as the last line. Exits 1 if an operation of `fleet` or
`hooks` made other API calls than the targets (with --api-flag, list calls aside).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.provider_cost import provider_seconds_per_hook
from bench.tools import OPERATIONS, PeerTool, PulumiTool, Timing
from harness.api import CREDENTIAL_ARGS, PASSWORD, USER, Api
from webhooks_standin.testing import ServerProcess

PEER = "OpenTofu + restapi"
EMPTY = "pulumi, fleet of 0"


@contextmanager
def api_server(latency_ms: int, directory: Path, flags: Sequence[str] = ()) -> Iterator[Api]:
    directory.mkdir(parents=True, exist_ok=True)
    process = ServerProcess(directory / "api.sqlite", [*CREDENTIAL_ARGS, "--latency-ms", str(latency_ms), *flags])
    process.start()
    try:
        yield Api(process)
    finally:
        process.stop()


@dataclass(frozen=True)
class Variant:
    """The fleet with other engine settings, timed beside the plain one in the same run."""

    name: str
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> Variant:
        """`NAME:KEY=VALUE[,KEY=VALUE...]`, the form of --compare-env."""
        name, _, settings = text.partition(":")
        pairs = [item.split("=", 1) for item in settings.split(",") if item]
        if not name or not pairs or any(len(pair) != 2 for pair in pairs):
            raise argparse.ArgumentTypeError(f"{text!r}: use NAME:KEY=VALUE[,KEY=VALUE...]")
        return cls(name, env=dict(pairs))


@dataclass
class Options:
    programs: list[str]
    variants: list[Variant]
    env: dict[str, str]
    tofu: Path | None
    restapi: Path | None
    api_flags: list[str] = field(default_factory=list)
    peer_parallelism: int | None = None
    peer_refresh: bool = True


def scenario(n: int, latency_ms: int, root: Path, options: Options, run: int) -> dict[str, list[Timing]]:
    """One run of one (N, latency): every tool's five operations, one tool after the other."""
    with api_server(latency_ms, root / "api", options.api_flags) as api:
        makers: dict[str, Any] = {
            program: lambda p=program: PulumiTool(p, p, root / p, api, n, options.env, {})
            for program in options.programs
        }
        for variant in options.variants:
            makers[f"fleet ({variant.name})"] = lambda v=variant: PulumiTool(
                v.name, "fleet", root / f"variant-{v.name}", api, n, {**options.env, **v.env}, {}
            )
        makers[EMPTY] = lambda: PulumiTool(EMPTY, "fleet", root / "empty", api, 0, options.env, {})
        if options.tofu and options.restapi:
            tofu, restapi = options.tofu, options.restapi
            makers[PEER] = lambda: PeerTool(
                tofu, restapi, root, api, n, parallelism=options.peer_parallelism, refresh=options.peer_refresh
            )
        names = list(makers)[:: -1 if run % 2 else 1]
        timed: dict[str, list[Timing]] = {}
        for name in names:
            tool = makers[name]()
            timed[name] = [tool.run(operation) for operation in OPERATIONS]
        return {name: timed[name] for name in makers}


def expected_calls(program: str, operation: str, n: int) -> dict[str, int]:
    """The API-call targets: one write per changed hook, one listing to refresh a fleet, one GET per
    hook and pass of a per-hook refresh (`refresh --yes` reads for its preview too), none to preview."""
    targets = {  # with a static API token: no login
        "create": {"POST /webhooks": n, "GET /webhooks": 1},  # + the create guard's one listing
        "preview": {},
        "update": {"PUT /webhooks/<id>": n},
        "refresh": ({"GET /webhooks": 2} if n else {}) if program != "hooks" else {"GET /webhooks/<id>": 2 * n},
        "destroy": {"DELETE /webhooks/<id>": n},
    }
    return targets[operation]


def _without_listing(calls: dict[str, int]) -> dict[str, int]:
    return {route: count for route, count in calls.items() if route != "GET /webhooks"}


def summarize(runs: list[dict[str, list[Timing]]], n: int, latency_ms: int) -> list[dict[str, Any]]:
    """Per operation and tool: median, min and max seconds over the runs, and the median of the
    ratios to the peer within each run."""
    rows = []
    for index, operation in enumerate(OPERATIONS):
        for tool in runs[0]:
            timings = [run[tool][index] for run in runs]
            seconds = [t.seconds for t in timings]
            row: dict[str, Any] = {
                "operation": operation,
                "tool": tool,
                "n": n,
                "latency_ms": latency_ms,
                "seconds": round(statistics.median(seconds), 2),
                "seconds_min": round(min(seconds), 2),
                "seconds_max": round(max(seconds), 2),
                "calls": timings[-1].calls,
                "provider_peak_mib": round(max(t.peak_mib for t in timings), 1),
                "provider_cpu_seconds": round(statistics.median(t.provider_cpu for t in timings), 2),
                **timings[0].extra,
            }
            if PEER in runs[0] and tool != PEER:
                ratios = [run[tool][index].seconds / run[PEER][index].seconds for run in runs]
                row |= {
                    "ratio_to_peer": round(statistics.median(ratios), 2),
                    "ratio_min": round(min(ratios), 2),
                    "ratio_max": round(max(ratios), 2),
                }
            rows.append(row)
    return rows


def print_table(rows: list[dict[str, Any]]) -> None:
    peer = any(r["tool"] == PEER for r in rows)
    head = "| N | latency | operation | tool | seconds (min-max) |" + (" / peer (min-max) |" if peer else "")
    print(head + " API calls | provider CPU | provider peak |")
    print("|" + "---|" * (head.count("|") + 2))
    for r in rows:
        calls = ", ".join(f"{k} {v}" for k, v in sorted(r["calls"].items())) or "none"
        ratio = ""
        if peer:
            ratio = (
                f" {r['ratio_to_peer']:.2f} ({r['ratio_min']:.2f}-{r['ratio_max']:.2f}) |"
                if "ratio_to_peer" in r
                else " - |"
            )
        pulumi = r["tool"] != PEER
        print(
            f"| {r['n']} | {r['latency_ms']} ms | {r['operation']} | {r['tool']} | {r['seconds']:.2f} "
            f"({r['seconds_min']:.2f}-{r['seconds_max']:.2f}) |{ratio} {calls} | "
            + (f"{r['provider_cpu_seconds']:.2f} s | {r['provider_peak_mib']:.0f} MiB |" if pulumi else "- | - |")
        )


def print_state_table(rows: list[dict[str, Any]]) -> None:
    print("| tool | N | latency | state per hook | export per hook |")
    print("|---|---|---|---|---|")
    for r in rows:
        if "state_bytes_per_hook" in r:
            print(
                f"| {r['tool']} | {r['n']} | {r['latency_ms']} ms | {r['state_bytes_per_hook']} B "
                f"| {r['export_bytes_per_hook']} B |"
            )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N=10,100 at 50 ms, one run: a few minutes")
    parser.add_argument("--sizes", default="100,500", help="numbers of hooks (default 100,500)")
    parser.add_argument("--latencies", default="50,200", help="API latencies in ms (default 50,200)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each scenario (default 3)")
    parser.add_argument(
        "--programs",
        default="fleet,hooks",
        help="Pulumi programs to time: fleet, hooks, plugin (a YAML fleet through the provider plugin)",
    )
    parser.add_argument("--tofu", type=Path, help="an OpenTofu binary, to time the peer beside")
    parser.add_argument("--restapi", type=Path, help="the terraform-provider-restapi binary the peer uses")
    parser.add_argument(
        "--peer-parallelism", type=int, metavar="N", help="tofu's -parallelism (default: tofu's own, 10)"
    )
    parser.add_argument(
        "--peer-no-refresh",
        action="store_true",
        help="the peer plans, updates and destroys with -refresh=false (no read first, as pulumi's defaults)",
    )
    parser.add_argument(
        "--compare-env",
        action="append",
        default=[],
        type=Variant.parse,
        metavar="NAME:KEY=VALUE[,KEY=VALUE]",
        help="also time the fleet with this environment, e.g. zstd:PULUMI_DIY_BACKEND_ZSTD=true (repeatable)",
    )
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", help="environment of every pulumi")
    parser.add_argument(
        "--api-flag",
        action="append",
        default=[],
        metavar="FLAG",
        help="a flag of the local API server, e.g. --api-flag=--page-style=page (repeatable)",
    )
    parser.add_argument("--chart", type=Path, metavar="PNG", help="draw seconds per hook against N into this file")
    parser.add_argument(
        "--no-warm-up",
        action="store_true",
        help="skip the untimed first run (the first commands on a fresh machine are slower; --quick skips it)",
    )
    args = parser.parse_args(argv)
    if bool(args.tofu) != bool(args.restapi):
        parser.error("--tofu and --restapi go together")
    programs = [p for p in args.programs.split(",") if p]
    if not set(programs) <= {"fleet", "hooks", "plugin"}:
        parser.error("--programs takes fleet, hooks and plugin, comma-separated")
    sizes = [10, 100] if args.quick else [int(s) for s in args.sizes.split(",")]
    latencies = [50] if args.quick else [int(s) for s in args.latencies.split(",")]
    runs = 1 if args.quick else args.runs
    options = Options(
        programs,
        args.compare_env,
        dict(item.split("=", 1) for item in args.env),
        args.tofu,
        args.restapi,
        args.api_flag,
        args.peer_parallelism,
        not args.peer_no_refresh,
    )

    rows: list[dict[str, Any]] = []
    failures: list[str] = []
    if not (args.quick or args.no_warm_up):  # fills the OS's caches and Python's bytecode: not timed
        with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
            scenario(min(sizes), latencies[0], Path(tmp), options, 0)
        print("# warm-up run done (untimed)", file=sys.stderr, flush=True)
    for latency in latencies:
        for n in sizes:
            per_run = []
            for run in range(runs):
                with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
                    started = time.perf_counter()
                    per_run.append(scenario(n, latency, Path(tmp), options, run))
                    print(
                        f"# N={n} latency={latency} ms run {run + 1}/{runs}: {time.perf_counter() - started:.0f} s",
                        file=sys.stderr,
                        flush=True,
                    )
            for run, results in enumerate(per_run, 1):  # every run: a wrong count in any one fails
                for program in programs:
                    for timing in results[program]:
                        wanted, made = expected_calls(program, timing.operation, n), timing.calls
                        if args.api_flag:  # a paged list takes as many calls as its pages: not a target
                            wanted, made = _without_listing(wanted), _without_listing(made)
                        if made != wanted:
                            failures.append(
                                f"{program} {timing.operation} N={n} run {run}: API calls {timing.calls}, "
                                f"expected {wanted}"
                            )
                for timing in results.get(PEER, []):  # the peer must do the same work: its writes
                    writes = {route: count for route, count in timing.calls.items() if not route.startswith("GET")}
                    wanted = {
                        r: c for r, c in expected_calls(PEER, timing.operation, n).items() if r != "GET /webhooks"
                    }
                    if writes != wanted:
                        failures.append(f"peer {timing.operation} N={n} run {run}: writes {writes}, expected {wanted}")
            rows.extend(summarize(per_run, n, latency))

    with tempfile.TemporaryDirectory(prefix="bench-") as tmp, api_server(0, Path(tmp)) as api:
        share = provider_seconds_per_hook(api.url, USER, PASSWORD, max(sizes))
    print_table(rows)
    print()
    print_state_table(rows)
    print()
    print(
        "per-hook provider code per hook, in-process at 0 ms (HTTP included):",
        ", ".join(f"{op} {s * 1000:.2f} ms" for op, s in share.items()),
    )
    if args.chart:
        from bench.chart import draw_seconds_per_hook  # matplotlib: only when a chart is asked for

        draw_seconds_per_hook(rows, args.chart)
        print(f"chart: {args.chart}", file=sys.stderr)
    for failure in failures:
        print(f"API-call target missed: {failure}", file=sys.stderr)
    print(json.dumps({"results": rows, "provider_ms_per_hook": {k: round(v * 1000, 3) for k, v in share.items()}}))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

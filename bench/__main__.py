"""python -m bench [--quick] [--sizes 10,100,500] [--latencies 0,50] [--runs 3] [--chart PNG]

For each N and API latency, in each run, side by side:
- the real thing: `pulumi up` (create), a second `preview`, `up` after changing
  every endpoint (update), `refresh`, `destroy` of N hooks, under the real CLI;
- the floor: the same HTTP calls from a plain script on 4 workers, plus the
  engine's fixed cost, the same operations on an empty stack;
- each variant asked for (--compare-env, --compare-secret-provider): the same
  operations with other engine settings, its ratio taken against the plain run.
Prints a table, then a JSON summary as the last line; --chart draws seconds per
hook against N. Exits 1 if any operation made other API calls than the targets
allow.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.floor import http_floor
from bench.memory import ProviderProcesses
from bench.provider_cost import provider_seconds_per_hook
from harness.api import CREDENTIAL_ARGS, PASSWORD, USER, Api
from harness.project import STACK, Project, new_project
from webhooks_standin.testing import ServerProcess

PROGRAM = Path(__file__).with_name("program.py")


@dataclass
class Measure:
    """One operation of one scenario in one run."""

    operation: str
    n: int
    latency_ms: int
    seconds: float
    floor: float
    calls: dict[str, int]
    peak_mib: float = 0.0
    provider_cpu: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return self.seconds / self.floor if self.floor else float("nan")


@contextmanager
def api_server(latency_ms: int, directory: Path) -> Iterator[Api]:
    directory.mkdir(parents=True, exist_ok=True)
    process = ServerProcess(directory / "api.sqlite", [*CREDENTIAL_ARGS, "--latency-ms", str(latency_ms)])
    process.start()
    try:
        yield Api(process)
    finally:
        process.stop()


ENGINE_ENV: dict[str, str] = {}
"""Extra environment for every pulumi command of a run (--env), e.g. engine settings."""


@dataclass(frozen=True)
class Variant:
    """Another setting of the same scenario, timed right after the plain one in the same run."""

    name: str
    env: dict[str, str] = field(default_factory=dict)
    config: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> Variant:
        """`NAME:KEY=VALUE[,KEY=VALUE...]`, the form of --compare-env."""
        name, _, settings = text.partition(":")
        pairs = [item.split("=", 1) for item in settings.split(",") if item]
        if not name or not pairs or any(len(pair) != 2 for pair in pairs):
            raise argparse.ArgumentTypeError(f"{text!r}: use NAME:KEY=VALUE[,KEY=VALUE...]")
        return cls(name, env=dict(pairs))


SECRET_PROVIDER = Variant("secret __provider", config={"secretProvider": "true"})


def hooks_project(root: Path, api: Api, count: int, variant: Variant | None = None) -> Project:
    project = new_project(root, api, name="bench")
    project.env.update(ENGINE_ENV)
    (project.dir / "__main__.py").write_text(PROGRAM.read_text())
    project.config("count", str(count))
    project.config("hookToken", "bench-token", secret=True)
    if variant:
        project.env.update(variant.env)
        for key, value in variant.config.items():
            project.config(key, value)
    return project


@dataclass
class Operations:
    """The five operations of one project: (operation, seconds, API calls, provider peak MiB,
    provider CPU seconds), and state sizes."""

    timings: list[tuple[str, float, dict[str, int], float, float]] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)


def run_operations(project: Project) -> Operations:
    # Plain `pulumi up` previews first (the program runs twice): --skip-preview times the
    # update alone, as the floor does and as earlier runs of this benchmark did.
    commands = {
        "create": ("up", "--yes", "--skip-preview"),
        "preview": ("preview", "--expect-no-changes"),
        "update": ("up", "--yes", "--skip-preview"),
        # Without --skip-preview, refresh reads every hook twice: once for its preview.
        "refresh": ("refresh", "--yes", "--skip-preview"),
        "destroy": ("destroy", "--yes"),
    }
    result = Operations()
    for operation, command in commands.items():
        if operation == "update":
            project.config("suffix", "v2")
        project.api.post("/_admin/reset-stats")
        with ProviderProcesses() as provider:
            started = time.perf_counter()
            project.pulumi(*command, "--stack", STACK)
            seconds = time.perf_counter() - started
        calls = {k: v for k, v in project.api.stats()["requests"].items() if v}
        result.timings.append((operation, seconds, calls, provider.peak_kib / 1024, provider.cpu_seconds))
        if operation == "create":
            result.state = state_sizes(project.pulumi("stack", "export", "--stack", STACK).output)
    return result


def state_sizes(export: str) -> dict[str, Any]:
    """Bytes of state per hook (compact JSON), with and without the SDK's stack traces."""
    hooks = [r for r in json.loads(export)["deployment"]["resources"] if "__provider" in r.get("inputs", {})]
    if not hooks:
        return {}

    def size(resource: dict[str, Any]) -> int:
        return len(json.dumps(resource, separators=(",", ":")).encode())

    traceless = [{k: v for k, v in r.items() if k not in ("stackTrace", "sourcePosition")} for r in hooks]
    return {
        "state_bytes_per_hook": round(sum(map(size, hooks)) / len(hooks)),
        "state_bytes_per_hook_without_stack_trace": round(sum(map(size, traceless)) / len(hooks)),
        "export_bytes_per_hook": round(len(export.encode()) / len(hooks)),
        "provider_chars": len(json.dumps(hooks[0]["inputs"]["__provider"])),
    }


def expected_calls(operation: str, n: int) -> dict[str, int]:
    """The targets: one write per hook, one GET per hook on refresh, no call for unchanged hooks."""
    login = {"POST /authtoken": 1}
    return {
        "create": {**login, "POST /webhooks": n, "GET /webhooks": 1},  # + one baseline listing per process
        "preview": {},
        "update": {**login, "PUT /webhooks/<id>": n},
        "refresh": {**login, "GET /webhooks/<id>": n},
        "destroy": {**login, "DELETE /webhooks/<id>": n},
    }[operation]


def scenario(n: int, latency_ms: int, root: Path, variants: list[Variant], run: int = 0) -> list[Measure]:
    """One run of one (N, latency): floor, real operations and variants side by side.

    Odd runs time the variants before the plain project, so that neither always
    runs second on a machine already warmed up by the other."""
    with api_server(latency_ms, root / "floor") as api:
        http = http_floor(api.url, USER, PASSWORD, n)
    with api_server(latency_ms, root / "api") as api:
        empty = {op: seconds for op, seconds, *_ in run_operations(hooks_project(root / "empty", api, 0)).timings}
        settings: list[Variant | None] = [None, *variants]  # index 0: the plain project
        order = range(len(settings))[::-1] if run % 2 else range(len(settings))
        timed = {i: run_operations(hooks_project(root / f"hooks-{i}", api, n, settings[i])) for i in order}
        real = timed[0]
        measures = [
            Measure(op, n, latency_ms, seconds, http[op] + empty[op], calls, peak, cpu)
            for op, seconds, calls, peak, cpu in real.timings
        ]
        measures[0].extra = real.state
        for i, variant in enumerate(variants, start=1):
            other = timed[i]
            for (op, seconds, calls, peak, cpu), plain in zip(
                other.timings, measures[: len(real.timings)], strict=True
            ):
                # The floor of a variant is the plain run: its ratio says what the setting buys.
                measure = Measure(f"{op} ({variant.name})", n, latency_ms, seconds, plain.seconds, calls, peak, cpu)
                if op == "create":
                    measure.extra = other.state
                measures.append(measure)
    return measures


def summarize(runs: list[list[Measure]]) -> list[dict[str, Any]]:
    """Median, min and max per (operation, N, latency) over the runs; ratios pair by pair."""
    rows = []
    for group in zip(*runs, strict=True):
        first = group[0]
        ratios = [m.ratio for m in group]
        rows.append(
            {
                "operation": first.operation,
                "n": first.n,
                "latency_ms": first.latency_ms,
                "seconds": round(statistics.median(m.seconds for m in group), 3),
                "seconds_min": round(min(m.seconds for m in group), 3),
                "seconds_max": round(max(m.seconds for m in group), 3),
                "floor": round(statistics.median(m.floor for m in group), 3),
                "ratio": round(statistics.median(ratios), 2),
                "ratio_min": round(min(ratios), 2),
                "ratio_max": round(max(ratios), 2),
                "calls": first.calls,
                "provider_peak_mib": round(max(m.peak_mib for m in group), 1),
                "provider_cpu_seconds": round(statistics.median(m.provider_cpu for m in group), 2),
                **first.extra,
            }
        )
    return rows


def print_state_table(rows: list[dict[str, Any]]) -> None:
    print("| scenario | N | latency | state per hook | without stack traces | export per hook | `__provider` |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        if "state_bytes_per_hook" in r:
            print(
                f"| {r['operation']} | {r['n']} | {r['latency_ms']} ms | {r['state_bytes_per_hook']} B "
                f"| {r['state_bytes_per_hook_without_stack_trace']} B | {r['export_bytes_per_hook']} B "
                f"| {r['provider_chars']} chars |"
            )


def print_table(rows: list[dict[str, Any]]) -> None:
    print(
        "| operation | N | latency | seconds (min-max) | floor | ratio (min-max) | API calls "
        "| provider CPU | provider peak |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        calls = ", ".join(f"{k} {v}" for k, v in sorted(r["calls"].items())) or "none"
        print(
            f"| {r['operation']} | {r['n']} | {r['latency_ms']} ms | {r['seconds']:.2f} "
            f"({r['seconds_min']:.2f}-{r['seconds_max']:.2f}) | {r['floor']:.2f} | {r['ratio']:.2f} "
            f"({r['ratio_min']:.2f}-{r['ratio_max']:.2f}) | {calls} | {r['provider_cpu_seconds']:.2f} s "
            f"| {r['provider_peak_mib']:.0f} MiB |"
        )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N=10,100, one run: a few minutes")
    parser.add_argument("--sizes", default="10,100,500", help="numbers of hooks (default 10,100,500)")
    parser.add_argument("--latencies", default="0,50", help="API latencies in ms (default 0,50)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each scenario (default 3)")
    parser.add_argument(
        "--compare-secret-provider",
        action="store_true",
        help="also run each scenario with __provider stored as a secret (the SDK default)",
    )
    parser.add_argument(
        "--compare-env",
        action="append",
        default=[],
        type=Variant.parse,
        metavar="NAME:KEY=VALUE[,KEY=VALUE]",
        help="also run each scenario with this environment, e.g. parallel-diff:PULUMI_PARALLEL_DIFF=true (repeatable)",
    )
    parser.add_argument("--chart", type=Path, metavar="PNG", help="draw seconds per hook against N into this file")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="environment for every pulumi command, floor and real alike (repeatable)",
    )
    args = parser.parse_args(argv)
    ENGINE_ENV.update(item.split("=", 1) for item in args.env)
    sizes = [10, 100] if args.quick else [int(s) for s in args.sizes.split(",")]
    runs = 1 if args.quick else args.runs
    latencies = [int(s) for s in args.latencies.split(",")]
    variants = [*([SECRET_PROVIDER] if args.compare_secret_provider else []), *args.compare_env]

    rows: list[dict[str, Any]] = []
    failures: list[str] = []
    for latency in latencies:
        for n in sizes:
            per_run = []
            for run in range(runs):
                with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
                    started = time.perf_counter()
                    per_run.append(scenario(n, latency, Path(tmp), variants, run))
                    print(
                        f"# N={n} latency={latency} ms run {run + 1}/{runs}: {time.perf_counter() - started:.0f} s",
                        file=sys.stderr,
                        flush=True,
                    )
            for measure in per_run[-1]:
                wanted = expected_calls(measure.operation.split(" (")[0], n)
                if measure.calls != wanted:
                    failures.append(f"{measure.operation} N={n}: API calls {measure.calls}, expected {wanted}")
            rows.extend(summarize(per_run))

    with tempfile.TemporaryDirectory(prefix="bench-") as tmp, api_server(0, Path(tmp)) as api:
        share = provider_seconds_per_hook(api.url, USER, PASSWORD, max(sizes))
    print_table(rows)
    print()
    print_state_table(rows)
    print()
    print(
        "provider code per hook, in-process at 0 ms (HTTP included):",
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

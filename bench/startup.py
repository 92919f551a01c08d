"""Where an unchanged `pulumi up --yes` of a fleet spends its time, phase by phase.

    python -m bench.startup [--hooks 100] [--latency-ms 50] [--runs 5] [--program fleet|plugin]

Deploys the benchmark's fleet once, then runs `pulumi up --yes` with nothing to change, `--runs`
times plainly (the total) and `--runs` times with the engine's log (`-v=9 --logtostderr`, whose
timestamps give the phases; logging adds a little to each). `up --yes` is two passes, a preview
and the update, and each starts the language host, the program and the provider anew. Prints a
Markdown table: each phase's median seconds.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from bench.__main__ import api_server
from bench.tools import PulumiTool
from harness.project import STACK, pulumi_command

PASS_PHASES = (
    # (phase, the log message that ends it)
    ("language host start and plugin discovery (GetRequiredPackages)", r"GetRequiredPackages\(.*\) success"),
    ("program start: Python, the SDK's imports", r"registering resource: ty=pulumi:pulumi:Stack"),
    ("program: this package's imports, the fleet's inputs", r"registering resource: ty=\S*WebhookFleet"),
    ("provider start: process and imports", r"Provider\[\w+\]\.Configure\(\) executing"),
    ("provider: configure and check", r"Provider\[\w+\]\.Diff\(.*\): executing"),
    ("provider's diff, program end", r"langhost\[\w+\]\.Run\(.*\) success"),
    ("pass end: the provider and host stop", r"\*\*\* Update\(preview=(true|false)\) complete"),
)
PASSES = ("preview", "update")


def phases(log: str, started: float, ended: float) -> dict[str, float]:
    """Seconds per phase of one logged `up`, from its JSON log lines' timestamps."""
    events = []
    for line in log.splitlines():
        if line.startswith("{"):
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            when = datetime.fromisoformat(entry["time"].replace("Z", "+00:00")).timestamp()
            events.append((when, str(entry.get("msg", ""))))
    found: dict[str, float] = {}
    at = started
    index = 0

    def until(pattern: str) -> float:
        nonlocal index
        while index < len(events):
            when, message = events[index]
            index += 1
            if re.search(pattern, message):
                return when
        raise ValueError(f"no log line matches {pattern!r}")

    mark = until(r"\*\*\* Starting Update\(preview=true\)")
    found["CLI start, backend and stack, About"] = mark - at
    at = mark
    for name in PASSES:
        if name == "update":
            mark = until(r"\*\*\* Starting Update\(preview=false\)")
            found["between the passes"] = mark - at
            at = mark
        for phase, pattern in PASS_PHASES:
            mark = until(pattern)
            found[f"{name}: {phase}"] = mark - at
            at = mark
    found["checkpoint, summary and exit"] = ended - at
    return found


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__.splitlines()[0])
    parser.add_argument("--hooks", type=int, default=100)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--program", default="fleet", choices=("fleet", "plugin"))
    args = parser.parse_args(argv)
    totals: list[float] = []
    measured: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="startup-") as tmp, api_server(args.latency_ms, Path(tmp) / "api") as api:
        tool = PulumiTool(args.program, args.program, Path(tmp) / "project", api, args.hooks, {}, {})
        tool.run("create")
        up = ("up", "--yes", "--stack", STACK)
        for _ in range(args.runs):
            started = time.perf_counter()
            tool.project.pulumi(*up)
            totals.append(time.perf_counter() - started)
            started = time.time()
            # The log alone on stderr: merged with the display, its lines would interleave.
            logged = subprocess.run(
                [pulumi_command(), *up, "-v=9", "--logtostderr"],
                cwd=tool.project.dir,
                env=tool.project.env,
                capture_output=True,
                text=True,
                check=True,
            )
            measured.append(phases(logged.stderr, started, time.time()))
        tool.run("destroy")
    print(f"Unchanged `pulumi up --yes`, {args.program}, {args.hooks} hooks: median of {args.runs} runs")
    print()
    print("| phase | seconds |")
    print("|---|---|")
    for phase in measured[0]:
        print(f"| {phase} | {statistics.median(run[phase] for run in measured):.3f} |")
    print(f"| **total, with the log** | {statistics.median(sum(run.values()) for run in measured):.3f} |")
    print(f"| **total, without the log** | {statistics.median(totals):.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

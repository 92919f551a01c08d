"""The peer at its best: each restapi configuration a user could write, timed and checked.

    python -m bench.peer_configs --tofu PATH/tofu --restapi PATH/terraform-provider-restapi \\
        [--hooks 500] [--latency-ms 50] [--runs 3]

For each configuration of `bench/opentofu/main.tf` (its variables: which server changes plans
ignore, whether a read follows each PUT) and each `-parallelism` (tofu's default, 10, and 16, the
fleet's default concurrency): create, a plan of no change, update of every endpoint, a plan
again, refresh, destroy, in one API server per run. With `--no-refresh`, plans, update and
destroy read no object first (`-refresh=false`, as `pulumi preview` and `up` do by default). A
configuration is correct only when the API holds exactly what create and update asked, both
plans find nothing to change (`plan -detailed-exitcode` exits 0), and no plan or apply prints
the hooks' token. A plan with `-refresh=false` compares the program with state alone, so for
those rows only the first check can fail. Prints a Markdown table: seconds, median of the runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench.__main__ import api_server
from bench.tools import PeerTool

HOOK_TOKEN = "bench-token"
CONFIGURATIONS = {
    f"{changes}, {'no read' if returns == 'true' else 'a read'} after a PUT": {
        "server_changes": changes,
        "write_returns_object": returns,
    }
    for changes in ("listed", "additions", "all")
    for returns in ("true", "false")
}
STEPS = ("create", "plan", "update", "plan again", "refresh", "destroy")


def trial(
    tofu: Path,
    restapi: Path,
    hooks: int,
    latency_ms: int,
    variables: dict[str, str],
    parallelism: int | None,
    refresh: bool,
) -> tuple[dict[str, float], list[str]]:
    """Seconds per step, and what was wrong with the configuration (empty: it plans right)."""
    seconds: dict[str, float] = {}
    wrong: list[str] = []
    with tempfile.TemporaryDirectory(prefix="peer-") as tmp, api_server(latency_ms, Path(tmp) / "api") as api:
        peer = PeerTool(tofu, restapi, Path(tmp), api, hooks, variables, parallelism, refresh)
        for step in STEPS:
            operation = "preview" if step.startswith("plan") else step
            try:
                seconds[step] = peer.run(operation).seconds
            except RuntimeError as failed:
                if operation != "preview" or "failed (2)" not in str(failed):  # 2: the plan has changes
                    raise
                wrong.append(f"{step} found changes")
                seconds[step] = float("nan")
            if HOOK_TOKEN in peer.output:
                wrong.append(f"{step} printed the token")
            if step in ("create", "update"):
                suffix = "v1" if step == "create" else "v2"
                made = sorted(hook["endpoint"] for hook in api.webhooks())
                if made != sorted(f"https://bench.example.com/{suffix}/{i}" for i in range(hooks)):
                    wrong.append(f"the API does not hold what {step} asked")
        if len(api.webhooks()) != 0:
            wrong.append("destroy left webhooks")
    return seconds, wrong


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.peer_configs", description=__doc__.splitlines()[0])
    parser.add_argument("--tofu", type=Path, required=True)
    parser.add_argument("--restapi", type=Path, required=True)
    parser.add_argument("--hooks", type=int, default=500)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--parallelism", default="10,16", help="tofu -parallelism values (default 10,16)")
    parser.add_argument("--only", default="", help="only the configurations whose name contains this")
    parser.add_argument(
        "--no-refresh", action="store_true", help="plan, update and destroy with -refresh=false (as pulumi's)"
    )
    args = parser.parse_args(argv)
    refresh = not args.no_refresh
    print(f"| configuration | -parallelism | {' | '.join(STEPS)} | plans right |")
    print("|---|---|" + "---|" * len(STEPS) + "---|")
    for name, variables in CONFIGURATIONS.items():
        if args.only not in name:
            continue
        for parallelism in (int(p) for p in args.parallelism.split(",")):
            runs = [
                trial(args.tofu, args.restapi, args.hooks, args.latency_ms, variables, parallelism, refresh)
                for _ in range(args.runs)
            ]
            medians = [statistics.median(seconds[step] for seconds, _ in runs) for step in STEPS]
            wrong = sorted({problem for _, problems in runs for problem in problems})
            cells = " | ".join(f"{value:.2f}" for value in medians)
            label = name if refresh else f"{name}, -refresh=false"
            print(f"| {label} | {parallelism} | {cells} | {'yes' if not wrong else 'no: ' + '; '.join(wrong)} |")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

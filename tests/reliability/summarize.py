"""Campaign 8's table from the figures its trials append to RELIABILITY_REPORT (docs/reliability.md).

    RELIABILITY_REPORT=/tmp/r.jsonl .venv/bin/python -m pytest -m campaign tests/reliability -k test_8
    .venv/bin/python -m tests.reliability.summarize /tmp/r.jsonl [--per-backend]

One row per backend, program, path, kill and operation (or per backend, program and path): trials, kill
points, and each figure summed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

COLUMNS = (
    ("pending at kill", "pending"),
    ("providers waited for", "providers_waited"),
    ("torn sidecars", "torn"),
    ("taken into state", "imported"),
    ("dropped", "dropped"),
    ("refused by the guard (bare)", "refused"),
    ("duplicates", "duplicates"),
    ("missing", "missing"),
    ("extra", "extra"),
    ("not in state", "not_in_state"),
    ("pending left", "pending_left"),
    ("leaked secrets", "leaks"),
)


DETAIL = ("backend", "program", "route", "kill", "operation")
PER_BACKEND = ("backend", "program", "route")
DEFAULTS = {"backend": "file", "program": "hooks"}  # figures from before these were recorded


def table(lines: list[dict[str, Any]], by: tuple[str, ...] = DETAIL) -> str:
    """One row per distinct value of the `by` fields, each figure summed over its trials."""
    rows: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for line in lines:
        if str(line.get("campaign", "")).startswith("8 "):
            rows[tuple(str(line.get(name, DEFAULTS.get(name))) for name in by)].append(line)
    header = [{"route": "path"}.get(name, name) for name in by] + ["trials", "kill points (writes)"]
    header += [name for name, _ in COLUMNS] + ["final `up` failed", "needed a person"]
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for key, trials in sorted(rows.items()):
        points = sorted(int(t["at"]) for t in trials)
        cells = [*key, str(len(trials)), f"{points[0]}-{points[-1]}"]
        for _, figure in COLUMNS:
            present = [t[figure] for t in trials if figure in t]
            cells.append(str(sum(int(v) for v in present)) if present else "-")
        failed = sum(not t["up_ok"] for t in trials)
        cells += [str(failed), str(sum(int(t.get("needed_a_person", 0)) for t in trials))]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", nargs="+", type=Path, help="RELIABILITY_REPORT files")
    parser.add_argument("--per-backend", action="store_true", help="one row per backend, program and path")
    args = parser.parse_args(argv)
    lines = [json.loads(text) for path in args.reports for text in path.read_text().splitlines() if text.strip()]
    print(table(lines, PER_BACKEND if args.per_backend else DETAIL))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

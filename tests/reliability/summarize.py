"""Campaign 8's table from the figures its trials append to RELIABILITY_REPORT (docs/reliability.md).

    RELIABILITY_REPORT=/tmp/r.jsonl .venv/bin/python -m pytest -m campaign tests/reliability -k test_8
    .venv/bin/python -m tests.reliability.summarize /tmp/r.jsonl

One row per backend, path, kill and operation: trials, kill points, and each figure summed.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

COLUMNS = (
    ("pending at kill", "pending"),
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


def table(lines: list[dict[str, Any]]) -> str:
    rows: dict[tuple[str, str, str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for line in lines:
        if str(line.get("campaign", "")).startswith("8 "):
            key = (
                line.get("backend", "file"),
                line.get("program", "hooks"),
                line["route"],
                line["kill"],
                line["operation"],
            )
            rows[key].append(line)
    header = ["backend", "program", "path", "kill", "operation", "trials", "kill points (writes)"]
    header += [name for name, _ in COLUMNS] + ["final `up` failed", "needed a person"]
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for (backend, program, route, kill, operation), trials in sorted(rows.items()):
        points = sorted(int(t["at"]) for t in trials)
        cells = [backend, program, route, kill, operation, str(len(trials)), f"{points[0]}-{points[-1]}"]
        for _, figure in COLUMNS:
            present = [t[figure] for t in trials if figure in t]
            cells.append(str(sum(int(v) for v in present)) if present else "-")
        failed = sum(not t["up_ok"] for t in trials)
        cells += [str(failed), str(sum(int(t.get("needed_a_person", 0)) for t in trials))]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def main(argv: list[str]) -> int:
    lines = [json.loads(text) for path in argv for text in Path(path).read_text().splitlines() if text.strip()]
    print(table(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

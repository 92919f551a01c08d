"""The sizing chart: seconds per hook against the number of hooks in one stack, with the floor."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: no display on CI machines

import matplotlib.pyplot as plt

OPERATIONS = {"create": "up (create)", "update": "up (update every hook)", "destroy": "destroy"}


def draw_seconds_per_hook(rows: list[dict[str, Any]], path: Path) -> None:
    """One panel per API latency: each operation's median seconds per hook (solid) and its
    floor's (dashed, same colour), against N."""
    latencies = sorted({r["latency_ms"] for r in rows})
    figure, axes = plt.subplots(1, len(latencies), figsize=(7 * len(latencies), 4.5), squeeze=False)
    for axis, latency in zip(axes[0], latencies, strict=True):
        for (operation, label), colour in zip(OPERATIONS.items(), ("C0", "C1", "C2"), strict=True):
            points = sorted((r["n"], r) for r in rows if r["operation"] == operation and r["latency_ms"] == latency)
            if not points:
                continue
            sizes = [n for n, _ in points]
            axis.plot(sizes, [r["seconds"] / n for n, r in points], "o-", color=colour, label=label)
            axis.plot(sizes, [r["floor"] / n for n, r in points], "--", color=colour, label=f"{label}: floor")
        axis.set_title(f"API latency {latency} ms")
        axis.set_xlabel("hooks in the stack (N)")
        axis.set_ylabel("seconds per hook")
        axis.set_ylim(bottom=0)
        axis.grid(alpha=0.3)
        axis.legend(fontsize="small")
    figure.suptitle("Seconds per hook by stack size (median; dashed: the floor)")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)

"""The sizing chart: seconds per hook against the number of hooks in one stack, each tool beside the peer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: no display on CI machines

import matplotlib.pyplot as plt

OPERATIONS = {"create": "create", "update": "update every hook", "refresh": "refresh", "destroy": "destroy"}
STYLES = {"fleet": "o-", "hooks": "s:", "OpenTofu + restapi": "^--"}


def draw_seconds_per_hook(rows: list[dict[str, Any]], path: Path) -> None:
    """One panel per API latency: each operation's median seconds per hook, a colour per operation
    and a line style per tool (solid: WebhookFleet, dotted: a Webhook per hook, dashed: the peer)."""
    latencies = sorted({r["latency_ms"] for r in rows})
    figure, axes = plt.subplots(1, len(latencies), figsize=(7 * len(latencies), 5), squeeze=False)
    for axis, latency in zip(axes[0], latencies, strict=True):
        for (operation, label), colour in zip(OPERATIONS.items(), ("C0", "C1", "C2", "C3"), strict=True):
            for tool, style in STYLES.items():
                points = sorted(
                    (r["n"], r["seconds"])
                    for r in rows
                    if (r["operation"], r["tool"], r["latency_ms"]) == (operation, tool, latency)
                )
                if points:
                    sizes = [n for n, _ in points]
                    axis.plot(sizes, [s / n for n, s in points], style, color=colour, label=f"{label}: {tool}")
        axis.set_title(f"API latency {latency} ms")
        axis.set_xlabel("hooks in the stack (N)")
        axis.set_ylabel("seconds per hook")
        axis.set_xscale("log")
        axis.set_ylim(bottom=0)
        axis.grid(alpha=0.3)
        axis.legend(fontsize="x-small", ncol=2)
    figure.suptitle("Seconds per hook by stack size (median): fleet solid, per-hook dotted, OpenTofu + restapi dashed")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)

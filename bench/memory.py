"""Peak memory and CPU time of the dynamic-provider processes, read from /proc while they run."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from types import TracebackType

TICKS = os.sysconf("SC_CLK_TCK")
PROVIDERS = (b"pulumi.dynamic", b"pulumi_webhooks.spare", b"pulumi-resource-webhooks")


class ProviderProcesses:
    """Samples every provider process of this package (`pulumi.dynamic`, one started ahead,
    `pulumi_webhooks.spare`, used or not, and the plugin `pulumi-resource-webhooks`): VmHWM (the
    kernel's own peak-RSS mark) and user+system CPU time, both as last seen before the process
    ended."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.peak_kib = 0
        self._cpu_ticks: dict[int, int] = {}
        self._older: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def cpu_seconds(self) -> float:
        return sum(self._cpu_ticks.values()) / TICKS

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            for proc in Path("/proc").iterdir():
                if proc.name.isdigit() and proc.name not in self._older:
                    self._sample(proc)

    def _sample(self, proc: Path) -> None:
        try:
            command = (proc / "cmdline").read_bytes()
            if not any(name in command for name in PROVIDERS):
                return
            stat = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            self._cpu_ticks[int(proc.name)] = int(stat[11]) + int(stat[12])  # utime, stime
            for line in (proc / "status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    self.peak_kib = max(self.peak_kib, int(line.split()[1]))
        except (OSError, IndexError, ValueError):  # the process ended between listing and reading
            pass

    def __enter__(self) -> ProviderProcesses:
        # Only processes started from now on: an older provider belongs to someone else.
        self._older = {p.name for p in Path("/proc").iterdir() if p.name.isdigit()}
        self._thread.start()
        return self

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()

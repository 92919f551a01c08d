"""Peak resident memory of the dynamic-provider processes, read from /proc while they run."""

from __future__ import annotations

import threading
from pathlib import Path
from types import TracebackType


class ProviderMemory:
    """Samples VmHWM (the kernel's own peak-RSS mark) of every `pulumi.dynamic` process."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            for proc in Path("/proc").iterdir():
                if proc.name.isdigit():
                    self._sample(proc)

    def _sample(self, proc: Path) -> None:
        try:
            if b"pulumi.dynamic" not in (proc / "cmdline").read_bytes():
                return
            for line in (proc / "status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    self.peak_kib = max(self.peak_kib, int(line.split()[1]))
        except OSError:  # the process ended between listing and reading
            pass

    def __enter__(self) -> ProviderMemory:
        self._thread.start()
        return self

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()

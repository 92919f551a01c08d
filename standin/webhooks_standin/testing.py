"""Run the local API server as a subprocess, for tests of any layer.

    with ServerProcess(tmp_path / "hooks.sqlite", ["--user", "alice:pw"]) as server:
        requests.get(f"{server.url}/healthz")

The server prints `listening on http://HOST:PORT` once it accepts connections;
this reads the URL from that line. Its stderr (the request log) goes to a file.
Every wait is bounded.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO

_PREFIX = "listening on "
# The directory that holds the webhooks_standin package, so the subprocess
# imports this very copy whatever the current directory.
_PACKAGE_ROOT = Path(__file__).resolve().parents[1]


class ServerStartError(RuntimeError):
    pass


class ServerProcess:
    def __init__(
        self,
        db_path: str | Path,
        args: Sequence[str] = (),
        log_path: str | Path | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.db_path = Path(db_path)
        self.args = list(args)
        self.log_path = Path(log_path) if log_path else self.db_path.with_suffix(".log")
        self.host = host
        self.url = ""
        self._process: subprocess.Popen[str] | None = None
        self._log: IO[str] | None = None

    @property
    def process(self) -> subprocess.Popen[str]:
        if self._process is None:
            raise RuntimeError("server not started")
        return self._process

    def start(self, timeout: float = 15.0) -> ServerProcess:
        command = [
            sys.executable,
            "-m",
            "webhooks_standin",
            "--host",
            self.host,
            "--port",
            "0",
            "--db",
            str(self.db_path),
            *self.args,
        ]
        # Append: a restart on the same db keeps one log of both runs.
        self._log = open(self.log_path, "a", encoding="utf-8")  # noqa: SIM115
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(_PACKAGE_ROOT), *filter(None, [env.get("PYTHONPATH")])])
        self._process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=self._log,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        line = self._first_line(self._process, timeout)
        if not line.startswith(_PREFIX):
            self.stop()
            raise ServerStartError(f"server did not start: {line!r}; log: {self.log_text()}")
        self.url = line[len(_PREFIX) :].strip()
        return self

    @staticmethod
    def _first_line(process: subprocess.Popen[str], timeout: float) -> str:
        # readline() has no timeout: read in a helper thread and wait on a queue.
        lines: queue.Queue[str] = queue.Queue()
        assert process.stdout is not None
        stdout = process.stdout
        threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
        try:
            return lines.get(timeout=timeout)
        except queue.Empty:
            return ""

    def stop(self, timeout: float = 5.0) -> int:
        """Send SIGTERM, wait (bounded), kill if needed; return the exit code."""
        process = self.process
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=timeout)
        if process.stdout is not None:
            process.stdout.close()
        if self._log is not None:
            self._log.close()
            self._log = None
        return process.returncode

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8") if self.log_path.exists() else ""

    def __enter__(self) -> ServerProcess:
        return self.start() if self._process is None else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

"""A stack of a Pulumi project, driven through the `pulumi` command on PATH.

The recovery step, `doctor --stack` and `drift --stack` read a stack's config and state
the way the CLI shows them, so that they work on any backend the CLI is logged in to.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..api.config import ConfigGetter
from ..errors import PulumiFailed, StackBusy

PULUMI_TIMEOUT = 600
BUSY_SIGNS = (
    "currently locked",  # a DIY backend's lock (a directory, PostgreSQL, a bucket)
    "[409] Conflict",  # Pulumi Cloud: "Another update is currently in progress."
    "Another update is currently in progress",
)


def _run(command: list[str], cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(command, cwd=cwd, input=stdin, capture_output=True, text=True, timeout=PULUMI_TIMEOUT)
    except FileNotFoundError:
        raise PulumiFailed("the `pulumi` command is not on PATH: install the Pulumi CLI first") from None
    except subprocess.TimeoutExpired:
        raise PulumiFailed(f"`{' '.join(command[:3])}` did not finish in {PULUMI_TIMEOUT} s") from None


@dataclass
class Stack:
    """One stack of the Pulumi project in `cwd`."""

    name: str
    cwd: Path = Path()

    def pulumi(self, *args: str, stdin: str | None = None) -> str:
        """The stdout of `pulumi ARGS --stack NAME`; `StackBusy` if it met a lock, `PulumiFailed` otherwise."""
        return self._pulumi([*args, "--stack", self.name], f"of stack {self.name}", stdin)

    def in_backend(self, *args: str) -> str:
        """The stdout of `pulumi ARGS` in the project's directory: a command of the stack's backend."""
        return self._pulumi(list(args), "in the backend")

    def is_named(self, listed: str) -> bool:
        """Whether `pulumi stack ls` names this stack by `listed` (short for the project's own stacks)."""
        return listed == self.name or ("/" not in listed and self.name.split("/")[1:] == [self.project(), listed])

    def _pulumi(self, command: list[str], what: str, stdin: str | None = None) -> str:
        done = _run(["pulumi", *command, "--non-interactive"], self.cwd, stdin)
        if done.returncode != 0:
            said = "\n".join((done.stderr.strip() or done.stdout.strip()).splitlines()[-6:])
            if any(sign in said for sign in BUSY_SIGNS):
                raise StackBusy(f"stack {self.name} was locked by another run meanwhile: {said}")
            raise PulumiFailed(f"`pulumi {' '.join(command[:2])}` {what} failed: {said}")
        return done.stdout

    def config(self) -> ConfigGetter:
        """The stack's config, secrets in clear, as the provider's `configure` receives it."""
        values = json.loads(self.pulumi("config", "--json", "--show-secrets"))
        return lambda key: (values.get(key) or {}).get("value")

    def lock_prefixes(self) -> list[str]:
        """Where this stack's locks are in its backend: organization/<project>/<stack> for
        project-scoped stacks, <stack> in the legacy layout."""
        parts = self.name.split("/")
        project = parts[1] if len(parts) == 3 else self.project()
        return [f".pulumi/locks/organization/{project}/{parts[-1]}/", f".pulumi/locks/{parts[-1]}/"]

    def project(self) -> str:
        for name in ("Pulumi.yaml", "Pulumi.yml"):
            path = self.cwd / name
            if path.is_file():
                return str((yaml.safe_load(path.read_text()) or {}).get("name", ""))
        raise PulumiFailed(f"no Pulumi.yaml in {self.cwd.resolve()}: run the step in the project's directory")

"""End-to-end fixtures: a throwaway Pulumi project driven by the real Pulumi CLI.

Each test gets a fresh local API server, a file backend and a passphrase
secrets provider in its own temporary directory, and runs `scripts/pulumi`
(the pinned CLI; Python programs run inline where the language host is missing).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support import PASSWORD, USER, Api, ApiFactory

REPO = Path(__file__).resolve().parents[2]
PULUMI = REPO / "scripts" / "pulumi"
STACK = "e2e"
PASSPHRASE = "e2e-passphrase-not-a-secret-of-interest"
COMMAND_TIMEOUT = 300


@pytest.fixture(scope="session", autouse=True)
def pulumi_cli() -> None:
    """Builds or finds the pinned CLI once (seconds when cached)."""
    subprocess.run([REPO / "scripts" / "install-pulumi"], check=True, capture_output=True, timeout=3000)


@dataclass
class Run:
    args: tuple[str, ...]
    returncode: int
    output: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


@dataclass
class Project:
    """A Pulumi project in a temporary directory, with its own stack and backend."""

    dir: Path
    api: Api
    env: dict[str, str]
    runs: list[Run] = field(default_factory=list)

    def program(self, source: str) -> None:
        header = (
            "import pulumi\n"
            "from pulumi_webhooks import AuthType, Webhook, WebhookProvider\n\n"
            "config = pulumi.Config()\n"
        )
        (self.dir / "__main__.py").write_text(header + textwrap.dedent(source))

    def pulumi(self, *args: str, check: bool = True, env: dict[str, str] | None = None) -> Run:
        completed = subprocess.run(
            [str(PULUMI), *args],
            cwd=self.dir,
            env={**self.env, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=COMMAND_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
        run = Run(args, completed.returncode, completed.stdout)
        self.runs.append(run)
        if check and not run.ok:
            raise AssertionError(f"pulumi {' '.join(args)} failed ({run.returncode}):\n{run.output}")
        return run

    def up(self, *args: str, check: bool = True) -> Run:
        return self.pulumi("up", "--yes", "--stack", STACK, *args, check=check)

    def preview(self, *args: str, check: bool = True) -> Run:
        return self.pulumi("preview", "--stack", STACK, *args, check=check)

    def refresh(self, *args: str, check: bool = True) -> Run:
        return self.pulumi("refresh", "--yes", "--stack", STACK, *args, check=check)

    def destroy(self, *args: str, check: bool = True) -> Run:
        return self.pulumi("destroy", "--yes", "--stack", STACK, *args, check=check)

    def config(self, key: str, value: str, secret: bool = False) -> None:
        self.pulumi("config", "set", key, value, "--stack", STACK, *(["--secret"] if secret else []))

    def export(self) -> dict[str, Any]:
        return json.loads(self.pulumi("stack", "export", "--stack", STACK).output)

    def webhook_states(self) -> dict[str, dict[str, Any]]:
        """Webhook resources in state, by resource name."""
        resources = self.export()["deployment"].get("resources", [])
        return {r["urn"].split("::")[-1]: r for r in resources if r["type"].endswith("webhooks:Webhook")}

    def all_output(self) -> str:
        return "\n".join(run.output for run in self.runs)


@pytest.fixture
def project(tmp_path: Path, start_api: ApiFactory) -> Project:
    """A fresh project with stack `e2e`, configured for a fresh local API server as alice."""
    api = start_api()
    work = tmp_path / "project"
    work.mkdir()
    (work / "Pulumi.yaml").write_text("name: e2e\nruntime: python\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBHOOKS_", "PULUMI_"))}
    env.update(
        PULUMI_HOME=str(tmp_path / "pulumi-home"),
        PULUMI_BACKEND_URL=f"file://{tmp_path / 'state'}",
        PULUMI_CONFIG_PASSPHRASE=PASSPHRASE,
        PULUMI_RUNTIME_VIRTUALENV=sys.prefix,
    )
    (tmp_path / "state").mkdir()
    project = Project(work, api, env)
    project.pulumi("stack", "init", STACK)
    project.config("webhooks:apiUrl", api.url)
    project.config("webhooks:apiUserName", USER)
    project.config("webhooks:apiPassword", PASSWORD, secret=True)
    return project

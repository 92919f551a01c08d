"""A throwaway Pulumi project driven by plain `pulumi`: the real CLI and its Python language host.

Used by the end-to-end tests and the benchmark: each project has its own
directory, file backend, passphrase secrets provider and stack, configured
for one local API server.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.api import PASSWORD, USER, Api
from harness.backends import Backend, file_backend

REPO = Path(__file__).resolve().parents[1]
STACK = "e2e"
PASSPHRASE = "e2e-passphrase-not-a-secret-of-interest"
COMMAND_TIMEOUT = 900


@functools.cache
def pulumi_bin() -> Path:
    """The directory of the pinned CLI and its language host (built once, then cached)."""
    installed = subprocess.run(
        [REPO / "scripts" / "install-pulumi"], check=True, capture_output=True, text=True, timeout=3000
    )
    return Path(installed.stdout.strip().splitlines()[-1])


def pulumi_command() -> str:
    return str(pulumi_bin() / "pulumi")


def project_yaml(name: str) -> str:
    """A Python project's Pulumi.yaml that runs its program in this test run's virtual environment."""
    return f"name: {name}\nruntime:\n  name: python\n  options:\n    toolchain: pip\n    virtualenv: {sys.prefix}\n"


@dataclass
class Run:
    args: tuple[str, ...]
    returncode: int
    output: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def run(*command: str | Path, cwd: Path, env: Mapping[str, str], check: bool = True) -> Run:
    """Runs a command to completion with stdout and stderr merged and no stdin; raises if it fails and `check`."""
    completed = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=COMMAND_TIMEOUT,
        stdin=subprocess.DEVNULL,
    )
    result = Run(tuple(str(part) for part in command), completed.returncode, completed.stdout)
    if check and not result.ok:
        raise AssertionError(f"{' '.join(result.args)} failed ({result.returncode}) in {cwd}:\n{result.output}")
    return result


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
        done = run(pulumi_command(), *args, cwd=self.dir, env={**self.env, **(env or {})}, check=False)
        done = Run(args, done.returncode, done.output)  # as the tests name it: by its pulumi arguments
        self.runs.append(done)
        if check and not done.ok:
            raise AssertionError(f"pulumi {' '.join(args)} failed ({done.returncode}):\n{done.output}")
        return done

    def up(self, *args: str, check: bool = True) -> Run:
        return self.pulumi("up", "--yes", "--stack", STACK, *args, check=check)

    def preview(self, *args: str, check: bool = True) -> Run:
        return self.pulumi("preview", "--stack", STACK, *args, check=check)

    def refresh(self, *args: str, check: bool = True) -> Run:
        return self.pulumi("refresh", "--yes", "--stack", STACK, *args, check=check)

    def destroy(self, *args: str, check: bool = True) -> Run:
        return self.pulumi("destroy", "--yes", "--stack", STACK, *args, check=check)

    def recover(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`pulumi-webhooks recover --stack e2e --json` as a pipeline runs it: in the project's
        directory, with only the CLI's environment (the API settings are in stack config)."""
        step = subprocess.run(
            [sys.executable, "-m", "pulumi_webhooks", "recover", "--stack", STACK, "--json", *args],
            cwd=self.dir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        self.runs.append(Run(("recover", *args), step.returncode, step.stdout + step.stderr))
        return step

    def recovered(self) -> dict[str, Any]:
        """The recovery step, which must succeed, and its JSON report."""
        step = self.recover()
        assert step.returncode == 0, step.stderr
        return dict(json.loads(step.stdout))

    def config(self, key: str, value: str, secret: bool = False) -> None:
        self.pulumi("config", "set", key, value, "--stack", STACK, *(["--secret"] if secret else []))

    def export(self) -> dict[str, Any]:
        return json.loads(self.pulumi("stack", "export", "--stack", STACK).output)

    def stack_outputs(self) -> dict[str, Any]:
        return json.loads(self.pulumi("stack", "output", "--json", "--stack", STACK).output)

    def hooks_in_state(self) -> dict[str, str]:
        """Every webhook the stack holds, by resource name (a fleet's: `fleet[team/name]`), to its id."""
        held = {}
        for resource in self.export()["deployment"].get("resources", []):
            name = resource["urn"].split("::")[-1]
            if resource["type"].endswith(("webhooks:Webhook", "webhooks:index:Webhook")) and resource.get("id"):
                held[name] = str(resource["id"])
            elif resource["type"].endswith(("webhooks:WebhookFleet", "webhooks:index:WebhookFleet")):
                ids = (resource.get("outputs") or {}).get("webhookIds") or {}
                held |= {f"{name}[{key}]": str(webhook_id) for key, webhook_id in ids.items()}
        return held

    def webhook_states(self) -> dict[str, dict[str, Any]]:
        """Webhook resources in state, by resource name."""
        resources = self.export()["deployment"].get("resources", [])
        return {r["urn"].split("::")[-1]: r for r in resources if r["type"].endswith("webhooks:Webhook")}

    def all_output(self) -> str:
        return "\n".join(run.output for run in self.runs)


def cli_env(root: Path, backend: Backend | None = None) -> dict[str, str]:
    """The environment of plain `pulumi` for a test: the pinned CLI and host first on PATH,
    offline, with PULUMI_HOME under `root`, `backend` (by default a file backend under `root`),
    a passphrase, and no inherited PULUMI_, WEBHOOKS_ or AWS_ settings."""
    backend = backend or file_backend(root / "state")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBHOOKS_", "PULUMI_", "AWS_"))}
    env.update(
        PATH=f"{pulumi_bin()}{os.pathsep}{env.get('PATH', '')}",
        PULUMI_SKIP_UPDATE_CHECK="true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="true",
        PULUMI_HOME=str(root / "pulumi-home"),
        PULUMI_BACKEND_URL=backend.url,
        PULUMI_CONFIG_PASSPHRASE=PASSPHRASE,
        **backend.env,
    )
    return env


def new_project(root: Path, api: Api, name: str = "e2e", backend: Backend | None = None) -> Project:
    """A project in `root`/project with stack `e2e` in `backend` (a file one by default),
    configured for `api` as alice."""
    work = root / "project"
    work.mkdir(parents=True)
    (work / "Pulumi.yaml").write_text(project_yaml(name))
    project = Project(work, api, cli_env(root, backend))
    project.pulumi("stack", "init", STACK)
    project.config("webhooks:apiUrl", api.url)
    project.config("webhooks:apiUserName", USER)
    project.config("webhooks:apiPassword", PASSWORD, secret=True)
    return project

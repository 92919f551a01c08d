"""The tools the benchmark times, each as users type it, on N webhooks of the local API stand-in.

- `PulumiTool`: plain `pulumi` (with its Python language host) on `bench/program.py`, as a
  `WebhookFleet` or as a `Webhook` per hook; or, as `plugin`, a YAML program of one
  `webhooks:index:WebhookFleet` through the provider plugin;
- `PeerTool`: OpenTofu with Mastercard's generic REST provider on `bench/opentofu/main.tf`, the
  tool a platform team would pick instead, when its binaries are given.

Each runs five operations: create, a no-change preview, update (every endpoint changed),
refresh, destroy. For each: seconds, the API calls the stand-in counted, and for Pulumi the
dynamic-provider processes' peak memory and CPU time.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import yaml

from bench.memory import ProviderProcesses
from harness.api import STATIC_TOKEN, Api
from harness.project import STACK, Project, new_project

PROGRAM = Path(__file__).with_name("program.py")
PEER_CONFIG = Path(__file__).with_name("opentofu") / "main.tf"
OPERATIONS = ("create", "preview", "update", "refresh", "destroy")


@dataclass
class Timing:
    """One operation of one tool in one run."""

    operation: str
    seconds: float
    calls: dict[str, int]
    peak_mib: float = 0.0
    provider_cpu: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


class PulumiTool:
    """`pulumi up --yes` (create, then update), `preview --expect-no-changes`, `refresh --yes` and
    `destroy --yes`: what a person types, the preview of `up` and `refresh` included."""

    COMMANDS: ClassVar[dict[str, tuple[str, ...]]] = {
        "create": ("up", "--yes"),
        "preview": ("preview", "--expect-no-changes"),
        "update": ("up", "--yes"),
        "refresh": ("refresh", "--yes"),
        "destroy": ("destroy", "--yes"),
    }

    def __init__(
        self, name: str, program: str, root: Path, api: Api, count: int, env: dict[str, str], config: dict[str, str]
    ) -> None:
        self.name = name
        self.api = api
        self.count = count
        self.project: Project = new_project(root, api, name="bench")
        self.project.env.update(env)
        if program == "plugin":
            (self.project.dir / "Pulumi.yaml").write_text(plugin_program(count))
        else:
            (self.project.dir / "__main__.py").write_text(PROGRAM.read_text())
        for key, value in {"count": str(count), "program": program, **config}.items():
            self.project.config(key, value)
        self.project.config("hookToken", "bench-token", secret=True)
        # A static API token, as the peer has: no login in either tool's time.
        self.project.pulumi("config", "rm", "webhooks:apiUserName", "--stack", STACK)
        self.project.pulumi("config", "rm", "webhooks:apiPassword", "--stack", STACK)
        self.project.config("webhooks:apiToken", STATIC_TOKEN, secret=True)

    def run(self, operation: str) -> Timing:
        if operation == "update":
            self.project.config("suffix", "v2")
        self.api.post("/_admin/reset-stats")
        with ProviderProcesses() as provider:
            started = time.perf_counter()
            self.project.pulumi(*self.COMMANDS[operation], "--stack", STACK)
            seconds = time.perf_counter() - started
        timing = Timing(operation, seconds, calls(self.api), provider.peak_kib / 1024, provider.cpu_seconds)
        if operation == "create":
            timing.extra = state_sizes(self.project.pulumi("stack", "export", "--stack", STACK).output, self.count)
        return timing


def plugin_program(count: int) -> str:
    """The `plugin` program: bench/program.py's fleet, in YAML, through the provider plugin (the
    `pulumi-resource-webhooks` of this run's virtualenv)."""
    keys = [f"bench/hook-{i:04d}" for i in range(count)]
    endpoint = "https://bench.example.com/${suffix}/"  # the stack's config `suffix`, read by YAML
    hooks = {key: {"endpoint": f"{endpoint}{i}", "authType": "bearer"} for i, key in enumerate(keys)}
    fleet = {"hooks": hooks, "secrets": {key: {"token": "${hookToken}"} for key in keys}}
    program = {
        "name": "bench",
        "runtime": "yaml",
        "plugins": {"providers": [{"name": "webhooks", "path": str(Path(sys.executable).parent)}]},
        "config": {"suffix": {"type": "string", "default": "v1"}, "hookToken": {"type": "string", "secret": True}},
        "resources": {"fleet": {"type": "webhooks:index:WebhookFleet", "properties": fleet}} if count else {},
    }
    return yaml.safe_dump(program, sort_keys=False)


class PeerTool:
    """`tofu apply -auto-approve` (create, then update), `plan -detailed-exitcode`, `apply
    -refresh-only -auto-approve` and `destroy -auto-approve`, with the provider binary given
    through dev_overrides (no `tofu init`, no registry)."""

    COMMANDS: ClassVar[dict[str, tuple[str, ...]]] = {
        "create": ("apply", "-auto-approve"),
        "preview": ("plan", "-detailed-exitcode"),
        "update": ("apply", "-auto-approve"),
        "refresh": ("apply", "-refresh-only", "-auto-approve"),
        "destroy": ("destroy", "-auto-approve"),
    }

    def __init__(
        self,
        tofu: Path,
        restapi: Path,
        root: Path,
        api: Api,
        count: int,
        variables: dict[str, str] | None = None,
        parallelism: int | None = None,
        refresh: bool = True,
    ) -> None:
        """`variables` set main.tf's configuration choices (its defaults: the fastest that plans right);
        `parallelism`, tofu's `-parallelism` (None: tofu's default, 10); `refresh=False`, plan,
        update and destroy with `-refresh=false` (no read of each object first: as `pulumi up` and
        `preview` do unless given `--refresh`)."""
        self.name = "OpenTofu + restapi"
        self.tofu = tofu
        self.flags = [f"-var={key}={value}" for key, value in (variables or {}).items()]
        if parallelism:
            self.flags.append(f"-parallelism={parallelism}")
        self.refresh = refresh
        self.output = ""
        self.api = api
        self.dir = root / "peer"
        self.dir.mkdir(parents=True)
        shutil.copy2(PEER_CONFIG, self.dir / "main.tf")
        cli_config = self.dir / "tofurc"
        provider_dir = restapi.resolve().parent
        cli_config.write_text(
            f'provider_installation {{\n  dev_overrides {{\n    "Mastercard/restapi" = "{provider_dir}"\n  }}\n'
            "  direct {}\n}\n"
        )
        self.env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(self.dir),
            "TF_CLI_CONFIG_FILE": str(cli_config),
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "TF_VAR_api_url": api.url,
            "TF_VAR_api_token": STATIC_TOKEN,
            "TF_VAR_n": str(count),
        }
        self.suffix = "v1"

    def run(self, operation: str) -> Timing:
        if operation == "update":
            self.suffix = "v2"
        self.api.post("/_admin/reset-stats")
        started = time.perf_counter()
        done = subprocess.run(
            [str(self.tofu), *self.COMMANDS[operation], "-no-color", f"-var=suffix={self.suffix}", *self.flags]
            + ([] if self.refresh or operation == "refresh" else ["-refresh=false"]),
            cwd=self.dir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=3600,
        )
        seconds = time.perf_counter() - started
        self.output = done.stdout + done.stderr
        if done.returncode != 0:
            raise RuntimeError(
                f"tofu {operation} failed ({done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
            )
        return Timing(operation, seconds, calls(self.api))


def calls(api: Api) -> dict[str, int]:
    return {route: n for route, n in api.stats()["requests"].items() if n}


def state_sizes(export: str, count: int) -> dict[str, Any]:
    """Bytes of state per hook (compact JSON): the resources that hold webhooks, divided by N."""
    resources = json.loads(export)["deployment"]["resources"]
    holders = [r for r in resources if "__provider" in r.get("inputs", {})]
    if not holders or not count:
        return {}
    compact = sum(len(json.dumps(r, separators=(",", ":")).encode()) for r in holders)
    return {
        "state_bytes_per_hook": round(compact / count),
        "export_bytes_per_hook": round(len(export.encode()) / count),
    }

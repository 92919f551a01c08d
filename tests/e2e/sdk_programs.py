"""What the TypeScript and Go examples share: a driver on the Automation API that deploys the
program of `examples/<language>` to stack `dev` and prints a JSON summary, and the scenario both
languages must pass against a local API."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.api import PASSWORD, USER, Api
from harness.project import cli_env, run
from tests.leaks import leaks


@dataclass
class Driver:
    """A built example (`command` runs its driver), and the directory and environment of its stack `dev`."""

    command: list[str]
    project: Path
    env: dict[str, str]
    said: list[str]

    def __call__(self, operation: str) -> dict[str, Any]:
        """The driver's `operation` (up, preview, refresh, destroy): its summary, as JSON on stdout."""
        done = subprocess.run(
            [*self.command, operation], cwd=self.project, env=self.env, capture_output=True, text=True, timeout=600
        )
        self.said.append(done.stdout + done.stderr)
        assert done.returncode == 0, f"{operation} failed:\n{done.stderr}"
        return dict(json.loads(done.stdout))

    def pulumi(self, *args: str) -> str:
        return run("pulumi", *args, "--stack", "dev", cwd=self.project, env=self.env).output


def new_driver(command: list[str], name: str, runtime: str, tmp_path: Path, api: Api, token: str) -> Driver:
    """A stack `dev` of project `name` for the example run by `command`, configured for `api` and
    the hooks' `token`."""
    project = tmp_path / "project"
    project.mkdir()
    env = cli_env(tmp_path) | {
        "WEBHOOKS_PROJECT_DIR": str(project),
        "WEBHOOKS_PLUGIN_DIR": str(Path(sys.executable).parent),
    }
    (project / "Pulumi.yaml").write_text(f"name: {name}\nruntime: {runtime}\n")
    driver = Driver(command, project, env, [])
    run("pulumi", "stack", "init", "dev", cwd=project, env=env)
    driver.pulumi("config", "set", "webhooks:apiUrl", api.url)
    driver.pulumi("config", "set", "webhooks:apiUserName", USER)
    driver.pulumi("config", "set", "--secret", "webhooks:apiPassword", PASSWORD)
    driver.pulumi("config", "set", "--secret", "hookToken", token)
    return driver


def writes(api: Api) -> dict[str, int]:
    stats = api.stats()["requests"]
    return {route: n for route, n in stats.items() if "/webhooks" in route and not route.startswith("GET") and n}


def creates_updates_imports_refreshes_and_destroys(driver: Driver, api: Api, token: str) -> None:
    """The example's life: a Webhook and a two-hook WebhookFleet made, one endpoint version later
    two updates, a webhook made outside taken over by id with no write, an out-of-band change found
    by refresh and undone by up, all destroyed, and no secret in state or output."""
    up = driver("up")
    assert up["changes"] == {"create": 3}
    assert sorted(h["endpoint"] for h in api.webhooks()) == [
        "https://growth.example.com/signups",
        "https://ops.example.com/v1/alerts",
        "https://ops.example.com/v1/pager",
    ]
    assert sorted(up["outputs"]["teamIds"]["value"]) == ["growth/signups", "ops/pager"]
    assert driver("preview")["changes"] == {"same": 3}

    driver.pulumi("config", "set", "endpointVersion", "v2")
    api.post("/_admin/reset-stats")
    assert driver("up")["changes"] == {"same": 1, "update": 2}
    assert writes(api) == {"PUT /webhooks/<id>": 2}

    legacy = api.post("/webhooks", {"endpoint": "https://legacy.example.com/hook", "authType": "none"}).json()
    driver.pulumi("config", "set", "legacyId", str(legacy["webhookId"]))
    api.post("/_admin/reset-stats")
    imported = driver("up")
    assert imported["changes"] == {"import": 1, "same": 3}
    assert imported["outputs"]["legacyId"]["value"] == str(legacy["webhookId"]) and writes(api) == {}

    api.put(
        f"/webhooks/{up['outputs']['alertsId']['value']}",
        {"endpoint": "https://evil.example.com/x", "authType": "none"},
    )
    assert driver("refresh")["changes"] == {"same": 3, "update": 1}
    assert driver("up")["changes"] == {"same": 3, "update": 1}
    assert "https://evil.example.com/x" not in {h["endpoint"] for h in api.webhooks()}

    assert driver("destroy")["changes"] == {"delete": 4}
    assert api.webhooks() == []
    state = driver.pulumi("stack", "export")
    assert not leaks({"state": state, "output": "\n".join(driver.said)}, [token, PASSWORD])

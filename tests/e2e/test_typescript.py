"""A TypeScript program through the `webhooks` plugin: its SDK generated from the schema
(scripts/gen-sdk), the SDK and examples/typescript type-checked with `tsc`, and the program
deployed with the Automation API (an inline program: no Node.js language host) against a local API.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness.api import PASSWORD, USER, Api
from harness.project import REPO, cli_env, run
from tests import docs
from tests.leaks import leaks

TOKEN = "ts-T0ken-secret-1"


@dataclass
class Driver:
    """examples/typescript, built, and the directory and environment of its stack `dev`."""

    built: Path
    project: Path
    env: dict[str, str]
    said: list[str]

    def __call__(self, command: str) -> dict[str, Any]:
        """The driver's `command`: what it printed (its summary, as JSON) on stdout."""
        done = subprocess.run(
            ["node", self.built / "bin" / "index.js", command],
            cwd=self.project,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        self.said.append(done.stdout + done.stderr)
        assert done.returncode == 0, f"{command} failed:\n{done.stderr}"
        return dict(json.loads(done.stdout))

    def pulumi(self, *args: str) -> str:
        return run("pulumi", *args, "--stack", "dev", cwd=self.project, env=self.env).output


@pytest.fixture(scope="module")
def typescript(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """examples/typescript, copied, built as docs/languages.md says: the SDK generated into it, and
    both compiled by `tsc` (which type-checks them)."""
    if shutil.which("npm") is None or shutil.which("node") is None:
        pytest.fail("Node.js and npm are needed: install them (.ci/run does)")
    built = tmp_path_factory.mktemp("typescript") / "example"
    shutil.copytree(
        REPO / "examples" / "typescript", built, ignore=shutil.ignore_patterns("node_modules", "bin", "sdk")
    )
    [block] = docs.run_by("test_a_typescript_program_creates_updates_imports_refreshes_and_destroys")
    script = block.text.replace("examples/typescript", str(built))
    run("bash", "-euo", "pipefail", "-c", script, cwd=REPO, env=cli_env(built.parent))
    assert (built / "bin" / "index.js").exists() and (built / "node_modules" / "@pulumi-webhooks" / "webhooks").exists()
    return built


@pytest.fixture
def driver(typescript: Path, tmp_path: Path, api: Api) -> Driver:
    project = tmp_path / "project"
    project.mkdir()
    env = cli_env(tmp_path) | {
        "WEBHOOKS_PROJECT_DIR": str(project),
        "WEBHOOKS_PLUGIN_DIR": str(Path(sys.executable).parent),
    }
    (project / "Pulumi.yaml").write_text("name: webhooks-typescript\nruntime: nodejs\n")
    ts = Driver(typescript, project, env, [])
    run("pulumi", "stack", "init", "dev", cwd=project, env=env)
    ts.pulumi("config", "set", "webhooks:apiUrl", api.url)
    ts.pulumi("config", "set", "webhooks:apiUserName", USER)
    ts.pulumi("config", "set", "--secret", "webhooks:apiPassword", PASSWORD)
    ts.pulumi("config", "set", "--secret", "hookToken", TOKEN)
    return ts


def writes(api: Api) -> dict[str, int]:
    stats = api.stats()["requests"]
    return {route: n for route, n in stats.items() if "/webhooks" in route and not route.startswith("GET") and n}


@pytest.mark.timeout(900)
def test_a_typescript_program_creates_updates_imports_refreshes_and_destroys(driver: Driver, api: Api) -> None:
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
    assert not leaks({"state": state, "output": "\n".join(driver.said)}, [TOKEN, PASSWORD])

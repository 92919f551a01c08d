"""The guide's programs and shell recipes (README.md and docs/), run as written under the real CLI.

Each ```python block is a complete program, deployed with plain `pulumi up` against a local API
server; the one the guide shows failing must fail its preview with the output it shows. Each
```sh block names the test here that runs it (tests/docs.py says how blocks are found).
"""

from __future__ import annotations

import os
import re
import signal
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.api import PASSWORD, STATIC_TOKEN, USER, Api
from harness.backends import BACKEND_SECRETS, Backend, PostgresServer
from harness.interrupt import interrupt_up
from harness.project import STACK, cli_env, new_project, pulumi_command, run
from tests import docs
from tests.support import ApiFactory
from webhooks_standin.testing import ServerProcess

DEPLOYED = [block for block in docs.programs() if block.marker != docs.PREVIEW_FAILS]
FAILING = [block for block in docs.programs() if block.marker == docs.PREVIEW_FAILS]
SECRET_MARK = "docs-S3cret"


def test_the_guide_shows_programs_of_every_kind() -> None:
    assert len(DEPLOYED) >= 5 and FAILING, "the first program, the resource, adoption, connections, the fleet"


@pytest.mark.parametrize("block", DEPLOYED, ids=lambda block: block.where)
def test_each_program_of_the_guide_deploys_as_written(block: docs.Block, tmp_path: Path, start_api: ApiFactory) -> None:
    api = start_api()
    project = new_project(tmp_path, api)
    (project.dir / "__main__.py").write_text(block.text)
    secrets = re.findall(r'require_secret\("([^"]+)"\)', block.text)
    endpoints = re.findall(r'endpoint="([^"]+)"', block.text)
    catalog = docs.catalog_beside(block)
    if catalog is not None:
        (project.dir / "catalog.yaml").write_text(catalog.text)
        secrets += re.findall(r"_secret: (\w+)", catalog.text)
        endpoints += re.findall(r"endpoint: (\S+)", catalog.text)
    for key in secrets:
        project.config(key, f"{key}-{SECRET_MARK}", secret=True)
    for connection in re.findall(r'WebhookProvider\("(\w+)"\)', block.text):
        project.config(f"webhooks:{connection}.apiUrl", api.url)
        project.config(f"webhooks:{connection}.apiToken", STATIC_TOKEN, secret=True)
    adopted = re.findall(r'adopt_id="(\d+)"', block.text)
    others = 0
    for webhook_id in adopted:  # the webhook to adopt exists beforehand, among others
        while int(webhook_id) > others:
            others += 1
            api.post("/webhooks", {"endpoint": f"https://existing.example.com/{others}", "authType": "none"})
    project.up()
    listed = Counter(hook["endpoint"] for hook in api.webhooks())
    assert listed - Counter(f"https://existing.example.com/{n}" for n in range(1, others + 1)) == Counter(endpoints)
    for webhook_id in adopted:
        adopted_hook = next(hook for hook in api.webhooks() if str(hook["webhookId"]) == webhook_id)
        assert adopted_hook["endpoint"] in endpoints, "adopted, and given the program's values"
    assert SECRET_MARK not in project.all_output()


@pytest.mark.parametrize("block", FAILING, ids=lambda block: block.where)
def test_a_failing_program_of_the_guide_prints_what_the_guide_shows(
    block: docs.Block, tmp_path: Path, start_api: ApiFactory
) -> None:
    api = start_api()
    project = new_project(tmp_path, api, name="hooks")
    (project.dir / "__main__.py").write_text(block.text)
    for key in re.findall(r'require_secret\("([^"]+)"\)', block.text):
        project.config(key, f"{key}-{SECRET_MARK}", secret=True)
    preview = project.preview(check=False)
    assert not preview.ok
    shown = docs.output_below(block)
    assert shown is not None, f"{block.where}: the output follows the program"
    for line in shown.text.splitlines():
        wanted = line.replace("(hooks-dev)", f"(hooks-{STACK})").strip()
        assert wanted in preview.output, f"{shown.where}: the CLI did not print {wanted!r}:\n{preview.output}"
    assert api.stats()["requests"] == {}, "nothing was sent to the API"
    assert SECRET_MARK not in preview.output


def recipe(test: str) -> str:
    [block] = docs.run_by(test)
    return block.text


@dataclass
class OwnProject:
    """The README's own project, made by its recipe, and the API it deploys to."""

    dir: Path
    api: Api
    env: dict[str, str]
    output: str


@pytest.fixture(scope="module")
def own_project(tmp_path_factory: pytest.TempPathFactory, dist_dir: Path) -> Iterator[OwnProject]:
    """The README's recipe run as written by bash in a shell with nothing of Pulumi's or pip's set
    (a reader's HOME of its own), its placeholders filled in: the API's URL, the secrets, the
    passphrase and the directory of the built wheel."""
    root = tmp_path_factory.mktemp("own-project")
    process = ServerProcess(root / "api.sqlite", ["--api-token", f"{USER}={STATIC_TOKEN}"]).start()
    try:
        api = Api(process)
        script = recipe("test_the_own_project_recipe_runs_as_written")
        script = script.replace("https://api.example.com", api.url)
        script = script.replace("webhooks:apiToken ...", f"webhooks:apiToken {STATIC_TOKEN}")
        script = script.replace("hookToken ...", f"hookToken hook-{SECRET_MARK}")
        script = script.replace("PULUMI_CONFIG_PASSPHRASE=...", "PULUMI_CONFIG_PASSPHRASE=docs-passphrase")
        script = script.replace("PIP_FIND_LINKS=~/wheels", f"PIP_FIND_LINKS={dist_dir}")
        assert "..." not in script.split("#")[0], "every placeholder is filled in"
        home = root / "home"
        home.mkdir()
        # What a reader's shell has: a home (with the CLI's in it), and the CLI on PATH; no backend,
        # passphrase or index settings.
        env = {
            "HOME": str(home),
            "PULUMI_HOME": str(home / ".pulumi"),
            "PATH": cli_env(root)["PATH"],
        }
        ran = run("bash", "-euo", "pipefail", "-c", script, cwd=root, env=env)
        yield OwnProject(root / "hooks", api, env, ran.output)
    finally:
        process.stop()


@pytest.mark.timeout(900)
def test_the_own_project_recipe_runs_as_written(own_project: OwnProject) -> None:
    assert [hook["endpoint"] for hook in own_project.api.webhooks()] == ["https://ops.example.com/hook"]
    assert (own_project.dir / "venv" / "bin" / "pulumi-webhooks").exists(), "pulumi install made the venv"
    assert SECRET_MARK not in own_project.output and STATIC_TOKEN not in own_project.output


@pytest.mark.timeout(900)
def test_the_pipeline_job_runs_as_written(
    own_project: OwnProject, start_api: ApiFactory, backend: Backend, dist_dir: Path
) -> None:
    """The CD job on a stack `prod` of the same project, in its own API account, with its state in
    each backend a team uses: a no-op recovery step, then preview and up."""
    prod_api = start_api()
    env = {
        **cli_env(own_project.dir.parent / f"prod-{backend.kind}", backend),
        "PIP_FIND_LINKS": str(dist_dir),
    }
    env["PULUMI_CONFIG_PASSPHRASE"] = "prod-passphrase"
    cwd = own_project.dir
    if backend.kind != "file":  # the step reads PostgreSQL and S3 backends with the extra's library
        (cwd / "requirements.txt").write_text(f"pulumi-webhooks[{backend.kind}]>=0.2,<0.3\n")
    pulumi = pulumi_command()
    run(pulumi, "stack", "init", "prod", cwd=cwd, env=env)
    run(pulumi, "config", "set", "webhooks:apiUrl", prod_api.url, "--stack", "prod", cwd=cwd, env=env)
    for key, value in (("webhooks:apiToken", STATIC_TOKEN), ("hookToken", f"prod-{SECRET_MARK}")):
        run(pulumi, "config", "set", "--secret", key, value, "--stack", "prod", cwd=cwd, env=env)
    script = recipe("test_the_pipeline_job_runs_as_written")
    script = script.replace("PULUMI_CONFIG_PASSPHRASE=...", "PULUMI_CONFIG_PASSPHRASE=prod-passphrase")
    script = script.replace("PULUMI_BACKEND_URL=...", f"PULUMI_BACKEND_URL='{backend.url}'")
    job = run("bash", "-euo", "pipefail", "-c", script, cwd=cwd, env=env)
    assert "nothing to recover" in job.output
    assert [hook["endpoint"] for hook in prod_api.webhooks()] == ["https://ops.example.com/hook"]
    assert SECRET_MARK not in job.output
    assert not [secret for secret in BACKEND_SECRETS if secret in job.output], "no backend password shown"
    run(pulumi, "stack", "rm", "--yes", "--force", "prod", cwd=cwd, env=env)  # the next backend's `prod`


@pytest.mark.timeout(600)
def test_the_automation_api_example_runs_as_written(
    tmp_path: Path, start_api: ApiFactory, postgres_server: PostgresServer
) -> None:
    """The service of docs/pipelines.md, run by a Python whose virtual environment is not on PATH,
    over the catalog of docs/fleets.md, with its state in PostgreSQL."""
    [script] = docs.run_by("test_the_automation_api_example_runs_as_written")
    [catalog] = [b for b in docs.blocks((docs.REPO / "docs" / "fleets.md",)) if b.language == "yaml"]
    (tmp_path / "catalog.yaml").write_text(catalog.text)
    (tmp_path / "service.py").write_text(script.text)
    api = start_api()
    backend = postgres_server.backend()
    env = {k: v for k, v in cli_env(tmp_path, backend).items() if k != "VIRTUAL_ENV"}
    env["PATH"] = os.pathsep.join([str(Path(pulumi_command()).parent), "/usr/bin", "/bin"])
    env |= {"WEBHOOKS_API_URL": api.url, "WEBHOOKS_API_TOKEN": STATIC_TOKEN, "PAYMENTS_HOOK_TOKEN": f"p-{SECRET_MARK}"}
    ran = run(sys.executable, "service.py", cwd=tmp_path, env=env)
    assert "{'payments': 'succeeded'}" in ran.output, ran.output
    assert sorted(h["endpoint"] for h in api.webhooks()) == [
        "https://payments.example.com/hooks/refunds",
        "https://payments.example.com/hooks/settlement",
    ]
    assert SECRET_MARK not in ran.output


def test_the_manual_recovery_runs_as_written_after_a_kill(tmp_path: Path, start_api: ApiFactory) -> None:
    """A SIGKILLed `up` of 30 hooks, then the guide's manual form, then the API holds each hook once."""
    api = start_api("--latency-ms", "100")
    project = new_project(tmp_path, api)
    project.program(
        "for i in range(30):\n"
        '    Webhook(f"hook-{i}", endpoint=f"https://ops.example.com/manual/{i}", auth_type="none")\n'
    )
    interrupt_up(project, signal.SIGKILL, after_hooks=10)
    # docs/pipelines.md, torn metadata: a kill that lands while the file backend rewrites the
    # state's `.attrs` sidecar leaves it empty; by hand, it is deleted before the step.
    for sidecar in (tmp_path / "state").rglob("*.json.attrs"):
        if sidecar.stat().st_size == 0:
            sidecar.unlink()
    env = {
        **project.env,
        "PATH": f"{Path(sys.executable).parent}:{project.env['PATH']}",  # pulumi-webhooks, as installed
        "WEBHOOKS_API_URL": api.url,
        "WEBHOOKS_API_USERNAME": USER,
        "WEBHOOKS_API_PASSWORD": PASSWORD,
    }
    run(
        "bash",
        "-euo",
        "pipefail",
        "-c",
        recipe("test_the_manual_recovery_runs_as_written_after_a_kill"),
        cwd=project.dir,
        env=env,
    )
    listed = Counter(hook["endpoint"] for hook in api.webhooks())
    assert listed == Counter(f"https://ops.example.com/manual/{i}" for i in range(30)), "each once"

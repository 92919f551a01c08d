"""The examples as users meet them: standard Pulumi Python projects run by plain `pulumi`.

These tests use the real CLI and its Python language host against a local API server. They
pin what the Pulumi docs promise for a Python project with `toolchain: pip` and
`virtualenv: venv`: `pulumi install` makes the project's own virtual environment from its
requirements.txt, and every example's Pulumi.yaml works where it stands in the repository.
They also pin that the package asks the engine for no `webhooks` resource plugin.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import zipfile
from collections.abc import Mapping
from pathlib import Path

import pytest
import yaml

from harness.api import PASSWORD, USER, Api
from harness.project import REPO, STACK, Project, Run, cli_env, pulumi_command, run
from pulumi_webhooks import __version__
from tests.support import ApiFactory

EXAMPLES = REPO / "examples"
QUICKSTART_FILES = ("Pulumi.yaml", "requirements.txt", "__main__.py")
QUICKSTART_ENDPOINTS = {
    "https://status.example.com/hooks/deploys",
    "https://ops.example.com/hooks/incoming",
    "https://alerts.example.com/hooks/pager",
}
QUICKSTART_HOOKS = ("status-page", "ops-basic", "alerts")
WEBHOOK_TYPE = "pulumi-python:dynamic/webhooks:Webhook"


def pulumi(cwd: Path, env: Mapping[str, str], *args: str, check: bool = True) -> Run:
    return run(pulumi_command(), *args, cwd=cwd, env=env, check=check)


def pulumi_env(root: Path, **extra: str) -> dict[str, str]:
    """harness.project's CLI environment, less PYTHONPATH and VIRTUAL_ENV, so no Python run by the
    CLI sees the source tree."""
    env = {k: v for k, v in cli_env(root).items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return {**env, **extra}


def configure_quickstart(cwd: Path, env: Mapping[str, str], api: Api, *config_file: str) -> None:
    """Sets the quickstart's connection to `api` and its two secrets (`config_file`: extra flags)."""
    settings = [
        ("webhooks:apiUrl", api.url, False),
        ("webhooks:apiUserName", USER, False),
        ("webhooks:apiPassword", PASSWORD, True),
        ("opsPassword", "ops-Passw0rd-e2e-5d1f", True),
        ("alertsToken", "alerts-T0ken-e2e-7c2e", True),
    ]
    for key, value, secret in settings:
        pulumi(cwd, env, "config", "set", key, value, "--stack", STACK, *config_file, *(["--secret"] if secret else []))


def webhooks_shown(output: str, operation: str) -> list[str]:
    """Names of the Webhooks the CLI's progress display shows with `operation`, from lines such as
    ` +  pulumi-python:dynamic/webhooks:Webhook alerts create` (verbose log lines are JSON)."""
    rows = (line.split() for line in output.splitlines())
    return sorted(row[2] for row in rows if len(row) > 3 and row[:2] == ["+", WEBHOOK_TYPE] and operation in row[3:])


def test_the_wheel_holds_the_package_its_data_license_and_console_script(dist_dir: Path) -> None:
    """What `pip install pulumi-webhooks` gets: the code with py.typed and pulumi-plugin.json,
    the license, PEP 639 metadata, the `pulumi-webhooks` command, and nothing of the repository."""
    with zipfile.ZipFile(next(dist_dir.glob("*.whl"))) as wheel:
        names = set(wheel.namelist())
        info = f"pulumi_webhooks-{__version__}.dist-info"
        metadata = wheel.read(f"{info}/METADATA").decode()
        entry_points = wheel.read(f"{info}/entry_points.txt").decode()
    assert {"pulumi_webhooks/py.typed", "pulumi_webhooks/pulumi-plugin.json", f"{info}/licenses/LICENSE"} <= names
    assert not {n.split("/")[0] for n in names} - {"pulumi_webhooks", info}, "only the package and its metadata"
    # The API stand-in (its own distribution, standin/) and the dev harness stay out of users' installs.
    dev_only = [n for n in names if {"webhooks_standin", "harness", "server"} & set(n.removesuffix(".py").split("/"))]
    assert not dev_only, f"no webhooks_standin, harness or server module: {dev_only}"
    assert "Provides-Extra: server" not in metadata, "the stand-in is a distribution of its own, not an extra"
    assert "License-Expression: Apache-2.0" in metadata and "Classifier: Typing :: Typed" in metadata
    assert "pulumi-webhooks = pulumi_webhooks.cli.main:main" in entry_points


ROOT_PROJECT_FILES = ("Pulumi.yaml", "__main__.py", "requirements.txt", "examples/quickstart/__main__.py")


def test_the_root_project_previews_and_deploys_with_plain_pulumi_and_the_official_launcher(
    tmp_path: Path, start_api: ApiFactory
) -> None:
    """`pulumi preview` and `pulumi up` where the repository's Pulumi.yaml is, as a person types them:
    no PULUMI_BACKEND_URL (Pulumi.yaml names the local state), no virtual environment on PATH. The
    program runs in `.venv` (the language host resolves it from Pulumi.yaml's directory) and so must
    the SDK's launcher of dynamic providers (from the program's directory): were they to differ, the
    launcher would run a `python3` without Pulumi and `up` would fail with No module named 'pulumi'."""
    root = tmp_path / "clone"
    for name in ROOT_PROJECT_FILES:  # the root project is these files, and the repository's .venv
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, root / name)
    (root / ".venv").symlink_to(sys.prefix)
    (root / ".state" / "pulumi").mkdir(parents=True)
    api = start_api()
    env = {k: v for k, v in pulumi_env(tmp_path).items() if k != "PULUMI_BACKEND_URL"}
    env["PATH"] = os.pathsep.join([str(Path(pulumi_command()).parent), "/usr/bin", "/bin"])
    no_pulumi = run("python3", "-c", "import pulumi", cwd=root, env=env, check=False)
    assert not no_pulumi.ok, "the python3 on PATH has no Pulumi SDK, so only .venv's can run the provider"

    pulumi(root, env, "stack", "init", STACK)
    configure_quickstart(root, env, api)
    preview = pulumi(root, env, "preview", "--stack", STACK)
    assert webhooks_shown(preview.output, "create") == sorted(QUICKSTART_HOOKS), preview.output
    up = pulumi(root, env, "up", "--yes", "--stack", STACK)
    assert webhooks_shown(up.output, "created") == sorted(QUICKSTART_HOOKS), up.output
    assert {hook["endpoint"] for hook in api.webhooks()} == QUICKSTART_ENDPOINTS
    assert list((root / ".state" / "pulumi" / ".pulumi" / "stacks").rglob(f"{STACK}.json")), (
        "state where Pulumi.yaml says"
    )
    pulumi(root, env, "preview", "--expect-no-changes", "--stack", STACK)
    pulumi(root, env, "destroy", "--yes", "--stack", STACK)
    assert api.webhooks() == []


@pytest.mark.timeout(900)
def test_a_copied_example_installs_and_deploys_as_the_pulumi_docs_describe(
    tmp_path: Path, start_api: ApiFactory, dist_dir: Path
) -> None:
    """A copy of examples/quickstart is a standard project: `pulumi install` makes its own
    venv from requirements.txt (with pulumi-webhooks from the built wheel, not this source
    tree), then stack init, config, up, a no-change preview and destroy work against the API,
    and the installed `pulumi-webhooks` command lists what up created."""
    api = start_api()
    project = tmp_path / "quickstart"
    project.mkdir()
    for name in QUICKSTART_FILES:
        shutil.copy2(EXAMPLES / "quickstart" / name, project / name)
    find_links = " ".join(filter(None, [str(dist_dir), os.environ.get("PIP_FIND_LINKS", "")]))
    env = pulumi_env(tmp_path, PIP_FIND_LINKS=find_links)

    pulumi(project, env, "install")
    venv = project / "venv"
    assert venv.is_dir() and not venv.is_symlink(), "pulumi install made the project's own venv"
    imported = run(
        venv / "bin" / "python", "-c", "import pulumi_webhooks; print(pulumi_webhooks.__file__)", cwd=project, env=env
    )
    location = Path(imported.output.strip().splitlines()[-1]).resolve()
    assert location.is_relative_to(venv.resolve()), f"pulumi_webhooks imported from {location}"

    pulumi(project, env, "stack", "init", STACK)
    configure_quickstart(project, env, api)
    up = pulumi(project, env, "up", "--yes", "--stack", STACK)
    assert webhooks_shown(up.output, "created") == sorted(QUICKSTART_HOOKS), up.output
    assert {hook["endpoint"] for hook in api.webhooks()} == QUICKSTART_ENDPOINTS
    command_env = {**env, "WEBHOOKS_API_URL": api.url, "WEBHOOKS_API_USERNAME": USER, "WEBHOOKS_API_PASSWORD": PASSWORD}
    listed = run(venv / "bin" / "pulumi-webhooks", "list", "--json", cwd=project, env=command_env)
    assert {hook["endpoint"] for hook in json.loads(listed.output)} == QUICKSTART_ENDPOINTS
    pulumi(project, env, "preview", "--expect-no-changes", "--stack", STACK)
    pulumi(project, env, "destroy", "--yes", "--stack", STACK)
    assert api.webhooks() == []


def test_every_example_runs_in_place_with_its_own_pulumi_yaml(tmp_path: Path, start_api: ApiFactory) -> None:
    """Each Pulumi.yaml of the repository names a virtualenv inside it (the Python host resolves
    it relative to the Pulumi.yaml) and keeps its program beside it, and plain `pulumi preview` of the quickstart in
    place plans its 3 webhooks without an API call and without writing into the repository."""
    projects = sorted(p.parent for p in REPO.rglob("Pulumi.yaml") if not {".venv", "venv"} & set(p.parts))
    assert {EXAMPLES / "quickstart", EXAMPLES / "fleet"} <= set(projects)
    for project in projects:
        settings = yaml.safe_load((project / "Pulumi.yaml").read_text())
        options = settings["runtime"]["options"]
        virtualenv = Path(os.path.normpath(project / options["virtualenv"]))
        assert virtualenv.is_relative_to(REPO), f"{project}: virtualenv {options['virtualenv']} is {virtualenv}"
        # Python dynamic providers resolve a relative virtualenv from the program's directory.
        assert "main" not in settings, f"{project}: main moves the program away from its virtualenv"

    quickstart = EXAMPLES / "quickstart"
    if not os.path.lexists(quickstart / "venv"):
        (quickstart / "venv").symlink_to("../../.venv")  # as scripts/bootstrap makes it
    before = {entry.name: entry.lstat().st_mtime_ns for entry in quickstart.iterdir()}

    # `stack init` writes the stack's config file (with the passphrase salt) beside Pulumi.yaml,
    # so it runs in a scratch directory holding a copy of the example's Pulumi.yaml.
    api = start_api()
    env = pulumi_env(tmp_path)
    stack_dir = tmp_path / "stack-config"
    stack_dir.mkdir()
    shutil.copy2(quickstart / "Pulumi.yaml", stack_dir / "Pulumi.yaml")
    pulumi(stack_dir, env, "stack", "init", STACK)
    config_file = ["--config-file", str(stack_dir / f"Pulumi.{STACK}.yaml")]
    configure_quickstart(quickstart, env, api, *config_file)

    preview = pulumi(quickstart, env, "preview", "--stack", STACK, *config_file)
    assert webhooks_shown(preview.output, "create") == sorted(QUICKSTART_HOOKS), preview.output
    assert api.stats()["requests"] == {}, "preview made no API call at all"
    after = {entry.name: entry.lstat().st_mtime_ns for entry in quickstart.iterdir()}
    assert after == before, "nothing written into examples/quickstart"


def test_preview_asks_for_no_webhooks_resource_plugin(project: Project) -> None:
    """The package's pulumi-plugin.json says it has no resource plugin, so the engine never
    looks for a `webhooks` plugin (which exists nowhere) and preview just works. The engine's
    verbose log names every package the language host requires (`package webhooks-0.2.0 () is
    required by language host` when pulumi-plugin.json is missing). `project` is new_project's."""
    project.program('Webhook("hook", endpoint="https://hook.example.com/h", auth_type="none")\n')
    preview = project.preview("-v=7", "--logtostderr")
    assert webhooks_shown(preview.output, "create") == ["hook"], preview.output
    assert "langhost[python].GetRequiredPackages(" in preview.output, "the log shows the host's package scan"
    for wrong in (f"webhooks-{__version__}", "pulumi-resource-webhooks"):
        assert wrong not in preview.output, f"{wrong} in:\n{preview.output}"

"""A Go program through the `webhooks` plugin: its SDK generated from the schema (scripts/gen-sdk
go), vetted and compiled with examples/go against the pinned Pulumi Go SDK, and the program
deployed with the Automation API (an inline program: no Go language host) against a local API."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.api import Api
from harness.project import REPO, cli_env, run
from tests import docs
from tests.e2e.sdk_programs import Driver, creates_updates_imports_refreshes_and_destroys, new_driver

TOKEN = "go-T0ken-secret-1"


@pytest.fixture(scope="module")
def go_example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """examples/go, copied, built as docs/languages.md says: the SDK generated into it, vetted,
    and the program compiled with it."""
    if shutil.which("go") is None:
        pytest.fail("go is needed (scripts/install-pulumi needs it too)")
    built = tmp_path_factory.mktemp("go") / "example"
    shutil.copytree(REPO / "examples" / "go", built, ignore=shutil.ignore_patterns("bin", "sdk"))
    [block] = docs.run_by("test_a_go_program_creates_updates_imports_refreshes_and_destroys")
    script = block.text.replace("examples/go", str(built))
    run("bash", "-euo", "pipefail", "-c", script, cwd=REPO, env=cli_env(built.parent) | {"GOWORK": "off"})
    generated = {p.name for p in (built / "sdk" / "webhooks").glob("*.go")}
    assert generated >= {"webhook.go", "webhookFleet.go", "provider.go"}
    return built / "bin" / "webhooks-go"


@pytest.fixture
def driver(go_example: Path, tmp_path: Path, api: Api) -> Driver:
    return new_driver([str(go_example)], "webhooks-go", "go", tmp_path, api, TOKEN)


@pytest.mark.timeout(900)
def test_a_go_program_creates_updates_imports_refreshes_and_destroys(driver: Driver, api: Api) -> None:
    creates_updates_imports_refreshes_and_destroys(driver, api, TOKEN)

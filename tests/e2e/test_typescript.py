"""A TypeScript program through the `webhooks` plugin: its SDK generated from the schema
(scripts/gen-sdk), the SDK and examples/typescript type-checked with `tsc`, and the program
deployed with the Automation API (an inline program: no Node.js language host) against a local API.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.api import Api
from harness.project import REPO, cli_env, run
from tests import docs
from tests.e2e.sdk_programs import Driver, creates_updates_imports_refreshes_and_destroys, new_driver

TOKEN = "ts-T0ken-secret-1"


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
    command = ["node", str(typescript / "bin" / "index.js")]
    return new_driver(command, "webhooks-typescript", "nodejs", tmp_path, api, TOKEN)


@pytest.mark.timeout(900)
def test_a_typescript_program_creates_updates_imports_refreshes_and_destroys(driver: Driver, api: Api) -> None:
    creates_updates_imports_refreshes_and_destroys(driver, api, TOKEN)

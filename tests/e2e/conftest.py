"""End-to-end fixtures: a fresh local API server and Pulumi project per test."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from harness.backends import Backend
from harness.project import REPO, Project, new_project, pulumi_bin, run
from pulumi_webhooks import __version__
from tests.support import ApiFactory


@pytest.fixture(scope="session", autouse=True)
def pulumi_cli() -> None:
    """Builds or finds the pinned CLI and its language host once (milliseconds when cached)."""
    pulumi_bin()


@pytest.fixture(scope="session")
def dist_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and the wheel, built from this repository's files as a release would be, with
    no warning. Built from a copy (tracked files, and new ones git does not ignore), so the
    build writes no build/ or egg-info into the repository."""
    source = tmp_path_factory.mktemp("source")
    listed = run("git", "ls-files", "--cached", "--others", "--exclude-standard", cwd=REPO, env=os.environ)
    for name in listed.output.splitlines():
        if (REPO / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, source / name)
    dist = tmp_path_factory.mktemp("dist")
    # PYTHONDONTWRITEBYTECODE makes setuptools say it skips byte-compiling: a notice, not a flaw.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    built = run(sys.executable, "-m", "build", "--outdir", dist, source, cwd=source, env=env)
    assert "warning" not in built.output.lower(), built.output
    assert sorted(p.name for p in dist.iterdir()) == [
        f"pulumi_webhooks-{__version__}-py3-none-any.whl",
        f"pulumi_webhooks-{__version__}.tar.gz",
    ]
    return dist


@pytest.fixture
def project(tmp_path: Path, start_api: ApiFactory) -> Project:
    return new_project(tmp_path, start_api())


@pytest.fixture
def shared_project(tmp_path: Path, start_api: ApiFactory, backend: Backend) -> Project:
    """A project whose state is in `backend`: a local directory, PostgreSQL or S3, one test each."""
    return new_project(tmp_path, start_api(), backend=backend)

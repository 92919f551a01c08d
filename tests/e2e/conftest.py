"""End-to-end fixtures: a fresh local API server and Pulumi project per test."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.project import REPO, Project, new_project
from tests.support import ApiFactory


@pytest.fixture(scope="session", autouse=True)
def pulumi_cli() -> None:
    """Builds or finds the pinned CLI once (seconds when cached)."""
    subprocess.run([REPO / "scripts" / "install-pulumi"], check=True, capture_output=True, timeout=3000)


@pytest.fixture
def project(tmp_path: Path, start_api: ApiFactory) -> Project:
    return new_project(tmp_path, start_api())

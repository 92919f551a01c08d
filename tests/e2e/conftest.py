"""End-to-end fixtures: a fresh local API server and Pulumi project per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.project import Project, new_project, pulumi_bin
from tests.support import ApiFactory


@pytest.fixture(scope="session", autouse=True)
def pulumi_cli() -> None:
    """Builds or finds the pinned CLI and its language host once (milliseconds when cached)."""
    pulumi_bin()


@pytest.fixture
def project(tmp_path: Path, start_api: ApiFactory) -> Project:
    return new_project(tmp_path, start_api())

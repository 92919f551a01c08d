"""Secret-leak scanning: every place a secret could surface, searched for every secret used."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from harness.project import STACK, Project


def leaks(sources: Mapping[str, str], secrets: Iterable[str]) -> dict[str, list[str]]:
    """For each source, the secrets found in it in plaintext (empty when clean)."""
    wanted = [s for s in secrets if s]
    return {name: found for name, text in sources.items() if (found := [s for s in wanted if s in text])}


def project_sources(project: Project) -> dict[str, str]:
    """The exported state (without --show-secrets), the stack config file, everything the
    CLI printed (the provider's output included) and the API server's log."""
    sources = {
        "stack export": json.dumps(project.export()),
        "CLI and provider output": project.all_output(),
        "API server log": project.api.log(),
    }
    config_file = project.dir / f"Pulumi.{STACK}.yaml"
    if config_file.exists():
        sources["stack config file"] = config_file.read_text()
    return sources


def assert_no_leaks(project: Project, secrets: Iterable[str]) -> None:
    found = leaks(project_sources(project), secrets)
    assert not found, f"secrets in plaintext: {found}"

"""The Go SDK of the `webhooks` plugin, generated from the schema it serves (scripts/gen-sdk go),
compiles and passes `go vet` against the pinned Pulumi Go SDK."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.project import REPO, cli_env, run

GO_MOD = """module github.com/pulumi-webhooks/webhooks/sdk/go

go 1.26.6

require github.com/pulumi/pulumi/sdk/v3 v3.274.1
"""


@pytest.mark.timeout(600)
def test_the_go_sdk_generated_from_the_schema_compiles(tmp_path: Path) -> None:
    if shutil.which("go") is None:
        pytest.fail("go is needed (scripts/install-pulumi needs it too)")
    env = cli_env(tmp_path) | {"GOFLAGS": "-mod=mod", "GOWORK": "off"}
    run(REPO / "scripts" / "gen-sdk", "go", tmp_path / "generated", cwd=REPO, env=env)
    module = tmp_path / "module"
    module.mkdir()
    shutil.move(tmp_path / "generated" / "webhooks", module / "webhooks")  # the schema's importBasePath
    (module / "go.mod").write_text(GO_MOD)
    run("go", "mod", "tidy", cwd=module, env=env)
    run("go", "vet", "./...", cwd=module, env=env)
    assert {p.name for p in (module / "webhooks").glob("*.go")} >= {"webhook.go", "webhookFleet.go", "provider.go"}

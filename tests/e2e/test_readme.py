"""Every complete program the README shows is deployed as written, with plain `pulumi up`.

A complete program is a ```python block that starts with `import pulumi`, or a
`cat > __main__.py <<'PY'` heredoc. Fragments (a signature, one line of a larger
program) are not programs; the examples/ projects are deployed in place by
test_projects.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.project import REPO, new_project
from tests.support import ApiFactory

README = (REPO / "README.md").read_text()
# The catalog a README program reads as "catalog.yaml": the README's YAML block beside it.
CATALOG = re.search(r"with `catalog.yaml` beside it:\n\n```yaml\n(.*?)```", README, re.S)
PROGRAMS = [
    *(m.group(1) for m in re.finditer(r"```python\n(import pulumi\n.*?)```", README, re.S)),
    *(m.group(1) for m in re.finditer(r"cat > __main__\.py <<'PY'\n(.*?)\nPY\n", README, re.S)),
]


def test_the_readme_shows_programs() -> None:
    assert len(PROGRAMS) >= 3, "the first example, the own-project recipe and the fleet"


@pytest.mark.parametrize("program", PROGRAMS, ids=[f"program-{i}" for i in range(len(PROGRAMS))])
def test_each_readme_program_deploys_as_written(program: str, tmp_path: Path, start_api: ApiFactory) -> None:
    project = new_project(tmp_path, start_api())
    (project.dir / "__main__.py").write_text(program)
    secrets = re.findall(r'require_secret\("([^"]+)"\)', program)
    endpoints = re.findall(r'endpoint="([^"]+)"', program)
    if '"catalog.yaml"' in program:
        assert CATALOG is not None, "the README shows the catalog this program reads"
        (project.dir / "catalog.yaml").write_text(CATALOG.group(1))
        secrets += re.findall(r"_secret: (\w+)", CATALOG.group(1))
        endpoints += re.findall(r"endpoint: (\S+)", CATALOG.group(1))
    for key in secrets:
        project.config(key, f"readme-{key}-S3cret", secret=True)
    project.up()
    assert sorted(h["endpoint"] for h in project.api.webhooks()) == sorted(endpoints)
    assert "readme-" not in project.all_output()

"""The code blocks of the users' guide (README.md and its pages in docs/), as the doc tests read them.

Every block is run or checked by a test, by its kind:
- ```python: a complete program, deployed as written with `pulumi up` (tests/e2e/test_docs.py), unless
  marked `<!-- run by ... -->` as a script that test runs (an Automation API service, say); one
  marked `<!-- preview fails with the output below -->` must fail its preview with the ```text block
  marked `<!-- output of the program above -->` that follows it;
- ```yaml: a catalog, loaded as written (and deployed with the program that reads it);
- ```sh and ```text: marked `<!-- run by tests/<file>.py::<test> -->` on the line above, and that
  test runs it (tests/test_docs.py checks that the test exists); or `<!-- run by .ci/run -->`, the
  README's set-up commands, each of which .ci/run runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PAGES = ("resource", "configuration", "fleets", "pipelines", "commands", "limits", "languages")
GUIDE = (REPO / "README.md", *(REPO / "docs" / f"{page}.md" for page in PAGES))
RUN_BY = re.compile(r"<!-- run by (tests/[\w/]+\.py)::(\w+) -->")
RUN_BY_CI = "<!-- run by .ci/run -->"
PREVIEW_FAILS = "<!-- preview fails with the output below -->"
OUTPUT_ABOVE = "<!-- output of the program above -->"


@dataclass(frozen=True)
class Block:
    page: Path
    line: int
    language: str
    text: str
    marker: str | None
    """The HTML comment on the line right above the block's fence, if any."""

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(REPO)}:{self.line}"

    def run_by(self) -> tuple[str, str] | None:
        match = RUN_BY.fullmatch(self.marker or "")
        return (match.group(1), match.group(2)) if match else None


def blocks(pages: tuple[Path, ...] = GUIDE) -> list[Block]:
    found = []
    for page in pages:
        lines = page.read_text().splitlines()
        number = 0
        while number < len(lines):
            fence = re.fullmatch(r"```(\w*)", lines[number])
            if fence is None:
                number += 1
                continue
            end = lines.index("```", number + 1)
            above = lines[number - 1].strip() if number else ""
            marker = above if above.startswith("<!--") else None
            found.append(Block(page, number + 1, fence.group(1), "\n".join(lines[number + 1 : end]) + "\n", marker))
            number = end + 1
    return found


def run_by(test: str) -> list[Block]:
    """The blocks a test says it runs, by its name."""
    return [block for block in blocks() if block.run_by() and block.run_by()[1] == test]  # type: ignore[index]


def programs() -> list[Block]:
    """The Pulumi programs: every ```python block but the scripts a test runs (`<!-- run by -->`)."""
    return [block for block in blocks() if block.language == "python" and block.run_by() is None]


def catalog_beside(program: Block) -> Block | None:
    """The catalog a program reads as "catalog.yaml": the first ```yaml block after it on its page."""
    if '"catalog.yaml"' not in program.text:
        return None
    return next(
        (b for b in blocks((program.page,)) if b.language == "yaml" and b.line > program.line),
        None,
    )


def output_below(program: Block) -> Block | None:
    """The output a failing program's preview prints: the next block, marked as its output."""
    later = [b for b in blocks((program.page,)) if b.line > program.line]
    return later[0] if later and later[0].marker == OUTPUT_ABOVE else None

"""The users' guide holds: every code block is run or checked, the README stays a landing page,
its links lead somewhere, its catalogs load, and `doctor` prints what its page shows.

The programs and shell recipes run under the real CLI in tests/e2e/test_docs.py; the rules'
messages are held to the code by tests/test_docs_messages.py.
"""

from __future__ import annotations

import importlib
import re

import pytest
import yaml

from pulumi_webhooks.model import catalog
from tests import docs
from tests.support import ApiFactory
from tests.test_doctor import doctor

README = docs.REPO / "README.md"


@pytest.mark.parametrize("block", docs.blocks(), ids=lambda block: block.where)
def test_every_block_of_the_guide_is_run_or_checked_by_a_test(block: docs.Block) -> None:
    if block.language == "python" and block.run_by() is None:
        assert block.text.startswith(("import pulumi\n", "from pulumi_webhooks")), (
            f"{block.where}: a complete program, so that a test can deploy it as written"
        )
    elif block.language == "yaml":
        assert catalog.parse(yaml.safe_load(block.text)), f"{block.where}: a catalog"
    elif block.marker == docs.RUN_BY_CI:
        ci = (docs.REPO / ".ci" / "run").read_text().splitlines()
        for command in (line.split("#")[0].strip() for line in block.text.splitlines()):
            assert command in ci, f"{block.where}: .ci/run does not run {command}"
    elif block.marker == docs.OUTPUT_ABOVE:
        program = next(b for b in reversed(docs.blocks((block.page,))) if b.line < block.line)
        assert program.marker == docs.PREVIEW_FAILS, f"{block.where}: the output of a program marked as failing"
    else:  # a shell recipe, an output, or a script a test runs
        named = block.run_by()
        assert named, f"{block.where}: a ```{block.language} block says which test runs it (<!-- run by ... -->)"
        module = importlib.import_module(named[0].removesuffix(".py").replace("/", "."))
        assert hasattr(module, named[1]), f"{block.where}: {named[0]} has no test {named[1]}"


def test_the_readme_is_a_landing_page_that_starts_with_the_two_set_up_commands() -> None:
    text = README.read_text()
    assert len(text.splitlines()) <= 200, "the README is a landing page: the guide lives in docs/"
    first = docs.blocks((README,))[0]
    commands = [line.split("#")[0].strip() for line in first.text.splitlines()]
    assert commands == ["scripts/up", "scripts/test"], "the main job and the whole test suite, first"
    assert first.marker == docs.RUN_BY_CI


def test_every_relative_link_of_the_guide_leads_to_a_file() -> None:
    for page in docs.GUIDE:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text()):
            assert (page.parent / target).exists(), f"{page.relative_to(docs.REPO)}: link to {target}"


def doc_line_pattern(line: str) -> re.Pattern[str]:
    """A line of the doctor's report as the docs show it, with its times, ids, ports and random
    parts free: digits match any number, spaces any run of spaces."""
    line = re.sub(r"[0-9a-f]{12}", "\0", line)  # the disposable webhook's random path
    pattern = ""
    for token in re.findall(r"\0|\d+| +|[^\d \0]+", line):
        if token == "\0":
            pattern += "[0-9a-f]{12}"
        elif token.isdigit():
            pattern += r"\d+"
        elif token.isspace():
            pattern += " +"
        else:
            pattern += re.escape(token)
    return re.compile(pattern)


def test_doctor_prints_what_the_docs_show(start_api: ApiFactory) -> None:
    passing, failing = docs.run_by("test_doctor_prints_what_the_docs_show")
    api = start_api("--page-style", "page", "--page-size", "30", "--page-max", "100")  # as the page says
    for i in range(40):
        api.post("/webhooks", {"endpoint": f"https://ops.example.com/{i}", "authType": "none"})
    shown = doctor(api.url).out.splitlines()
    wanted = passing.text.splitlines()
    assert len(shown) == len(wanted), shown
    for line, doc in zip(shown, wanted, strict=True):
        assert doc_line_pattern(doc).fullmatch(line), f"doctor printed {line!r}; the docs show {doc!r}"

    without_delete = start_api("--without-route", "DELETE /webhooks/<id>")
    shown = doctor(without_delete.url).out.splitlines()
    for doc in failing.text.splitlines():  # the page shows the lines that differ, in order
        matches = [i for i, line in enumerate(shown) if doc_line_pattern(doc).fullmatch(line)]
        assert matches, f"doctor printed no line like {doc!r}:\n" + "\n".join(shown)
        shown = shown[matches[0] + 1 :]

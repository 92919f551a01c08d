"""docs/resource.md's table of every rule's message is the rules' own: made from them, never written.

One input per rule (EXAMPLES) is checked by the spec, and the messages it gives make the table.
The table must be the page's exactly; `UPDATE_DOCS=1` writes it there instead. And every message
the rules' code can give (each `_rule(...)` of spec.py, each problem endpoint.py returns) must be
met by some example, so a new rule cannot be left out of the page.
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path
from typing import Any

import pytest

from pulumi_webhooks.model import endpoint, spec

PAGE = Path(__file__).resolve().parents[1] / "docs" / "resource.md"
BEGIN, END = "<!-- messages: begin -->", "<!-- messages: end -->"
OK = {"endpoint": "https://ops.example.com/hook", "authType": "none"}
BEARER = {"endpoint": "https://ops.example.com/hook", "authType": "bearer", "token": "t0ken"}
BASIC = {"endpoint": "https://ops.example.com/hook", "authType": "basic", "userName": "ops", "password": "pw"}

# (what the input is, the webhook's properties): one input per rule, in the page's order.
EXAMPLES: list[tuple[str, dict[str, Any]]] = [
    ("no endpoint", {"authType": "none"}),
    ("`ops.example.com/hook`", {**OK, "endpoint": "ops.example.com/hook"}),
    ("`https://`", {**OK, "endpoint": "https://"}),
    ("`https://u:pw@ops.example.com/`", {**OK, "endpoint": "https://u:pw@ops.example.com/"}),
    ("a line break in the path", {**OK, "endpoint": "https://ops.example.com/hook\n"}),
    ("`https://ops.example.com\\hook`", {**OK, "endpoint": "https://ops.example.com\\hook"}),
    ("`https://ops.example.com/hook#top`", {**OK, "endpoint": "https://ops.example.com/hook#top"}),
    ("`https://ops.example.com/100%`", {**OK, "endpoint": "https://ops.example.com/100%"}),
    ("`https://ops.example.com:99999/hook`", {**OK, "endpoint": "https://ops.example.com:99999/hook"}),
    ("2,049 characters", {**OK, "endpoint": "https://ops.example.com/" + "x" * 2025}),
    ("`https://ops..example.com/`", {**OK, "endpoint": "https://ops..example.com/"}),
    ("`https://-ops.example.com/`", {**OK, "endpoint": "https://-ops.example.com/"}),
    ("`https://192.0.2/hook`", {**OK, "endpoint": "https://192.0.2/hook"}),
    ("`https://[2001:db8::1::2]/hook`", {**OK, "endpoint": "https://[2001:db8::1::2]/hook"}),
    ("`https://☃.example/hook`", {**OK, "endpoint": "https://\u2603.example/hook"}),
    ("a part of 64 letters", {**OK, "endpoint": f"https://{'a' * 64}.example.com/"}),
    ("a host of 254 characters", {**OK, "endpoint": "https://" + ".".join(["a" * 62] * 4) + ".example/"}),
    ("no authType", {"endpoint": OK["endpoint"]}),
    ("`Bearer`", {**BEARER, "authType": "Bearer"}),
    ("bearer, no token", {**BEARER, "token": None}),
    ("basic, no userName", {**BASIC, "userName": None}),
    ("basic, no password", {**BASIC, "password": None}),
    ("bearer with a userName", {**BEARER, "userName": "ops"}),
    ("none with a token", {**OK, "token": "t0ken"}),
    ("a token and a password, authType `oauth`", {**BASIC, "authType": "oauth", "token": "t0ken"}),
    ("a token of spaces", {**BEARER, "token": "   "}),
    ("a token with a space at its end", {**BEARER, "token": "t0ken "}),
    ("a password ending in a line break", {**BASIC, "password": "pw\n"}),
    ("a token with an accent", {**BEARER, "token": "tökén"}),
    ("a token of 4,097 characters", {**BEARER, "token": "t" * 4097}),
    ("userName `ops:team`", {**BASIC, "userName": "ops:team"}),
    ('isAlertHook `"yes"`', {**OK, "isAlertHook": "yes"}),
    ("a property `url`", {**OK, "url": "https://ops.example.com/"}),
]
NOT_MET = (
    # pydantic's own last word on a URL: every URL it refuses, the checks before it refuse first,
    # with a clearer message. Kept in case a new pydantic refuses more.
    "endpoint is not a valid URL",
)


def rows() -> list[tuple[str, str, str]]:
    """(property, message, input) for every example, each message once."""
    seen: dict[str, tuple[str, str, str]] = {}
    for label, props in EXAMPLES:
        problems = spec.find_problems({k: v for k, v in props.items() if v is not None})
        assert problems, f"{label}: breaks no rule"
        for problem in problems:
            seen.setdefault(problem.reason, (problem.property, problem.reason, label))
    return list(seen.values())


def table() -> str:
    lines = ["| property | message | for example |", "|---|---|---|"]
    for prop, reason, label in rows():
        shown = reason.replace("|", "\\|")  # a table cell
        lines.append(f"| `{prop}` | {shown} | {label} |")
    return "\n".join(lines)


def test_the_page_shows_every_message_as_the_rules_give_it() -> None:
    text = PAGE.read_text()
    begin, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    wanted = f"\n{table()}\n"
    if os.environ.get("UPDATE_DOCS"):
        PAGE.write_text(text[:begin] + wanted + text[end:])
    assert text[begin:end] == wanted, "docs/resource.md's messages differ from the rules': UPDATE_DOCS=1 rewrites them"


def templates() -> list[str]:
    """Every message the rules' code can give, as a pattern: each `_rule(...)` in spec.py, each
    reason `_problems_from` makes, and each problem endpoint.py's checks return."""
    found = []
    spec_tree = ast.parse(Path(spec.__file__).read_text())
    for node in ast.walk(spec_tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_rule":
            found.append(_pattern(node.args[0], {}))
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["reason"]:
            found.append(_pattern(node.value, {}))
    endpoint_tree = ast.parse(Path(endpoint.__file__).read_text())
    constants = {
        node.targets[0].id: node.value
        for node in endpoint_tree.body
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
    }
    for node in ast.walk(endpoint_tree):
        if (
            isinstance(node, ast.Return)
            and node.value is not None
            and not isinstance(node.value, ast.Constant | ast.Call)
        ):
            if isinstance(node.value, ast.JoinedStr | ast.Name):
                found.append(_pattern(node.value, constants))
        elif (
            isinstance(node, ast.Return) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
        ):
            found.append(_pattern(node.value, constants))
    return [pattern for pattern in found if pattern is not None]


def _pattern(node: ast.expr, constants: dict[str, ast.expr]) -> str | None:
    if isinstance(node, ast.Name):
        return _pattern(constants[node.id], constants) if node.id in constants else None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return re.escape(node.value)
    if isinstance(node, ast.JoinedStr):
        return "".join(re.escape(str(part.value)) if isinstance(part, ast.Constant) else ".+?" for part in node.values)
    return None


@pytest.mark.parametrize("template", templates())
def test_every_message_the_rules_can_give_is_on_the_page(template: str) -> None:
    if template.startswith(tuple(re.escape(message) for message in NOT_MET)):
        pytest.skip("never given: see NOT_MET")
    messages = [reason for _, reason, _ in rows()]
    assert any(re.fullmatch(template, message, re.S) for message in messages), (
        f"no example gives a message like {template!r}: add one to EXAMPLES"
    )


def test_the_templates_are_found() -> None:
    assert len(templates()) >= 25, "the rules' messages are read from the code"

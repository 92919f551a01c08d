"""Plan time and the API agree: the provider's `check` refuses exactly the bodies the local
server refuses (POST /webhooks over a real socket), and neither ever repeats a secret.

The two sides share no code: `check` stands on pydantic (pulumi_webhooks/model/endpoint.py and
spec.py), the server on the standard library's URL splitter (standin/webhooks_standin/validation.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from harness.api import CREDENTIAL_ARGS, Api
from pulumi_webhooks.provider import WebhookProvider
from webhooks_standin.testing import ServerProcess

MARK = "Zq9"  # in every secret whose leak is looked for; no message contains it
BASIC: dict[str, Any] = {"authType": "basic", "token": None, "userName": "ops", "password": f"pw-{MARK}"}
BASE: dict[str, Any] = {"endpoint": "https://ops.example.com/hook", "authType": "bearer", "token": f"tok-{MARK}"}

# Every hostile input tried by hand: what changes in BASE, and the property plan time names (None: valid).
CASES: list[tuple[str, dict[str, Any], str | None]] = [
    ("line break and header in endpoint", {"endpoint": "https://hooks.example.com/in\nX-Injected: 1"}, "endpoint"),
    ("carriage return in endpoint", {"endpoint": "https://hooks.example.com/in\r"}, "endpoint"),
    ("NUL in endpoint", {"endpoint": "https://hooks.example.com/\x00"}, "endpoint"),
    ("tab in endpoint", {"endpoint": "https://hooks.example.com/\tx"}, "endpoint"),
    ("space in host", {"endpoint": "https://hooks.exa mple.com/"}, "endpoint"),
    ("space in path", {"endpoint": "https://hooks.example.com/a b"}, "endpoint"),
    ("zero-width space in host", {"endpoint": "https://exa\u200bmple.com/"}, "endpoint"),
    ("no-break space in path", {"endpoint": "https://example.com/\u00a0"}, "endpoint"),
    ("lone surrogate in path", {"endpoint": "https://example.com/\ud800"}, "endpoint"),
    ("port out of range", {"endpoint": "https://hooks.example.com:99999/in"}, "endpoint"),
    ("port not a number", {"endpoint": "https://hooks.example.com:abc/in"}, "endpoint"),
    ("port 0", {"endpoint": "https://hooks.example.com:0/in"}, "endpoint"),
    ("empty port", {"endpoint": "https://hooks.example.com:/in"}, "endpoint"),
    ("signed port", {"endpoint": "https://hooks.example.com:+80/in"}, "endpoint"),
    ("no host", {"endpoint": "https://"}, "endpoint"),
    ("no host, a path", {"endpoint": "https:///hooks.example.com"}, "endpoint"),
    ("missing slashes", {"endpoint": "https:hooks.example.com"}, "endpoint"),
    ("one slash", {"endpoint": "https:/hooks.example.com"}, "endpoint"),
    ("other scheme", {"endpoint": "ftp://hooks.example.com/"}, "endpoint"),
    ("relative", {"endpoint": "/hook"}, "endpoint"),
    ("70,000 characters", {"endpoint": "https://hooks.example.com/" + "x" * 70_000}, "endpoint"),
    ("2,049 characters", {"endpoint": "https://hooks.example.com/" + "x" * 2023}, "endpoint"),
    ("user info", {"endpoint": "https://u:p@hooks.example.com/"}, "endpoint"),
    ("fragment", {"endpoint": "https://hooks.example.com/in#x"}, "endpoint"),
    ("bad percent escape", {"endpoint": "https://hooks.example.com/%zz"}, "endpoint"),
    ("percent escape in host", {"endpoint": "https://exa%6dple.com/"}, "endpoint"),
    ("backslash", {"endpoint": "https://hooks.example.com\\in"}, "endpoint"),
    ("IPv4 shorthand", {"endpoint": "https://1.2.3/"}, "endpoint"),
    ("IPv4 in hex", {"endpoint": "https://0x7f.0.0.1/"}, "endpoint"),
    ("IPv4 leading zero", {"endpoint": "https://010.0.0.1/"}, "endpoint"),
    ("host ending in a hex number", {"endpoint": "https://hooks.0x1f/"}, "endpoint"),
    ("IPv4 out of range", {"endpoint": "https://1.2.3.256/"}, "endpoint"),
    ("empty label", {"endpoint": "https://hooks..example.com/"}, "endpoint"),
    ("trailing dot", {"endpoint": "https://hooks.example.com./"}, "endpoint"),
    ("label of 64", {"endpoint": f"https://{'a' * 64}.example.com/"}, "endpoint"),
    ("label starts with a hyphen", {"endpoint": "https://-hooks.example.com/"}, "endpoint"),
    ("star in host", {"endpoint": "https://*.example.com/"}, "endpoint"),
    ("invalid IDN", {"endpoint": "https://\u2603.net/"}, "endpoint"),
    ("invalid A-label", {"endpoint": "https://xn--zz.example/"}, "endpoint"),
    ("bad IPv6", {"endpoint": "https://[1::2::3]/"}, "endpoint"),
    ("IPv6 zone id", {"endpoint": "https://[fe80::1%25eth0]/"}, "endpoint"),
    ("unclosed IPv6", {"endpoint": "https://[::1/"}, "endpoint"),
    ("token of spaces", {"token": "   "}, "token"),
    ("token ending in a line break", {"token": f"tok-{MARK}\n"}, "token"),
    ("token with a space", {"token": f"tok {MARK}"}, "token"),
    ("token with a leading space", {"token": f" tok-{MARK}"}, "token"),
    ("token with an accent", {"token": f"tök-{MARK}"}, "token"),
    ("token of 4,097", {"token": MARK + "k" * 4094}, "token"),
    ("user name of spaces", BASIC | {"userName": "  "}, "userName"),
    ("user name with ':'", BASIC | {"userName": "a:b"}, "userName"),
    ("user name of 257", BASIC | {"userName": "u" * 257}, "userName"),
    ("password with NUL", BASIC | {"password": f"p\x00{MARK}"}, "password"),
    ("password of spaces", BASIC | {"password": "    "}, "password"),
    ("password of 1,025", BASIC | {"password": MARK + "p" * 1022}, "password"),
    # Hosts that look fine but are not, once mapped as DNS maps them.
    ("superscript two as the last part", {"endpoint": "https://hooks.example.\u00b2/"}, "endpoint"),
    ("ideographic full stop before a number", {"endpoint": "https://hooks\u3002123/"}, "endpoint"),
    (
        "right-to-left name beside a part starting with a digit",
        {"endpoint": "https://1a.\u0645\u062b\u0627\u0644/"},
        "endpoint",
    ),
    # What real receivers use, all valid.
    ("IPv6 with a port", {"endpoint": "https://[2001:db8::1]:8443/in"}, None),
    ("right-to-left name", {"endpoint": "https://example.\u0645\u062b\u0627\u0644/"}, None),
    ("IPv4-mapped IPv6", {"endpoint": "http://[::ffff:192.0.2.1]/"}, None),
    ("localhost:8080", {"endpoint": "http://localhost:8080"}, None),
    ("IPv4 with a port", {"endpoint": "http://192.0.2.10:8080/in"}, None),
    ("query string", {"endpoint": "https://hooks.example.com/in?team=ops&x=%2F"}, None),
    ("international name", {"endpoint": "https://bücher.example/haken"}, None),
    ("international name, all of it", {"endpoint": "https://例え.テスト/フック"}, None),
    ("A-label", {"endpoint": "https://xn--bcher-kva.example/"}, None),
    ("capital scheme and host", {"endpoint": "HTTPS://HOOKS.EXAMPLE.COM/In"}, None),
    ("underscore and double hyphen", {"endpoint": "https://r3---sn_x.example.com/"}, None),
    ("2,048 characters", {"endpoint": "https://hooks.example.com/" + "x" * 2022}, None),
    ("label of 63", {"endpoint": f"https://{'a' * 63}.example.com/"}, None),
    ("JWT-sized token of 4,096", {"token": MARK + "k" * 4093}, None),
    ("user name with a space", BASIC | {"userName": "Ops Team", "password": "p w"}, None),
]


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    process = ServerProcess(Path(tmp_path_factory.mktemp("rules")) / "api.sqlite", CREDENTIAL_ARGS).start()
    yield Api(process)
    process.stop()


def _body(change: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in (BASE | change).items() if v is not None}


def _plan_time(body: dict[str, Any]) -> dict[str, str]:
    """Property -> reason, for every rule `check` finds broken."""
    return {f.property: f.reason for f in WebhookProvider().check({}, body).failures}


def _server(api: Api, body: dict[str, Any]) -> tuple[bool, str]:
    response = api.post("/webhooks", body)
    assert response.status_code in (201, 400, 413), response.text
    return response.status_code == 201, response.text


def _assert_no_secret(body: dict[str, Any], *messages: str) -> None:
    for key in ("password", "token"):
        value = body.get(key)
        if isinstance(value, str) and MARK in value:
            assert not any(MARK in message for message in messages), f"{key} leaked"


@pytest.mark.parametrize(("change", "prop"), [(c, p) for _, c, p in CASES], ids=[name for name, _, _ in CASES])
def test_hostile_inputs(api: Api, change: dict[str, Any], prop: str | None) -> None:
    body = _body(change)
    plan = _plan_time(body)
    accepted, answer = _server(api, body)
    assert list(plan) == ([prop] if prop else [])
    assert accepted == (prop is None), answer
    _assert_no_secret(body, *plan.values(), answer)


hostile = st.sampled_from(
    [
        "\n",
        "\r",
        "\x00",
        "\t",
        " ",
        "\u00a0",
        "\u200b",
        "\u2028",
        "\ud800",
        "\\",
        "#",
        "%",
        "%zz",
        "%4",
        "%41",
        "@",
        ":",
        "[",
        "]",
        "/",
        "?",
        ".",
        "..",
        "-",
        "_",
        "ü",
        "例",
        "\u2603",
        "ß",
        "\uff45",
        "xn--",
        "0x",
        "。",
    ]
)
label = st.one_of(
    st.from_regex(r"[a-z0-9_-]{1,8}", fullmatch=True),
    st.sampled_from(
        [
            "bücher",
            "例え",
            "ß",
            "\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45",
            "xn--bcher-kva",
            "xn--zz",
            "a" * 63,
            "a" * 64,
            "0x7f",
            "0xg",
        ]
    ),
    st.sampled_from(["127", "01", "256", "", "exa%6dple", "Straße", "\u0301e", "a\u200db", "ab--cd", "-a", "a-"]),
    # UTS 46 maps these to digits or dots; right-to-left names bring the bidi rule to every label.
    st.sampled_from(["\u00b2", "\uff11\uff12", "a\u3002123", "\u0645\u062b\u0627\u0644", "\u05e2\u05d1", "1a", "a_"]),
    st.sampled_from(["\u0661\u0662", "x\u0661", "\u0645\u062b1", "\u05d0-", "XN--BCHER-KVA", "xn--mgbh0fb"]),
    st.lists(hostile, max_size=3).map("".join),
    st.text(max_size=5),
)
host = st.one_of(
    st.lists(label, min_size=1, max_size=4).map(".".join),
    st.lists(st.integers(0, 300).map(str), min_size=1, max_size=5).map(".".join),
    st.ip_addresses(v=6).map(lambda a: f"[{a}]"),
    st.ip_addresses(v=4).map(str),
    st.sampled_from(
        ["[::1", "[1::2::3]", "[fe80::1%25eth0]", "[::1]x", "[v1.x]", "[::ffff:1.2.3.4]", "[]", "localhost"]
    ),
)
port = st.one_of(
    st.just(""),
    st.integers(-1, 70_000).map(lambda p: f":{p}"),
    st.sampled_from([":", ":abc", ":+80", ":0080", ":\uff11\uff12", ":65535", ":65536"]),
)
rest = st.one_of(
    st.just(""),
    st.text(max_size=12).map(lambda t: "/" + t),
    st.lists(st.one_of(hostile, st.text(max_size=3)), max_size=5).map(lambda parts: "/" + "".join(parts)),
    st.sampled_from(["?a=1&b=%2F", "/x#frag", "?q=例", "/%E4%BE%8B"]),
)
scheme = st.sampled_from(["https://", "http://", "HTTPS://", "https:", "https:/", "https:///", "ftp://", "", "u:p@"])
endpoints = st.one_of(
    st.builds(lambda s, h, p, r: s + h + p + r, scheme, host, port, rest),
    st.text(max_size=30),
    st.integers(2000, 2100).map(lambda n: "https://ops.example.com/" + "x" * (n - 24)),
)
credentials = st.one_of(
    st.none(),
    st.just(""),
    st.text(max_size=8).map(lambda t: MARK + t),
    st.builds(lambda a, b: a + MARK + b, st.lists(hostile, max_size=2).map("".join), st.text(max_size=4)),
    st.sampled_from(["   ", " x", "x ", "a:b", "Ops Team", "tök", "x\n", "x\r\n", "\ud800"]),
    st.sampled_from([255, 256, 257, 1023, 1024, 1025, 4095, 4096, 4097]).map(lambda n: MARK + "k" * (n - 3)),
)
bodies = st.fixed_dictionaries(
    {"endpoint": endpoints, "authType": st.sampled_from(["none", "basic", "bearer", "header", "querystring"])},
    optional={
        "userName": credentials,
        "password": credentials,
        "token": credentials,
        "isAlertHook": st.none() | st.booleans(),
        "auth_type": st.sampled_from(["none", "bearer"]),  # Python's name: not a property of the API
    },
)


# RULES_EXAMPLES=50000 for a deeper search than CI's.
@settings(
    max_examples=int(os.environ.get("RULES_EXAMPLES", "1500")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(body=bodies)
@example(body={"endpoint": "https://example.0xg/", "authType": "none"})
def test_check_refuses_exactly_what_the_server_refuses(api: Api, body: dict[str, Any]) -> None:
    plan = _plan_time(body)
    accepted, answer = _server(api, body)
    assert (not plan) == accepted, f"plan time: {plan or 'valid'}; server: {answer}"
    _assert_no_secret(body, *plan.values(), answer)

"""The credential rules of docs/api.md, checked against the spec layer.

The expected outcomes below are written from docs/api.md's rules table directly,
not derived from the spec's own tables, so a wrong table in the spec fails here.
"""

from __future__ import annotations

import itertools

import pytest

from pulumi_webhooks.model.spec import AuthType, SpecError, find_problems, parse, suggest_auth_type

ENDPOINT = "https://ops.example.com/hook"
SECRET_VALUES = {"userName": "ops-user", "password": "pw-Secret-123", "token": "tok-Secret-456"}
TOKEN_TYPES = {"querystring", "authheader", "header", "bearer"}


def expected_failures(auth_type: str, present: set[str]) -> set[str]:
    """Properties that must change, from docs/api.md rules 1-4 read literally."""
    if auth_type == "none":  # rule 1: everything absent
        return set(present)
    if auth_type == "basic":  # rule 2 (+ rule 4: no token with user credentials)
        failing = {"userName", "password"} - present
        return failing | ({"token"} & present)
    assert auth_type in TOKEN_TYPES  # rule 3 (+ rule 4)
    return ({"token"} - present) | ({"userName", "password"} & present)


CASES = [
    (auth_type.value, frozenset(combo))
    for auth_type in AuthType
    for size in range(4)
    for combo in itertools.combinations(("userName", "password", "token"), size)
]


def test_the_table_covers_six_auth_types_by_eight_credential_sets() -> None:
    assert len(CASES) == 48


@pytest.mark.parametrize(
    ("auth_type", "present"), CASES, ids=[f"{a}-{'+'.join(sorted(p)) or 'nothing'}" for a, p in CASES]
)
def test_credential_rules(auth_type: str, present: frozenset[str]) -> None:
    props = {"endpoint": ENDPOINT, "authType": auth_type, **{k: SECRET_VALUES[k] for k in present}}
    problems = find_problems(props)
    assert {p.property for p in problems} == expected_failures(auth_type, set(present))
    assert len(problems) == len({p.property for p in problems}), "one failure per property"
    for problem in problems:
        assert problem.property in problem.reason
        for secret in SECRET_VALUES.values():
            assert secret not in problem.reason


@pytest.mark.parametrize(("auth_type", "present"), CASES)
def test_empty_string_credentials_count_as_absent(auth_type: str, present: frozenset[str]) -> None:
    props = {"endpoint": ENDPOINT, "authType": auth_type}
    props.update({k: SECRET_VALUES[k] for k in present})
    props.update({k: "" for k in {"userName", "password", "token"} - present})
    assert {p.property for p in find_problems(props)} == expected_failures(auth_type, set(present))


def test_vendor_example_of_an_empty_token_with_none_is_valid() -> None:
    webhook = parse({"endpoint": ENDPOINT, "authType": "none", "token": ""})
    assert webhook.token is None
    assert webhook.to_api() == {"endpoint": ENDPOINT, "authType": "none", "isAlertHook": False}


@pytest.mark.parametrize(
    ("endpoint", "fragment"),
    [
        (None, "endpoint is required"),
        ("", "endpoint is required"),
        ("ops.example.com/hook", "absolute http:// or https:// URL"),
        ("/hook", "absolute http:// or https:// URL"),
        ("ftp://ops.example.com/hook", "absolute http:// or https:// URL"),
        ("https://", "has no host"),
        ("https://user:hunter2@ops.example.com/hook", "must not embed credentials"),
        ("https://user@ops.example.com/hook", "must not embed credentials"),
        (42, "valid string"),
    ],
)
def test_bad_endpoints(endpoint: object, fragment: str) -> None:
    props = {"authType": "none"} if endpoint is None else {"endpoint": endpoint, "authType": "none"}
    problems = find_problems(props)
    assert [p.property for p in problems] == ["endpoint"]
    assert fragment in problems[0].reason
    assert "hunter2" not in problems[0].reason


@pytest.mark.parametrize("endpoint", ["http://127.0.0.1:8080/h", "https://ops.example.com", "https://[::1]:9/x?a=b"])
def test_good_endpoints(endpoint: str) -> None:
    assert find_problems({"endpoint": endpoint, "authType": "none"}) == []


@pytest.mark.parametrize(
    ("given", "hint"),
    [
        ("Bearer", "bearer"),
        ("BASIC", "basic"),
        ("basic_auth", "basic"),
        ("auth_header", "authheader"),
        ("query-string", "querystring"),
        ("bearr", "bearer"),
        ("headers", "header"),
        ("oauth2", None),
    ],
)
def test_auth_type_must_be_exact_with_a_did_you_mean_hint(given: str, hint: str | None) -> None:
    problems = find_problems({"endpoint": ENDPOINT, "authType": given})
    assert [p.property for p in problems] == ["authType"]
    assert "exactly one of none, basic, querystring, authheader, header, bearer" in problems[0].reason
    if hint:
        assert f"did you mean '{hint}'?" in problems[0].reason
    else:
        assert "did you mean" not in problems[0].reason
    assert suggest_auth_type(given) == hint


def test_auth_type_accepts_the_enum() -> None:
    assert parse({"endpoint": ENDPOINT, "authType": AuthType.BEARER, "token": "t"}).auth_type is AuthType.BEARER


def test_missing_auth_type_and_wrong_types() -> None:
    problems = {p.property: p.reason for p in find_problems({"endpoint": ENDPOINT, "isAlertHook": "yes", "token": 5})}
    assert set(problems) == {"authType", "isAlertHook", "token"}
    assert "authType is required" in problems["authType"]
    assert "boolean" in problems["isAlertHook"]


def test_unknown_property_is_named() -> None:
    problems = find_problems({"endpoint": ENDPOINT, "authType": "none", "secretKey": "x"})
    assert [p.property for p in problems] == ["secretKey"]
    assert "not a webhook property" in problems[0].reason


class TestUnknownValuesAreDeferred:
    def test_unknown_token_passes_a_token_type(self) -> None:
        assert find_problems({"endpoint": ENDPOINT, "authType": "bearer"}, unknown={"token"}) == []

    def test_unknown_token_with_none_is_deferred(self) -> None:
        # It may still resolve to an empty string, which counts as absent.
        assert find_problems({"endpoint": ENDPOINT, "authType": "none"}, unknown={"token"}) == []

    def test_unknown_auth_type_defers_per_type_rules(self) -> None:
        assert find_problems({"endpoint": ENDPOINT, "userName": "u", "password": "p"}, unknown={"authType"}) == []

    def test_unknown_auth_type_still_forbids_user_credentials_with_a_token(self) -> None:
        problems = find_problems({"endpoint": ENDPOINT, "userName": "u", "token": "t"}, unknown={"authType"})
        assert [p.property for p in problems] == ["token"]

    def test_unknown_endpoint_is_not_required_yet(self) -> None:
        assert find_problems({"authType": "basic", "userName": "u"}, unknown={"endpoint", "password"}) == []

    def test_known_rules_still_fail_beside_unknowns(self) -> None:
        problems = find_problems({"authType": "bearer", "userName": "u"}, unknown={"endpoint", "token"})
        assert [p.property for p in problems] == ["userName"]


def test_parse_raises_with_every_problem_and_no_secret() -> None:
    with pytest.raises(SpecError) as raised:
        parse({"endpoint": "nope", "authType": "none", "token": "tok-Secret-456", "password": "pw-Secret-123"})
    assert {p.property for p in raised.value.problems} == {"endpoint", "password", "token"}
    assert "Secret" not in str(raised.value)
    assert "Secret" not in repr(raised.value.__cause__)


def test_spec_repr_hides_secrets() -> None:
    webhook = parse({"endpoint": ENDPOINT, "authType": "basic", "userName": "u", "password": "pw-Secret-123"})
    assert "pw-Secret-123" not in repr(webhook)
    assert webhook.to_api() == {
        "endpoint": ENDPOINT,
        "authType": "basic",
        "isAlertHook": False,
        "userName": "u",
        "password": "pw-Secret-123",
    }

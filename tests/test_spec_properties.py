"""Property-based tests of the spec: for any input, check() neither raises nor invents properties,
and it agrees with docs/api.md's rules table (the same literal reading as tests/test_spec.py)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pulumi_webhooks.model.spec import AuthType, find_problems
from pulumi_webhooks.provider import WebhookProvider
from tests.test_spec import expected_failures

INPUT_NAMES = {"endpoint", "authType", "isAlertHook", "userName", "password", "token"}
anything = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=5,
)
# Digits and capitals never occur in a reason, so finding a value there would be a leak.
credential = st.none() | st.just("") | st.text(alphabet="XYZ0123456789", min_size=1, max_size=20)


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(INPUT_NAMES)) | st.text(max_size=8), anything, max_size=8))
def test_check_never_raises_and_names_only_real_properties(props: dict[str, Any]) -> None:
    props.pop("__provider", None)
    result = WebhookProvider().check({}, props)
    for failure in result.failures:
        assert failure.property in props or failure.property in INPUT_NAMES
        assert failure.reason


@settings(max_examples=500, deadline=None)
@given(
    auth_type=st.sampled_from([t.value for t in AuthType]),
    user_name=credential,
    password=credential,
    token=credential,
)
def test_check_agrees_with_the_rules_table(
    auth_type: str, user_name: str | None, password: str | None, token: str | None
) -> None:
    values = {"userName": user_name, "password": password, "token": token}
    props = {"endpoint": "https://ops.example.com/hook", "authType": auth_type}
    props.update({k: v for k, v in values.items() if v is not None})
    present = {k for k, v in values.items() if v}
    assert {p.property for p in find_problems(props)} == expected_failures(auth_type, present)
    for problem in find_problems(props):
        for value in values.values():
            if value and len(value) >= 4:
                assert value not in problem.reason

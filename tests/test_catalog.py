"""Catalogs: shapes, formats, defaults, and every problem reported at once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from pulumi_webhooks.model import catalog
from pulumi_webhooks.model.catalog import CatalogError

REPO = Path(__file__).resolve().parents[1]

CATALOG = {
    "defaults": {"is_alert_hook": False},
    "teams": {
        "payments": {
            "defaults": {"auth_type": "bearer", "token_secret": "paymentsToken"},
            "hooks": [
                {"name": "settlement", "endpoint": "https://pay.example.com/settlement"},
                {"name": "refunds", "endpoint": "https://pay.example.com/refunds", "is_alert_hook": True},
            ],
        },
        "ops": {
            "hooks": [{"name": "pager", "endpoint": "https://ops.example.com/pager", "auth_type": "none"}],
        },
    },
}


def test_defaults_merge_global_then_team_then_entry() -> None:
    hooks = {h.key: h for h in catalog.parse(CATALOG)}
    assert set(hooks) == {"payments/settlement", "payments/refunds", "ops/pager"}
    assert hooks["payments/settlement"].secrets == {"token": "paymentsToken"}
    assert hooks["payments/settlement"].fields["isAlertHook"] is False
    assert hooks["payments/refunds"].fields["isAlertHook"] is True
    assert hooks["ops/pager"].fields["authType"] == "none"
    assert hooks["ops/pager"].secret_keys() == []


@pytest.mark.parametrize("suffix", [".yaml", ".json", ".toml"])
def test_the_three_file_formats_load_alike(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"catalog{suffix}"
    if suffix == ".yaml":
        path.write_text(yaml.safe_dump(CATALOG))
    elif suffix == ".json":
        path.write_text(json.dumps(CATALOG))
    else:
        path.write_text(
            "[defaults]\nis_alert_hook = false\n"
            '[teams.payments.defaults]\nauth_type = "bearer"\ntoken_secret = "paymentsToken"\n'
            '[[teams.payments.hooks]]\nname = "settlement"\nendpoint = "https://pay.example.com/settlement"\n'
            '[[teams.payments.hooks]]\nname = "refunds"\nendpoint = "https://pay.example.com/refunds"\n'
            "is_alert_hook = true\n"
            '[[teams.ops.hooks]]\nname = "pager"\nendpoint = "https://ops.example.com/pager"\nauth_type = "none"\n'
        )
    assert sorted(catalog.load(path), key=str) == sorted(catalog.parse(CATALOG), key=str)


def test_a_list_of_dicts_is_a_catalog_too() -> None:
    hooks = catalog.load(
        [{"team": "ops", "name": "pager", "endpoint": "https://ops.example.com/p", "auth_type": "none"}]
    )
    assert [h.key for h in hooks] == ["ops/pager"]


def test_every_problem_is_reported_at_once_with_file_entry_and_field(tmp_path: Path) -> None:
    path = tmp_path / "teams.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "teams": {
                    "payments": {
                        "defaults": {"auth_type": "bearer"},
                        "hooks": [
                            {"name": "settlement", "endpoint": "https://pay.example.com/s"},  # no token_secret
                            {"name": "refunds", "endpoint": "ftp://pay.example.com/r", "token_secret": "k"},
                            {"name": "Bad Name", "endpoint": "https://pay.example.com/b", "token_secret": "k"},
                            {"name": "leaky", "endpoint": "https://pay.example.com/l", "token": "s3cret-in-catalog"},
                            {"name": "settlement", "endpoint": "https://pay.example.com/dup", "token_secret": "k"},
                            {
                                "name": "typo",
                                "endpoint": "https://pay.example.com/t",
                                "token_secret": "k",
                                "colour": "red",
                            },
                        ],
                    },
                    "ops": {
                        "hooks": [{"name": "pager", "endpoint": "https://ops.example.com/p", "auth_type": "Basic"}]
                    },
                }
            }
        )
    )
    with pytest.raises(CatalogError) as raised:
        catalog.load(path)
    problems = raised.value.problems
    expected = [
        f"{path}: teams.payments.hooks[0] (settlement): token_secret: token is required when authType is 'bearer'",
        f"{path}: teams.payments.hooks[1] (refunds): endpoint: endpoint must be an absolute http:// or https:// URL",
        f"{path}: teams.payments.hooks[2] (Bad Name): name: 'Bad Name' is not a valid name",
        f"{path}: teams.payments.hooks[3] (leaky): token: secrets never go in a catalog",
        f"{path}: teams.payments.hooks[4] (settlement): name: 'settlement' is already used by",
        f"{path}: teams.payments.hooks[5] (typo): colour: unknown field",
        f"{path}: teams.ops.hooks[0] (pager): auth_type: authType must be exactly one of",
    ]
    for fragment in expected:
        assert any(p.startswith(fragment) for p in problems), f"{fragment!r} not in {problems}"
    assert len(problems) == len(expected)
    assert "s3cret-in-catalog" not in str(raised.value)
    # A catalog's fix is the catalog's own way to name a secret, not a Python program's.
    [missing] = [p for p in problems if "(settlement): token_secret:" in p]
    assert missing.endswith(
        "token is required when authType is 'bearer': set it with token_secret: <stack-config key> "
        "(`pulumi config set --secret <key> ...`)"
    )


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"hooks": []}, "unknown top-level key(s) hooks"),
        ({"teams": {}}, "add at least one team"),
        ({"teams": {"ops": {"hook": []}}}, "give the team a `hooks` list"),
        ("just text", "a catalog is a mapping"),
    ],
)
def test_shape_errors(data: object, fragment: str) -> None:
    with pytest.raises(CatalogError, match="problem") as raised:
        catalog.parse(data)
    assert any(fragment in p for p in raised.value.problems)


def test_unreadable_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="cannot read it"):
        catalog.load(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    with pytest.raises(CatalogError, match="not valid JSON"):
        catalog.load(bad)
    odd = tmp_path / "catalog.ini"
    odd.write_text("")
    with pytest.raises(CatalogError, match="unknown catalog format"):
        catalog.load(odd)


def test_the_example_fleet_catalog_has_fifty_hooks_across_teams() -> None:
    hooks = catalog.load(REPO / "examples" / "fleet" / "catalog.yaml")
    assert len(hooks) >= 50
    assert len({h.team for h in hooks}) >= 5
    assert {h.fields["authType"] for h in hooks} == {"none", "basic", "querystring", "authheader", "header", "bearer"}


def test_team_and_name_that_join_into_the_same_resource_name_are_refused() -> None:
    with pytest.raises(CatalogError) as raised:
        catalog.parse(
            [
                {"team": "a-b", "name": "c", "endpoint": "https://x.example.com/1", "auth_type": "none"},
                {"team": "a", "name": "b-c", "endpoint": "https://x.example.com/2", "auth_type": "none"},
            ]
        )
    assert "makes the same resource name as catalog: [0] (c)" in str(raised.value)


SPLIT = {
    "teams": {
        team: {"hooks": [{"name": "h0", "endpoint": f"https://{team}.example.com/0", "auth_type": "none"}]}
        for team in ("ops", "payments", "growth")
    }
}


def test_teams_selects_a_subset_of_the_catalog() -> None:
    hooks = catalog.load(SPLIT, teams=["payments", "ops"])
    assert sorted(h.key for h in hooks) == ["ops/h0", "payments/h0"]
    assert len(catalog.load(SPLIT)) == 3


@pytest.mark.parametrize(
    ("teams", "fragment"),
    [
        (["payments", "opz"], "teams: 'opz' is not a team of catalog; its teams are growth, ops, payments"),
        ([], "teams: the list is empty: name at least one team"),
        ("ops", "teams: give a list of team names"),
    ],
)
def test_a_team_selection_that_would_deploy_nothing_or_the_wrong_thing_is_refused(
    teams: list[str] | str, fragment: str
) -> None:
    with pytest.raises(CatalogError, match="1 problem") as raised:
        catalog.load(SPLIT, teams=teams)
    assert fragment in str(raised.value)


def test_a_selection_still_checks_the_whole_catalog() -> None:
    broken = {"teams": {**SPLIT["teams"], "data": {"hooks": [{"name": "x", "endpoint": "nope", "auth_type": "none"}]}}}
    with pytest.raises(CatalogError, match=r"teams\.data\.hooks\[0\] \(x\): endpoint"):
        catalog.load(broken, teams=["ops"])


def test_a_team_emptied_of_hooks_is_still_a_team_to_select() -> None:
    emptied = {"teams": {**SPLIT["teams"], "payments": {"hooks": []}}}
    assert catalog.load(emptied, teams=["payments"]) == []

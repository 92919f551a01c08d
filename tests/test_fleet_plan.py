"""A fleet's plan, on its own: what turns the hooks in state into the catalog's (pure, model/fleet.py)."""

from __future__ import annotations

from pulumi_webhooks.model.fleet import Plan

HOOK = {"endpoint": "https://ops.example.com/a", "authType": "bearer", "isAlertHook": False}
SECRET = {"token": "t0ken-a"}


def plan(old: dict[str, dict[str, object]], new: dict[str, dict[str, object]], **secrets: object) -> Plan:
    olds = {"hooks": old, "secrets": {key: SECRET for key in old}}
    news = {"hooks": new, "secrets": {key: secrets.get(key.replace("/", "_"), SECRET) for key in new}}
    return Plan(olds, news)


def test_the_same_hooks_said_otherwise_are_no_change() -> None:
    said_otherwise = {k: v for k, v in HOOK.items() if k != "isAlertHook"} | {"userName": ""}  # False, "" = absent
    same = plan({"ops/a": {"webhookId": "1", **HOOK}}, {"ops/a": said_otherwise})
    assert (same.creates, same.updates, same.deletes, same.detailed_diff()) == ([], [], [], {})


def test_each_change_is_one_path_of_its_kind() -> None:
    old = {
        "ops/a": {"webhookId": "1", **HOOK},
        "ops/b": {"webhookId": "2", **HOOK},
        "ops/c": {"webhookId": "3", **HOOK},
    }
    new = {
        "ops/a": {**HOOK, "endpoint": "https://ops.example.com/a2"},
        "ops/b": {**HOOK, "secretsVersion": 2},
        "ops/d": HOOK,
    }
    changed = plan(old, new)
    assert (changed.creates, changed.updates, changed.deletes) == (["ops/d"], ["ops/a", "ops/b"], ["ops/c"])
    assert changed.detailed_diff() == {
        'hooks["ops/d"]': "add",
        'hooks["ops/c"]': "delete",
        'hooks["ops/a"].endpoint': "update",
        'hooks["ops/b"].secretsVersion': "add",
        'secrets["ops/c"]': "delete",
        'secrets["ops/d"]': "add",
    }


def test_an_empty_secret_is_no_secret_and_a_new_one_is_an_update() -> None:
    emptied = plan({"ops/a": {"webhookId": "1", **HOOK}}, {"ops/a": HOOK}, ops_a={"token": ""})
    assert emptied.updates == ["ops/a"] and emptied.detailed_diff() == {'secrets["ops/a"]': "delete"}
    rotated = plan({"ops/a": {"webhookId": "1", **HOOK}}, {"ops/a": HOOK}, ops_a={"token": "t0ken-b"})
    assert rotated.detailed_diff() == {'secrets["ops/a"]': "update"}
    assert rotated.spec("ops/a").token == "t0ken-b"

"""The dynamic provider of `WebhookFleet`: every hook of a catalog in one resource, one engine step.

The engine saves the whole state after each step, so N per-hook resources cost N state
writes; a fleet costs one per operation, and its provider works through the hooks with
the connection's own bounded concurrency (`webhooks:maxConcurrentRequests`) instead of the
SDK server's four threads. Its properties are model/fleet.py's.

A hook that fails is named in the error, and the others are kept: when some hooks were made
or changed and others failed, the provider reports the resource as partly done
(`HooksFailed`, sent to the engine as ErrorResourceInitFailed), so the engine records what
exists and the next `up` works on the rest only.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ReadResult, UpdateResult

from ..api.settings import ACCOUNT
from ..errors import PartlyDone, WebhooksError
from ..model import spec
from ..model.fleet import FLAGS, HOOKS, OWN_KEYS, SECRET_MAP, VERSION_KEY, WEBHOOK_IDS, Hooks, Plan, secrets_set
from ..model.live import ID, SECRETS, VISIBLE, LiveWebhook, canonical
from ..sdk_internals import PROVIDER_KEY, is_unknown, send_detailed_diff
from . import gone
from .connection import Connection, connection_of


class HooksFailed(PartlyDone):
    """Some of a fleet's hooks failed, named by key with their reason, one line per reason; `done`
    counts the others."""

    def __init__(self, failures: Mapping[str, Exception], resource_id: str, done: dict[str, Any] | None) -> None:
        reasons = _reasons(failures)
        listed = "\n".join(f"  - {reason}" for reason in reasons)
        super().__init__(f"{len(failures)} hook(s) of the fleet failed:\n{listed}", reasons, resource_id, done)


class FleetProvider(Connection):
    """The provider of a `WebhookFleet`'s one resource, on the connection its `WebhookProvider` names."""

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        self.raise_config_error()
        hooks, secrets = news.get(HOOKS), news.get(SECRET_MAP)
        failures = []
        if is_unknown(hooks):
            pass  # a preview's: checked once it is known
        elif not isinstance(hooks, dict):
            failures.append(CheckFailure(HOOKS, "hooks must map each hook's key to its fields"))
        elif not is_unknown(secrets):
            for key, fields in sorted(hooks.items()):
                given = (secrets or {}).get(key) or {}
                checked = {k: v for k, v in {**fields, **given}.items() if k not in OWN_KEYS and v not in (None, "")}
                unknown = {k for k, v in checked.items() if is_unknown(v)}
                failures += [
                    CheckFailure(HOOKS, f"{key}: {p.property}: {p.reason}")
                    for p in spec.find_problems(checked, unknown, self.secret_hint)
                ]
                if problem := spec.secrets_version_problem(fields.get(VERSION_KEY)):
                    failures.append(CheckFailure(HOOKS, f"{key}: {VERSION_KEY}: {problem}"))
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        old_provider = olds.get(PROVIDER_KEY)
        moved = (
            old_provider != news.get(PROVIDER_KEY) and connection_of(old_provider, self.connection) != self.connection
        )
        if moved:  # another account: every hook must be made anew there
            return DiffResult(changes=True, replaces=[PROVIDER_KEY], delete_before_replace=False)
        held: Hooks = olds.get(HOOKS) or {}
        if held:
            first = min(held)
            gone.check_still_there(olds.get(ACCOUNT), self.client, str(held[first][ID]), f"hook {first} is")
        if is_unknown(news.get(HOOKS)) or is_unknown(news.get(SECRET_MAP)):
            return DiffResult(changes=True, replaces=[], delete_before_replace=False)
        plan = Plan(olds, news)
        changes = plan.detailed_diff()
        if changes:  # the CLI then shows the hooks that change and how, not all of them
            send_detailed_diff(changes)
        return DiffResult(changes=bool(changes), replaces=[])

    def create(self, props: dict[str, Any]) -> CreateResult:
        resource_id = uuid.uuid4().hex
        state = _State({}, {}, props.get(PROVIDER_KEY), self.client.settings.account())
        self._apply(resource_id, Plan({}, props), state)
        return CreateResult(resource_id, state.outputs())

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        hooks, secrets = dict(olds.get(HOOKS) or {}), dict(olds.get(SECRET_MAP) or {})
        state = _State(hooks, secrets, news.get(PROVIDER_KEY), self.client.settings.account())
        self._apply(id_, Plan(olds, news), state)
        return UpdateResult(state.outputs())

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """The fleet as the API holds it: drift, and hooks deleted out of band. One listing tells most;
        a hook it leaves out or shows otherwise than state is read by id, since the list may lag."""
        old_hooks: Hooks = props.get(HOOKS) or {}
        old_secrets: Hooks = props.get(SECRET_MAP) or {}
        live = self._read_hooks(id_, old_hooks, old_secrets)
        missing = sorted(key for key, hook in live.items() if hook is None)
        if missing:
            recorded = props.get(ACCOUNT)
            gone.check_account(recorded, self.client.settings, f"{len(missing)} hook(s) of the fleet are")
            examples = [f"{key} ({old_hooks[key][ID]})" for key in missing]
            gone.check_share(len(missing), len(old_hooks), examples, self.client.settings, "hooks of the fleet")
        hooks: Hooks = {}
        secrets: Hooks = {}
        for key, found in live.items():
            if found is None:
                continue  # deleted out of band: the next `up` creates it again
            hooks[key] = {ID: found.id, **_fields(found), **_own(old_hooks[key], VERSION_KEY)}
            # Reads mask secrets: keep the one in state while the API says it is set.
            kept = {name: value for name, value in (old_secrets.get(key) or {}).items() if name in found.secrets_set}
            if kept:
                secrets[key] = kept
        inputs = {HOOKS: {key: _without_id(fields) for key, fields in hooks.items()}, SECRET_MAP: secrets}
        outs = _outputs(hooks, secrets) | {ACCOUNT: self.client.settings.account()}
        return ReadResult(id_=id_, outs=outs, inputs=inputs)

    def _read_hooks(self, id_: str, old_hooks: Hooks, old_secrets: Hooks) -> dict[str, LiveWebhook | None]:
        """Each hook of state as the API holds it, None when `GET /webhooks/{id}` says it is gone."""
        if not old_hooks:
            return {}  # nothing to read: no call
        listed = {hook.id: hook for hook in self.client.listing().hooks}
        live: dict[str, LiveWebhook | None] = {}
        unsure: dict[str, str] = {}
        for key, old in old_hooks.items():
            found = listed.get(str(old.get(ID)))
            if found is not None and _agrees(old, secrets_set(old_secrets, key), found):
                live[key] = found
            else:
                unsure[key] = str(old.get(ID))
        proofs = self.client.fan_out.run(
            {key: _bound(self.client.get, webhook_id) for key, webhook_id in unsure.items()}
        )
        if proofs.failures:  # whether those exist cannot be told: nothing is dropped
            raise HooksFailed(proofs.failures, id_, None)
        return live | proofs.results

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        hooks: Hooks = props.get(HOOKS) or {}
        outcome = self.client.fan_out.run({key: _bound(self.client.delete, str(h[ID])) for key, h in hooks.items()})
        if outcome.failures:
            # State keeps every hook; deleting the gone ones again is a no-op.
            raise HooksFailed(outcome.failures, id_, None)

    def _apply(self, resource_id: str, plan: Plan, state: _State) -> None:
        """Runs the plan: deletes first (a hook renamed in the catalog is deleted before it is made
        anew, as a replace of a `Webhook` is), then creates and updates, all at once."""
        failures: dict[str, Exception] = {}
        deleted = self.client.fan_out.run({key: _bound(self.client.delete, state.id_of(key)) for key in plan.deletes})
        for key in deleted.results:
            state.drop(key)
        failures |= deleted.failures
        writes: dict[str, Callable[[], str]] = {}
        for key in plan.creates:
            webhook, adopt_id = plan.spec(key), plan.adopt_id(key)
            writes[key] = (
                _bound(self.client.adopt, adopt_id, webhook) if adopt_id else _bound(self.client.create, webhook)
            )
        for key in plan.updates:
            writes[key] = _update(self.client.update, state.id_of(key), plan.spec(key))
        written = self.client.fan_out.run(writes)
        for key, webhook_id in written.results.items():
            state.put(key, webhook_id, plan.spec(key), plan.hooks[key].get(VERSION_KEY))
        failures |= written.failures
        done = len(deleted.results) + len(written.results)
        if failures:
            raise HooksFailed(failures, resource_id, state.outputs() if done else None)


class _State:
    """The fleet's outputs as the plan runs: what the API holds now."""

    def __init__(self, hooks: Hooks, secrets: Hooks, provider: Any, account: dict[str, Any]) -> None:
        self.hooks = hooks
        self.secrets = secrets
        self.provider = provider
        self.account = account

    def id_of(self, key: str) -> str:
        return str(self.hooks[key][ID])

    def put(self, key: str, webhook_id: str, webhook: spec.WebhookSpec, version: Any) -> None:
        body = webhook.to_api()
        kept_version = {} if version is None else {VERSION_KEY: version}
        self.hooks[key] = {ID: webhook_id, **_fields(LiveWebhook.of(webhook_id, body)), **kept_version}
        kept = {name: body[name] for name in SECRETS if body.get(name)}
        if kept:
            self.secrets[key] = kept
        else:
            self.secrets.pop(key, None)

    def drop(self, key: str) -> None:
        self.hooks.pop(key, None)
        self.secrets.pop(key, None)

    def outputs(self) -> dict[str, Any]:
        provider = {} if self.provider is None else {PROVIDER_KEY: self.provider}
        return _outputs(self.hooks, self.secrets) | {ACCOUNT: self.account} | provider


def _outputs(hooks: Hooks, secrets: Hooks) -> dict[str, Any]:
    return {
        HOOKS: dict(sorted(hooks.items())),
        SECRET_MAP: dict(sorted(secrets.items())),
        WEBHOOK_IDS: {key: str(hook[ID]) for key, hook in sorted(hooks.items())},
    }


def _fields(hook: LiveWebhook) -> dict[str, Any]:
    """A hook's visible fields as state keeps them: unset ones left out, flags explicit."""
    return {name: value for name, value in hook.fields.items() if value is not None or name in FLAGS}


def _agrees(old: Mapping[str, Any], secrets_set: Mapping[str, Any], listed: LiveWebhook) -> bool:
    """Whether a listed hook shows what state holds of it (what a list that lags may not)."""
    same_fields = all(canonical(name, old.get(name)) == canonical(name, listed.fields.get(name)) for name in VISIBLE)
    return same_fields and set(secrets_set) == set(listed.secrets_set)


def _own(hook: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The provider's own property `name` of a hook in state, if it has it: the API never shows it."""
    return {name: hook[name]} if hook.get(name) is not None else {}


def _without_id(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if name != ID}


def _bound(call: Callable[..., Any], *args: Any) -> Callable[[], Any]:
    return lambda: call(*args)


def _update(
    update: Callable[[str, spec.WebhookSpec], None], webhook_id: str, webhook: spec.WebhookSpec
) -> Callable[[], str]:
    def call() -> str:
        update(webhook_id, webhook)
        return webhook_id

    return call


def _reasons(failures: Mapping[str, Exception]) -> list[str]:
    """One line per cause: `key: reason` for a hook alone in its cause, `N hooks (keys...): reason` for
    many (the API down fails every hook alike). A bug says so, with its type."""
    by_cause: dict[str, list[tuple[str, str]]] = {}
    for key, failure in sorted(failures.items()):
        said = str(failure) if isinstance(failure, WebhooksError) else f"{type(failure).__name__}: {failure} (a bug)"
        by_cause.setdefault(_WEBHOOK_PATH.sub("/webhooks/{id}", said), []).append((key, said))
    lines = []
    for cause, hooks in by_cause.items():
        if len(hooks) == 1:
            lines.append(f"{hooks[0][0]}: {hooks[0][1]}")
            continue
        keys = [key for key, _ in hooks]
        named = ", ".join(keys[:SHOWN_KEYS]) + (f" and {len(keys) - SHOWN_KEYS} more" if len(keys) > SHOWN_KEYS else "")
        lines.append(f"{len(keys)} hooks ({named}): {cause}")
    return lines


SHOWN_KEYS = 5
_WEBHOOK_PATH = re.compile(r"/webhooks/[^\s/:)]+")


# The address state pickles it by (see the package's docstring), wherever the class is written.
FleetProvider.__module__ = "pulumi_webhooks.provider"

"""The dynamic provider of `Webhook`: one webhook's lifecycle as the Pulumi engine drives it."""

from __future__ import annotations

from typing import Any

from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ReadResult, UpdateResult

from ..api.settings import ACCOUNT
from ..model import spec
from ..model.live import ID, canonical
from ..sdk_internals import PROVIDER_KEY, is_unknown
from . import gone
from .connection import Connection, connection_of

ADOPT_KEY = spec.API_NAMES["adopt_id"]
VERSION_KEY = spec.API_NAMES["secrets_version"]
INPUT_KEYS = tuple(spec.API_NAMES[name] for name in spec.WebhookSpec.model_fields)
SECRET_KEYS = tuple(spec.API_NAMES[name] for name in spec.SECRET_FIELDS)
CREDENTIAL_KEYS = tuple(spec.API_NAMES[name] for name in spec.CREDENTIAL_FIELDS)
FLAG_KEY = spec.API_NAMES["is_alert_hook"]


class WebhookProvider(Connection):
    """A connection to one webhooks API account, passed to `Webhook(..., provider=...)`.

    `WebhookProvider()` is the default connection. It reads, from stack config or else the
    environment: `webhooks:apiUrl` (`WEBHOOKS_API_URL`, required); `webhooks:apiToken`
    (`WEBHOOKS_API_TOKEN`), or `webhooks:apiUserName` with `webhooks:apiPassword`
    (`WEBHOOKS_API_USERNAME`, `WEBHOOKS_API_PASSWORD`); `webhooks:timeoutSeconds` (30),
    `webhooks:maxRequestsPerSecond` (no limit) and `webhooks:createLookAlikes` (false).

    Args:
        connection: A named connection: `WebhookProvider("billing")` reads
            `webhooks:billing.apiUrl` / `WEBHOOKS_BILLING_API_URL`, and so on. Letters, digits
            and underscores, starting with a letter. Moving a webhook to another connection
            replaces it.
    """

    # -- lifecycle ------------------------------------------------------------

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        self.raise_config_error()
        props = {k: v for k, v in news.items() if k != PROVIDER_KEY}
        unknown = {k for k, v in props.items() if is_unknown(v)}
        problems = spec.find_problems(_inputs(props) | _extras(props), unknown, self.secret_hint)
        failures = [CheckFailure(p.property, p.reason) for p in problems]
        adopt_id = props.get(ADOPT_KEY)
        if adopt_id is not None and ADOPT_KEY not in unknown and not (isinstance(adopt_id, str) and adopt_id.strip()):
            failures.append(CheckFailure(ADOPT_KEY, "adoptId must be the id of an existing webhook, such as '42'"))
        if VERSION_KEY not in unknown and (problem := spec.secrets_version_problem(props.get(VERSION_KEY))):
            failures.append(CheckFailure(VERSION_KEY, problem))
        return CheckResult(props if failures else _normalized(props), failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        old_provider = olds.get(PROVIDER_KEY)
        moved = (
            old_provider != news.get(PROVIDER_KEY) and connection_of(old_provider, self.connection) != self.connection
        )
        if moved:
            # Another account: the webhook must be made anew there.
            return DiffResult(changes=True, replaces=[PROVIDER_KEY], delete_before_replace=False)
        gone.check_still_there(olds.get(ACCOUNT), self.client, _id, f"webhook {_id} is")
        return DiffResult(changes=bool(changed_keys(olds, news)), replaces=[], delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        webhook = spec.parse(_inputs(props))
        adopt_id = props.get(ADOPT_KEY)
        webhook_id = self.client.adopt(str(adopt_id), webhook) if adopt_id else self.client.create(webhook)
        return CreateResult(webhook_id, self._outputs(webhook_id, webhook, props))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        live = self.client.get(id_)
        reads = gone.tally(self.connection)
        if live is None:
            # Gone, unless it was made in another account, or most webhooks read so far are gone too.
            gone.check_account(props.get(ACCOUNT), self.client.settings, f"webhook {id_} is")
            missing, read = reads.saw_gone()
            gone.check_share(
                missing, read, [f"webhook {id_}"], self.client.settings, "webhooks this refresh read so far"
            )
            return ReadResult(id_="", outs={})
        reads.saw_found()
        refreshed: dict[str, Any] = dict(live.fields)
        # Reads mask secrets: keep the value from state while the API says one is set,
        # drop it when the API says none is. Props without an id are not our state
        # but an import's inputs, which cannot vouch for the API's secret: dropping
        # it makes the next `up` write the program's value.
        ours = ID in props
        for key in SECRET_KEYS:
            refreshed[key] = props.get(key) if ours and key in live.secrets_set else None
        version = {VERSION_KEY: props[VERSION_KEY]} if props.get(VERSION_KEY) is not None else {}
        inputs = {k: v for k, v in refreshed.items() if v is not None} | version
        outs = {ID: id_, **refreshed, **version, ACCOUNT: self.client.settings.account()}
        return ReadResult(id_=id_, outs=outs, inputs=inputs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        webhook = spec.parse(_inputs(news))
        self.client.update(id_, webhook)
        return UpdateResult(self._outputs(id_, webhook, news))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        self.client.delete(id_)

    def _outputs(self, webhook_id: str, webhook: spec.WebhookSpec, props: dict[str, Any]) -> dict[str, Any]:
        """What state keeps: the id, the fields as written, the secrets version, and the account."""
        body = webhook.model_dump(mode="json", by_alias=True)
        version = {VERSION_KEY: props[VERSION_KEY]} if props.get(VERSION_KEY) is not None else {}
        return {ID: webhook_id, **body, **version, ACCOUNT: self.client.settings.account()}


# The address state pickles it by (see the package's docstring), wherever the class is written.
WebhookProvider.__module__ = "pulumi_webhooks.provider"


def _inputs(props: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items() if k in INPUT_KEYS}


def _extras(props: dict[str, Any]) -> dict[str, Any]:
    """Properties that are neither webhook fields nor the provider's own: the spec rejects them by name."""
    return {k: v for k, v in props.items() if k not in (*INPUT_KEYS, ADOPT_KEY, VERSION_KEY)}


def _normalized(props: dict[str, Any]) -> dict[str, Any]:
    """Inputs as state keeps them: empty credentials dropped, the alert flag explicit."""
    out = {k: v for k, v in props.items() if not (k in CREDENTIAL_KEYS and v == "")}
    out.setdefault(FLAG_KEY, False)
    return out


def changed_keys(olds: dict[str, Any], news: dict[str, Any]) -> list[str]:
    """The properties an update would change: state's `olds`, the program's `news`."""
    return [key for key in (*INPUT_KEYS, VERSION_KEY) if _differs(olds.get(key), news.get(key), key)]


def _differs(old: Any, new: Any, key: str) -> bool:
    return is_unknown(new) or canonical(key, old) != canonical(key, new)

"""Webhook catalogs: many hooks across teams, in YAML, JSON or TOML, checked all at once.

    defaults:                     # optional: for every hook
      is_alert_hook: false
    teams:
      payments:
        defaults:                 # optional: for this team's hooks
          auth_type: bearer
          token_secret: paymentsHookToken   # a stack-config key, never the secret
        hooks:
          - name: settlement
            endpoint: https://payments.example.com/hooks/settlement

A catalog may also be a list of hook dicts, each with its `team`. Pure: no
I/O beyond reading the file, no Pulumi.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, ValidationError, create_model

from ..errors import WebhooksError
from .spec import API_NAMES, FLAG_FIELDS, SECRET_FIELDS, WebhookSpec, find_problems, secrets_version_problem

NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
NAME_RULE = "lowercase letters, digits and dashes, starting with a letter or digit"
# Secrets are referenced by stack-config key (`token_secret: hookToken`): a value is an error.
# The catalog's name of each webhook property, for messages.
CATALOG_SECRET_HINT = "with {field}_secret: <stack-config key> (`pulumi config set --secret <key> ...`)"
CATALOG_NAMES = {API_NAMES[f]: f"{f}_secret" if f in SECRET_FIELDS else f for f in WebhookSpec.model_fields}


def _catalog_fields() -> dict[str, Any]:
    """What a catalog says of a hook, from the spec: each webhook field by its Python name
    (`<name>_secret` for a secret: the stack-config key that holds it), and `adopt_id`."""
    fields: dict[str, Any] = {}
    for name in WebhookSpec.model_fields:
        if name in SECRET_FIELDS:
            fields[f"{name}_secret"] = (
                StrictStr | None,
                Field(default=None, description=f"stack-config key of {name}"),
            )
        else:  # the spec's own rules judge the values, with its messages; here, the types only
            fields[name] = (StrictBool | None if name in FLAG_FIELDS else StrictStr | None, None)
    fields["adopt_id"] = (StrictStr | int | None, None)
    fields["secrets_version"] = (StrictStr | int | None, None)
    return fields


_STRICT = ConfigDict(extra="forbid", hide_input_in_errors=True)
HookFields = create_model("HookFields", __config__=_STRICT, **_catalog_fields())
"""What a catalog entry, or a defaults block, may say about a hook."""
Entry = create_model("Entry", __base__=HookFields, name=(StrictStr, ...), team=(StrictStr | None, None))
"""A catalog entry: a hook's fields, its name and its team."""


@dataclass(frozen=True)
class Hook:
    """One hook of a checked catalog, with team and entry defaults applied."""

    team: str
    name: str
    fields: Mapping[str, Any]
    """Every webhook field but the secrets, by API name, as the spec takes them (flags explicit)."""
    secrets: Mapping[str, str]
    """The API name of each secret the hook has, and the stack-config key that holds it."""
    adopt_id: str | None = None
    secrets_version: str | int | None = None
    """Changing it sends the secrets again (after a rotation in the vendor's UI, say)."""

    @property
    def key(self) -> str:
        """Stable identity in the catalog, and the basis of the resource name."""
        return f"{self.team}/{self.name}"

    @property
    def resource_suffix(self) -> str:
        """The part of the Pulumi resource name after the fleet's name."""
        return f"{self.team}-{self.name}"

    @property
    def endpoint(self) -> str:
        return str(self.fields[API_NAMES["endpoint"]])

    def secret_keys(self) -> list[str]:
        return list(self.secrets.values())


class CatalogError(WebhooksError, ValueError):
    """Every problem of a catalog, each naming the source, the entry and the field."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            f"{len(problems)} problem(s) in the webhook catalog:\n" + "\n".join(f"  - {p}" for p in problems)
        )


def load(
    source: str | Path | Sequence[Mapping[str, Any]] | Mapping[str, Any], teams: Sequence[str] | None = None
) -> list[Hook]:
    """The hooks of a catalog file or object, of the given teams only when `teams` is set;
    raises `CatalogError` listing every problem. The whole catalog is checked either way."""
    origin = str(source) if isinstance(source, (str, Path)) else "catalog"
    data = _read(Path(source)) if isinstance(source, (str, Path)) else source
    hooks = parse(data, origin=origin)
    if teams is None:
        return hooks
    named = data.get("teams") if isinstance(data, Mapping) else None
    # A team with no hooks left is still a team: emptying it must delete its hooks, not fail.
    known = {str(team) for team in named} if isinstance(named, Mapping) else {hook.team for hook in hooks}
    return select(hooks, teams, known, origin)


def select(hooks: list[Hook], teams: Sequence[str], known: set[str], origin: str = "catalog") -> list[Hook]:
    """The hooks of `teams`: how one catalog is split across stacks. Every name must be a team
    of the catalog (one of `known`), so a typo cannot silently deploy (or destroy) nothing."""
    listed = sorted(known)
    if isinstance(teams, str) or not all(isinstance(team, str) for team in teams):
        raise CatalogError([f"teams: give a list of team names, such as {listed[:2]}"])
    if not teams:
        raise CatalogError(["teams: the list is empty: name at least one team, or leave teams out for all of them"])
    unknown = [team for team in teams if team not in known]
    if unknown:
        raise CatalogError(
            [f"teams: '{team}' is not a team of {origin}; its teams are {', '.join(listed)}" for team in unknown]
        )
    chosen = set(teams)
    return [hook for hook in hooks if hook.team in chosen]


def _read(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise CatalogError([f"{path}: cannot read it: {error.strerror}"]) from None
    try:
        if path.suffix in (".yaml", ".yml"):
            return yaml.safe_load(text)
        if path.suffix == ".json":
            return json.loads(text)
        if path.suffix == ".toml":
            return tomllib.loads(text)
    except (yaml.YAMLError, ValueError) as error:
        raise CatalogError([f"{path}: not valid {path.suffix[1:].upper()}: {error}"]) from None
    raise CatalogError([f"{path}: unknown catalog format: use .yaml, .yml, .json or .toml"])


def parse(data: Any, origin: str = "catalog") -> list[Hook]:
    """Checks a whole catalog and returns its hooks, or raises with every problem found."""
    problems: list[str] = []
    raw_entries = list(_entries(data, origin, problems))
    hooks: list[Hook] = []
    seen: dict[str, str] = {}
    suffixes: dict[str, str] = {}
    for where, defaults, raw in raw_entries:
        if isinstance(raw, Mapping):
            key = f"{raw.get('team', defaults.get('team'))}/{raw.get('name')}"
            if key in seen:
                problems.append(f"{where}: name: '{raw.get('name')}' is already used by {seen[key]} in the same team")
                continue
            seen[key] = where
        hook = _hook(where, defaults, raw, problems)
        if hook is None:
            continue
        # Resource names join team and name with a dash, which names may contain too.
        if hook.resource_suffix in suffixes:
            problems.append(
                f"{where}: name: team '{hook.team}' with name '{hook.name}' makes the same resource name "
                f"as {suffixes[hook.resource_suffix]}: rename one of them"
            )
            continue
        suffixes[hook.resource_suffix] = where
        hooks.append(hook)
    if problems:
        raise CatalogError(problems)
    return hooks


def _entries(data: Any, origin: str, problems: list[str]) -> Any:
    """(where, merged defaults, raw entry) for every entry, in either catalog shape."""
    if isinstance(data, list):
        for i, raw in enumerate(data):
            yield f"{origin}: [{i}]{_label(raw)}", {}, raw
        return
    if not isinstance(data, Mapping):
        problems.append(f"{origin}: a catalog is a mapping with `teams`, or a list of hooks")
        return
    unknown = set(data) - {"defaults", "teams"}
    if unknown:
        problems.append(
            f"{origin}: unknown top-level key(s) {', '.join(sorted(map(str, unknown)))}: use defaults and teams"
        )
    top = _defaults(data.get("defaults"), f"{origin}: defaults", problems)
    teams = data.get("teams")
    if not isinstance(teams, Mapping) or not teams:
        problems.append(f"{origin}: teams: add at least one team, as `teams: {{name: {{hooks: [...]}}}}`")
        return
    for team, block in teams.items():
        where = f"{origin}: teams.{team}"
        if not isinstance(block, Mapping) or not isinstance(block.get("hooks"), list):
            problems.append(f"{where}: give the team a `hooks` list")
            continue
        extra = set(block) - {"defaults", "hooks"}
        if extra:
            problems.append(f"{where}: unknown key(s) {', '.join(sorted(map(str, extra)))}: use defaults and hooks")
        merged = {**top, **_defaults(block.get("defaults"), f"{where}.defaults", problems), "team": team}
        for i, raw in enumerate(block["hooks"]):
            yield f"{where}.hooks[{i}]{_label(raw)}", merged, raw


def _label(raw: Any) -> str:
    return f" ({raw['name']})" if isinstance(raw, Mapping) and isinstance(raw.get("name"), str) else ""


def _defaults(raw: Any, where: str, problems: list[str]) -> dict[str, Any]:
    if raw is None:
        return {}
    problems_before = len(problems)
    _validate(HookFields, raw, where, problems)
    return dict(raw) if len(problems) == problems_before else {}


def _validate(model: type[BaseModel], raw: Any, where: str, problems: list[str]) -> BaseModel | None:
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: expected a mapping of fields")
        return None
    for field in SECRET_FIELDS:
        if field in raw:
            problems.append(
                f"{where}: {field}: secrets never go in a catalog; reference a stack-config key "
                f"with {field}_secret: <key> (`pulumi config set --secret <key> ...`)"
            )
    fields = {k: v for k, v in raw.items() if k not in SECRET_FIELDS}
    try:
        return model.model_validate(fields)
    except ValidationError as error:
        for detail in error.errors(include_url=False, include_input=False):
            field = ".".join(str(part) for part in detail["loc"]) or "entry"
            message = "unknown field" if detail["type"] == "extra_forbidden" else detail["msg"]
            problems.append(f"{where}: {field}: {message}")
        return None


def _hook(where: str, defaults: Mapping[str, Any], raw: Any, problems: list[str]) -> Hook | None:
    merged = {**defaults, **raw} if isinstance(raw, Mapping) else raw
    entry = _validate(Entry, merged, where, problems)
    if entry is None:
        return None
    values = entry.model_dump()
    ok = True
    if not values["team"] or not NAME.match(values["team"]):
        problems.append(f"{where}: team: give each hook a team: {NAME_RULE}")
        ok = False
    if not NAME.match(values["name"]):
        problems.append(f"{where}: name: '{values['name']}' is not a valid name: {NAME_RULE}")
        ok = False
    fields = {
        API_NAMES[f]: bool(values[f]) if f in FLAG_FIELDS else values[f]
        for f in WebhookSpec.model_fields
        if f not in SECRET_FIELDS
    }
    secrets = {API_NAMES[f]: values[f"{f}_secret"] for f in SECRET_FIELDS if values[f"{f}_secret"]}
    # The webhook rules themselves, with referenced secrets standing in as present. A secret given
    # in the wrong place still counts as given: it is reported once, above.
    stand_ins = {API_NAMES[f]: "<secret>" for f in SECRET_FIELDS if API_NAMES[f] in secrets or f in merged}
    known = {k: v for k, v in fields.items() if v is not None} | stand_ins
    for problem in find_problems(known, secret_hint=CATALOG_SECRET_HINT):
        field = CATALOG_NAMES.get(problem.property, problem.property)
        problems.append(f"{where}: {field}: {problem.reason}")
        ok = False
    if version_problem := secrets_version_problem(values["secrets_version"], "secrets_version"):
        problems.append(f"{where}: secrets_version: {version_problem}")
        ok = False
    if not ok:
        return None
    adopt_id = values["adopt_id"]
    return Hook(
        team=values["team"],
        name=values["name"],
        fields={k: v for k, v in fields.items() if v is not None},
        secrets=secrets,
        adopt_id=None if adopt_id is None else str(adopt_id),
        secrets_version=values["secrets_version"],
    )

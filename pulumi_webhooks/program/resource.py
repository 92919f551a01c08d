"""The user-facing `Webhook` resource and its `WebhookArgs`."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import pulumi
from pulumi import dynamic

from ..model.endpoint import embeds_credentials
from ..model.spec import API_NAMES, FLAG_FIELDS, PYTHON_NAMES, REQUIRED_FIELDS, SECRET_FIELDS, AuthType, WebhookSpec
from ..provider import WebhookProvider
from ..sdk_internals import register_at, restore_sdk_pickler
from . import preflight
from .callsite import user_call_site


@dataclass
class WebhookArgs:
    """The webhook's inputs, for `Webhook(name, WebhookArgs(...))`; each may be a plain value or an Input.

    The attributes mean what `Webhook`'s keyword arguments of the same names mean.
    """

    endpoint: pulumi.Input[str]
    """The http(s) URL the webhook calls, at most 2,048 characters (API: `endpoint`)."""
    auth_type: pulumi.Input[AuthType | str]
    """How the webhook authenticates to its endpoint: an `AuthType` or its string (API: `authType`)."""
    is_alert_hook: pulumi.Input[bool] = False
    """The hook receives alerts (API: `isAlertHook`)."""
    user_name: pulumi.Input[str] | None = None
    """For `basic` only; at most 256 characters, no `:` (API: `userName`)."""
    password: pulumi.Input[str] | None = None
    """For `basic` only; always secret; at most 1,024 characters."""
    token: pulumi.Input[str] | None = None
    """For `querystring`, `authheader`, `header` and `bearer` only; always secret; at most 4,096 visible ASCII."""
    adopt_id: pulumi.Input[str] | None = None
    """Take over the existing webhook with this id instead of creating one (docs/resource.md, "Adopting")."""
    secrets_version: pulumi.Input[int | str] | None = None
    """Change it to send the password or token again, as after a rotation in the vendor's UI."""


ARGUMENTS = tuple(f.name for f in fields(WebhookArgs))
"""The webhook's own arguments, keyword or WebhookArgs: the spec's fields, then adopt_id and secrets_version."""
CHECKED_ARGS = tuple(WebhookSpec.model_fields)
"""The arguments that the spec's rules judge (adopt_id and secrets_version are the provider's concern)."""


class Webhook(dynamic.Resource, module="webhooks", name="Webhook"):
    """A webhook of the vendor API, e.g.::

        Webhook("alerts", endpoint="https://ops.example.com/hook",
                auth_type="bearer", token=config.require_secret("hookToken"))

    `pulumi preview` checks every webhook of the program before any API call and reports
    each invalid one at its line (docs/resource.md lists every rule).

    Args:
        resource_name: The resource's name in the stack; renaming it replaces the webhook
            unless `opts.aliases` names the old one.
        args: A `WebhookArgs` instead of the keyword arguments below (not both).
        opts: Pulumi resource options. `delete_before_replace` defaults to True here: two
            live copies would deliver every event twice.
        endpoint: The absolute http:// or https:// URL the webhook calls: a host, no
            `user:pass@`, no `#fragment`, no spaces or line breaks, at most 2,048
            characters. Stored exactly as written.
        auth_type: How the webhook authenticates to its endpoint: `AuthType` or one of
            `none`, `basic`, `querystring`, `authheader`, `header`, `bearer`.
        is_alert_hook: The hook receives alerts (default False).
        user_name: For `basic` only: at most 256 characters, no `:`.
        password: For `basic` only: always secret, at most 1,024 characters.
        token: For `querystring`, `authheader`, `header` and `bearer` only: always secret,
            visible ASCII, at most 4,096 characters.
        adopt_id: The id of an existing webhook to take over instead of creating one; it is
            updated to the values above. Ignored once the webhook is in state; then remove it.
        secrets_version: A number or short text; changing it sends the password or token
            again (the API never shows them, so a value changed in the vendor's UI is never
            seen as drift). Nothing else changes.
        provider: The API connection: `WebhookProvider()` (the default) or
            `WebhookProvider("name")` for a named one.

    Attributes:
        webhook_id: The API's id of the webhook.
        endpoint, auth_type, is_alert_hook, user_name: As given.
        password, token: As given, secret.
    """

    webhook_id: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    auth_type: pulumi.Output[str]
    is_alert_hook: pulumi.Output[bool]
    user_name: pulumi.Output[str | None]
    password: pulumi.Output[str | None]
    token: pulumi.Output[str | None]

    def __init__(
        self,
        resource_name: str,
        args: WebhookArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
        *,
        endpoint: pulumi.Input[str] | None = None,
        auth_type: pulumi.Input[AuthType | str] | None = None,
        is_alert_hook: pulumi.Input[bool] | None = None,
        user_name: pulumi.Input[str] | None = None,
        password: pulumi.Input[str] | None = None,
        token: pulumi.Input[str] | None = None,
        adopt_id: pulumi.Input[str] | None = None,
        secrets_version: pulumi.Input[int | str] | None = None,
        provider: WebhookProvider | None = None,
    ) -> None:
        passed = dict(locals())  # the parameters: nothing else is defined yet
        given = {name: passed[name] for name in ARGUMENTS if passed[name] is not None}
        if args is not None:
            if given:
                raise TypeError(
                    f"Webhook {resource_name!r}: pass either args=WebhookArgs(...) or keyword "
                    f"arguments, not both (got {', '.join(sorted(given))} as keywords)"
                )
            given = {f.name: getattr(args, f.name) for f in fields(args)}
        missing = [name for name in REQUIRED_FIELDS if given.get(name) is None]
        if missing:
            raise TypeError(f"Webhook {resource_name!r}: missing required argument(s): {', '.join(missing)}")

        props: dict[str, Any] = {name: given.get(name) for name in ARGUMENTS}
        for name in FLAG_FIELDS:
            props[name] = False if props[name] is None else props[name]
        props["auth_type"] = pulumi.Output.from_input(props["auth_type"]).apply(_auth_type_value)
        props["endpoint"] = pulumi.Output.from_input(props["endpoint"]).apply(_secret_if_credentials)
        for name in SECRET_FIELDS:
            if props[name] is not None:
                props[name] = pulumi.Output.secret(props[name])
        if props["adopt_id"] is not None:
            props["adopt_id"] = pulumi.Output.from_input(props["adopt_id"]).apply(str)
        props["webhook_id"] = None

        # Checked with every other webhook of the program before any registers (see preflight).
        site = user_call_site()
        checked = {API_NAMES[name]: props[name] for name in CHECKED_ARGS}
        verdict = preflight.declare(resource_name, site, checked)
        props["endpoint"] = pulumi.Output.all(verdict, props["endpoint"]).apply(lambda pair: pair[1])

        # Replace deletes first unless told otherwise: two live copies would deliver every event
        # twice, and the create would meet the old one as a look-alike (see the client).
        delete_first = True if opts is None or opts.delete_before_replace is None else opts.delete_before_replace
        opts = pulumi.ResourceOptions.merge(
            opts,
            pulumi.ResourceOptions(additional_secret_outputs=list(SECRET_FIELDS), delete_before_replace=delete_first),
        )
        registration = (provider or WebhookProvider(), resource_name, props, opts)
        with restore_sdk_pickler():
            if site is None:
                super().__init__(*registration)
            else:  # state records the user's line as the position, and no other frame
                register_at(site, super().__init__, *registration)

    def translate_input_property(self, prop: str) -> str:
        return API_NAMES.get(prop, prop)

    def translate_output_property(self, prop: str) -> str:
        return PYTHON_NAMES.get(prop, prop)


def _secret_if_credentials(endpoint: str) -> pulumi.Input[str]:
    # check() rejects such a URL, but the engine quotes the value when it does.
    return pulumi.Output.secret(endpoint) if embeds_credentials(endpoint) else endpoint


def _auth_type_value(value: AuthType | str | None) -> str | None:
    return value.value if isinstance(value, AuthType) else value

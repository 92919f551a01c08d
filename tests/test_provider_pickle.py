"""The provider's address in state: `pulumi_webhooks.provider.WebhookProvider`, forever.

Every stack's state holds, in each webhook's `__provider`, the provider as the SDK pickles it:
by reference to that module path and class name. A stack deployed with an earlier release
must keep working after an upgrade, so these values, recorded from release 0.1.0 before the
modules moved into subpackages, must load, and today's pickles must be the same bytes.
"""

from __future__ import annotations

import base64
import subprocess
import sys

import dill
from pulumi.dynamic.dynamic import serialize_provider

from pulumi_webhooks.provider import WebhookProvider

RECORDED = {
    None: (
        "gASVRQAAAAAAAACMGHB1bHVtaV93ZWJob29rcy5wcm92aWRlcpSMD1dlYmhvb2tQcm92aWRlcpSTlCmBlH2UjApjb25uZWN0aW9ulE5zYi4="
    ),
    "billing": (
        "gASVTgAAAAAAAACMGHB1bHVtaV93ZWJob29rcy5wcm92aWRlcpSMD1dlYmhvb2tQcm92aWRlcpSTlCmBlH2UjApjb25uZWN0aW9ulIwH"
        "YmlsbGluZ5RzYi4="
    ),
}


def test_a_provider_recorded_in_state_by_release_0_1_0_loads_as_the_same_connection() -> None:
    for connection, serialized in RECORDED.items():
        provider = dill.loads(base64.b64decode(serialized))
        assert type(provider) is WebhookProvider
        assert provider.connection == connection


def test_the_provider_process_loads_a_recorded_provider_with_nothing_imported_beforehand() -> None:
    """As the dynamic-provider server does: a fresh interpreter, then `dill.loads` of the state's value."""
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import base64, sys, dill; p = dill.loads(base64.b64decode(sys.argv[1])); "
            "print(type(p).__module__, type(p).__name__, p.connection)",
            RECORDED["billing"],
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert loaded.stdout.split() == ["pulumi_webhooks.provider", "WebhookProvider", "billing"]


def test_todays_pickles_are_the_recorded_bytes_so_no_stack_sees_a_diff() -> None:
    """A different pickle would make every webhook of every stack show a `__provider` change."""
    for connection, serialized in RECORDED.items():
        assert serialize_provider(WebhookProvider(connection)) == serialized

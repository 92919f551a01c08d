"""The provider spare's loading (pulumi_webhooks/spare.py): it loads with Python's collector off,
and once the provider's modules are in, the collector is on again for what the provider serves."""

from __future__ import annotations

import gc

from pulumi_webhooks.spare import load_provider_modules


def test_the_collector_is_on_again_once_the_provider_modules_are_loaded() -> None:
    gc.disable()
    try:
        load_provider_modules()
        assert gc.isenabled()
        assert gc.get_freeze_count() > 0, "what was loaded is kept out of every collection"
    finally:
        gc.unfreeze()
        gc.enable()

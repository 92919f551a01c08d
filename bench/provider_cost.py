"""The provider's own share of the per-hook cost: its methods called in-process.

What the engine adds on top (gRPC, the dynamic-provider servicer, state
writes, the program's resource registration) is the rest of the per-hook cost.
"""

from __future__ import annotations

import time
from typing import Any

from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config

from pulumi_webhooks import WebhookProvider


def provider_seconds_per_hook(url: str, user: str, password: str, n: int) -> dict[str, float]:
    """Seconds per hook spent in WebhookProvider for each operation, sequentially, HTTP included."""
    provider = WebhookProvider()
    config = {"webhooks:apiUrl": url, "webhooks:apiUserName": user, "webhooks:apiPassword": password}
    provider.configure(ConfigureRequest(Config(config, "bench")))

    def inputs(i: int, suffix: str) -> dict[str, Any]:
        return {"endpoint": f"https://bench.example.com/{suffix}/{i}", "authType": "bearer", "token": "t"}

    state: dict[str, dict[str, Any]] = {}
    seconds: dict[str, float] = {}

    def phase(name: str, work: Any) -> None:
        started = time.perf_counter()
        for i in range(n):
            work(i)
        seconds[name] = (time.perf_counter() - started) / n

    def create(i: int) -> None:
        checked = provider.check({}, inputs(i, "v1")).inputs
        result = provider.create(checked)
        state[result.id] = result.outs or {}

    order: list[str] = []

    def preview(i: int) -> None:
        webhook_id = order[i]
        provider.diff(webhook_id, state[webhook_id], provider.check(state[webhook_id], inputs(i, "v1")).inputs)

    def update(i: int) -> None:
        webhook_id = order[i]
        checked = provider.check(state[webhook_id], inputs(i, "v2")).inputs
        provider.diff(webhook_id, state[webhook_id], checked)
        state[webhook_id] = provider.update(webhook_id, state[webhook_id], checked).outs or {}

    phase("create", create)
    order.extend(sorted(state, key=int))
    phase("preview", preview)
    phase("update", update)
    phase("refresh", lambda i: provider.read(order[i], state[order[i]]))
    phase("destroy", lambda i: provider.delete(order[i], state[order[i]]))
    return seconds

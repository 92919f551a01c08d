"""The floor: the same HTTP calls as the provider makes, from a plain script.

A `requests.Session` per worker and 4 workers, as many as the dynamic-provider
server's threads. No retries, no validation, no Pulumi.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import requests

WORKERS = 4


def http_floor(url: str, user: str, password: str, n: int) -> dict[str, float]:
    """Seconds for N creates, updates, reads and deletes, each batch on 4 workers."""
    token = requests.post(f"{url}/authtoken", json={"userName": user, "password": password}, timeout=30).json()["token"]
    local = threading.local()

    def session() -> requests.Session:
        if not hasattr(local, "session"):
            local.session = requests.Session()
            local.session.headers["Authorization"] = f"Bearer {token}"
        return local.session

    def body(i: int, suffix: str) -> dict[str, object]:
        return {"endpoint": f"https://bench.example.com/{suffix}/{i}", "authType": "bearer", "token": "t"}

    ids: list[str] = []

    def create(i: int) -> None:
        response = session().post(f"{url}/webhooks", json=body(i, "v1"), timeout=30)
        response.raise_for_status()
        ids.append(str(response.json()["webhookId"]))

    def batch(work: Callable[[int], object]) -> float:
        started = time.perf_counter()
        with ThreadPoolExecutor(WORKERS) as pool:
            for result in [pool.submit(work, i) for i in range(n)]:
                result.result()
        return time.perf_counter() - started

    def checked(response: requests.Response) -> None:
        response.raise_for_status()

    seconds = {"create": batch(create), "preview": 0.0}
    seconds["update"] = batch(
        lambda i: checked(session().put(f"{url}/webhooks/{ids[i]}", json=body(i, "v2"), timeout=30))
    )
    seconds["refresh"] = batch(lambda i: checked(session().get(f"{url}/webhooks/{ids[i]}", timeout=30)))
    seconds["destroy"] = batch(lambda i: checked(session().delete(f"{url}/webhooks/{ids[i]}", timeout=30)))
    return seconds

"""Where the API is and how to talk to it: what `config` reads and the client and its retries use."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ClientSettings:
    """Where the API is and how to authenticate. `credential_hint` tells a user what to fix on 401."""

    api_url: str
    api_token: str | None = field(default=None, repr=False)
    user_name: str | None = None
    password: str | None = field(default=None, repr=False)
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    max_retries: int = 5
    max_retry_seconds: float = 120.0
    backoff_factor: float = 0.5
    max_requests_per_second: float | None = None
    # How many API calls a fleet makes at once, and how many per-hook calls the provider serves at
    # once (the SDK's server ran four). Several fleets in one stack each have this many.
    max_concurrent_requests: int = 16
    credential_hint: str = "check the API credentials"
    # False: refuse to create a webhook whose exact look-alike already exists (an interrupted
    # run's orphan, most likely) rather than duplicate it.
    create_look_alikes: bool = False

"""Where the API is and how to talk to it: what `config` reads and the client and its retries use."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .auth import jwt_claims

LIST_STYLES = ("auto", "none", "link", "next-url", "cursor", "has-more", "page", "offset")
"""`webhooks:listPaging`: how GET /webhooks pages its list (`auto`: read off the answers)."""
ACCOUNT = "apiAccount"
"""The output that records a webhook's account (a fleet's: every hook's), as `account()` gives it."""


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
    # How GET /webhooks pages (listing.py): its style ("auto": read off the answers), the page size
    # asked for, its parameters where they are not the style's usual ones, and a bound.
    list_paging: str = "auto"
    list_page_size: int = 100
    list_page_param: str | None = None
    list_size_param: str | None = None
    list_max_pages: int = 1000
    # How long a write may take to show in the list: a create of unknown outcome is sent again only
    # once a list that started this long after the outcome was lost does not show it.
    list_settle_seconds: float = 10.0
    # The API honours Idempotency-Key: a create of unknown outcome is sent again at once, with its key.
    idempotent_creates: bool = False
    # A refresh may take more than half of a stack's webhooks (and more than a few) for deleted.
    allow_many_gone: bool = False

    def account(self) -> dict[str, str | None]:
        """The account the webhooks live in, as state records it: the API's URL and who signs in (the
        login's user name, or a static token's `sub` claim), never a secret."""
        parts = urlsplit(self.api_url.rstrip("/"))
        url = parts._replace(scheme=parts.scheme.lower(), netloc=parts.netloc.lower()).geturl()
        subject = jwt_claims(self.api_token).get("sub") if self.api_token else None
        principal = self.user_name or (str(subject) if isinstance(subject, (str, int)) and subject != "" else None)
        return {"apiUrl": url, "principal": principal}


def another_account(recorded: Any, current: Mapping[str, Any]) -> bool:
    """Whether an account that state `recorded` is not `current` (as far as both say: state written
    before accounts were recorded, or a principal not known, is taken for the same)."""
    if not isinstance(recorded, Mapping) or not recorded.get("apiUrl"):
        return False
    if recorded["apiUrl"] != current["apiUrl"]:
        return True
    return bool(recorded.get("principal") and current["principal"] and recorded["principal"] != current["principal"])

"""What every provider of this package is: a connection to one API account, configured in the provider process.

An instance is pickled by reference into every resource's `__provider` property, so it
holds nothing but the connection name. The settings are read in `configure`, inside the
provider process, from the stack config the engine passes (or the environment); the
client is made on first use and shared by every provider of the same connection in the
process, so that the account's rate limit, its login and the create guard's view of the
account are one.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

from pulumi.dynamic import ConfigureRequest, ResourceProvider

from ..api.config import ConfigGetter, check_connection_name, client_settings
from ..api.settings import ClientSettings
from ..errors import ConfigError
from ..sdk_internals import deserialize_provider, widen_provider_server
from . import engine
from .servicer import show_expected_errors_plainly

if TYPE_CHECKING:
    from ..api.client import WebhooksClient

_clients: dict[str | None, Any] = {}
_clients_lock = threading.Lock()


class Connection(ResourceProvider):
    """A connection to one API account; see `WebhookProvider` for the settings it reads."""

    # The pickle holds only the connection name (tests prove it holds no secret),
    # so it need not be encrypted in state: smaller state, no decryption per hook.
    serialize_as_secret_always = False
    secret_hint: str | None = None
    """Where a missing secret comes from, in the program's language (`spec.find_problems`); Python's by default."""

    def __init__(self, connection: str | None = None) -> None:
        super().__init__()
        check_connection_name(connection)
        self.connection = connection

    # Only the connection name is pickled: never a client, session or credential.
    def __getstate__(self) -> dict[str, Any]:
        return {"connection": self.connection}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.connection = state.get("connection")

    def configure(self, req: ConfigureRequest) -> None:
        show_expected_errors_plainly()
        if self.use_settings(req.config.get):
            widen_provider_server(self._settings.max_concurrent_requests)

    def use_settings(self, get: ConfigGetter) -> bool:
        """Reads the connection's settings through `get`, then the environment. An error is kept for
        the first check to raise, so that it names the resource; returns whether they were read."""
        self._config_error: ConfigError | None = None
        try:
            self._settings: ClientSettings = client_settings(get, os.environ, self.connection)
        except ConfigError as error:
            self._config_error = error
            return False
        # A killed engine's provider writes nothing more, and ends once its calls are done.
        bound = self._settings.read_timeout + self._settings.connect_timeout + self._settings.list_settle_seconds
        engine.watch().exit_when_gone(any_busy, bound)
        return True

    def raise_config_error(self) -> None:
        """Raises the error `configure` met, if any: a check fails on it before any API call."""
        if getattr(self, "_config_error", None) is not None:
            raise self._config_error  # type: ignore[misc]

    @property
    def client(self) -> WebhooksClient:
        """The connection's API client, made on first use; raises the configuration error if any."""
        from ..api.client import WebhooksClient  # HTTP is the provider process's: a program never loads it

        self.raise_config_error()
        if not hasattr(self, "_settings"):
            raise ConfigError("the webhooks provider was used before it was configured")
        with _clients_lock:
            client = _clients.get(self.connection)
            if client is None or client.settings != self._settings:
                client = WebhooksClient(self._settings, before_write=engine.watch().check)
                _clients[self.connection] = client
            return client


def any_busy() -> bool:
    """Whether an API call of any connection of this process is in flight."""
    with _clients_lock:
        return any(client.busy for client in _clients.values())


def connection_of(serialized: Any, default: str | None) -> str | None:
    """The connection name inside a serialized provider; `default` if it cannot be read."""
    if not isinstance(serialized, str):
        return default
    try:
        provider = deserialize_provider(serialized)
    except Exception:  # an older or foreign pickle: assume the same connection
        return default
    return provider.connection if isinstance(provider, Connection) else default

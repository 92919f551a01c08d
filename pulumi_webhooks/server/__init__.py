"""Local stand-in for the vendor webhooks API (see docs/api.md), quirks and fault knobs included.

It plays the vendor: it shares no code with the provider side of the package.
Run it with `python -m pulumi_webhooks.server --help`.
"""

from .app import AppConfig, create_app
from .serving import serve

__all__ = ["AppConfig", "create_app", "serve"]

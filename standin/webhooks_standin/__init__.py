"""Local stand-in for the vendor webhooks API (see docs/api.md), quirks and fault knobs included.

It plays the vendor: a distribution of its own (`webhooks-standin`, in standin/ of the
pulumi-webhooks repository) that imports nothing of the provider, `pulumi_webhooks`.
Run it with `python -m webhooks_standin --help`.
"""

from .app import AppConfig, create_app
from .serving import serve

__all__ = ["AppConfig", "create_app", "serve"]

"""What runs in the engine's dynamic-provider process: the webhook lifecycle, and how its failures reach
the user.

`pulumi_webhooks.provider.WebhookProvider` and `pulumi_webhooks.provider.FleetProvider` are
permanent addresses: every stack's state holds its providers pickled by reference to them
(`tests/test_provider_pickle.py` holds them there).
"""

from .fleet import FleetProvider
from .webhook import WebhookProvider

__all__ = ["FleetProvider", "WebhookProvider"]

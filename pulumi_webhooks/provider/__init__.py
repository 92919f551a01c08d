"""What runs in the engine's dynamic-provider process: the webhook lifecycle, and how its failures reach
the user.

`pulumi_webhooks.provider.WebhookProvider` is a permanent address: every stack's state holds the
provider pickled by reference to it (`tests/test_provider_pickle.py` holds it there).
"""

from .webhook import WebhookProvider

__all__ = ["WebhookProvider"]

"""`python -m pulumi_webhooks.plugin ENGINE_ADDRESS`: the plugin, as `pulumi-resource-webhooks` starts it."""

import sys

from .main import main

sys.exit(main())

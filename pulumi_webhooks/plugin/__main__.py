"""`python -m pulumi_webhooks.plugin ENGINE_ADDRESS`: the plugin, as `pulumi-resource-webhooks` starts it."""

import sys

from .main import main

if __name__ == "__main__":  # importing the module (tests walk the package) starts no server
    sys.exit(main())

"""`python -m pulumi_webhooks`: the same as the `pulumi-webhooks` command."""

import sys

from .cli.main import main

sys.exit(main())

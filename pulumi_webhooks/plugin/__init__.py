"""The `webhooks` provider plugin: the same webhooks for programs in every Pulumi language.

`pulumi-resource-webhooks` serves the package `webhooks` (schema: `schema.py`) over the engine's
provider protocol, with the dynamic provider's own lifecycle code, so that the two give the same
answers. YAML programs use it as it is; SDKs for other languages are generated from its schema.
"""

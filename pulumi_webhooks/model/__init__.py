"""The webhook itself, pure: its fields and rules, the endpoint rule, a live webhook as the API reads it,
and catalogs of many. No I/O beyond reading a catalog file, and no Pulumi."""

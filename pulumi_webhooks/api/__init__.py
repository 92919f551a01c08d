"""The vendor API's client: where the API is and how to log in (settings, config), HTTP with auth,
retries, the rate limit and redaction (transport), creating without duplicates (creates), and the
routes (client). It never imports Pulumi."""

"""What runs in the user's Pulumi program: the `Webhook` resource, `WebhookFleet`, the check of every
webhook before any registers (preflight), and the declaring line (callsite)."""

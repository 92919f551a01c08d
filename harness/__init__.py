"""Development harness shared by the tests and the benchmark (never shipped in a wheel).

- `harness.api`: a running local API server (`webhooks_standin`) with the accounts it
  starts with, and a raw admin view of its data;
- `harness.project`: a throwaway Pulumi project driven by the real CLI and its language host.

Importable from the repository root only (pytest's `pythonpath`, `python -m bench`).
"""

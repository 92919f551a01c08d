"""Benchmark of the provider under the real Pulumi CLI against the local API server.

Run `python -m bench --help`. It prints a table and, on its last line, a JSON
summary; see docs/benchmarks.md for a full run and how to read it.
"""

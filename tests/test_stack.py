"""How the recovery step reads the `pulumi` CLI's failures: which mean "busy, try later" (exit 75)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from pulumi_webhooks.cli.stack import Stack
from pulumi_webhooks.errors import PulumiFailed, StackBusy

# What the CLI prints when the stack is taken: a DIY backend's lock, and Pulumi Cloud's answer
# (`pulumi up` while another update runs: "error: [409] Conflict: Another update is currently in progress.").
SAID = {
    "diy": "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end",
    "cloud": "error: [409] Conflict: Another update is currently in progress.",
    "other": "error: failed to load checkpoint: EOF",
}


@pytest.mark.parametrize(("said", "busy"), [("diy", True), ("cloud", True), ("other", False)])
def test_a_stack_taken_by_another_run_reads_as_busy_on_every_backend(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, said: str, busy: bool
) -> None:
    cli = tmp_path / "bin" / "pulumi"
    cli.parent.mkdir()
    cli.write_text(f"#!/bin/sh\necho '{SAID[said]}' >&2\nexit 255\n")
    cli.chmod(cli.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{cli.parent}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(StackBusy if busy else PulumiFailed):
        Stack("prod", tmp_path).pulumi("stack", "export")

"""Every webhook of a program is checked before any of them registers.

The engine stops a deployment at the first resource whose Check fails, so a
program with three invalid webhooks would show one of them per run. Instead,
each `Webhook` is declared here with its inputs, and its registration waits for
the verdict on every webhook declared so far: once the inputs that need no
other resource are known, each is checked against the spec. If any webhook
breaks a rule, each invalid one is reported as one error that names it, the
line of the program that declared it and every property to fix; nothing is
registered (so nothing is created or changed) and the program stops.

Inputs that wait on other resources are not waited for (that could deadlock,
or take as long as those resources do): those rules are left to the
provider's Check, as before.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

from . import spec
from .callsite import CallSite

# Event-loop turns given to inputs that depend on no resource (plain values,
# stack config, applies of them); each takes a few turns, and no RPC is awaited.
SETTLE_TURNS = 500

# The SDK's program runner treats this exit code as "the user has been told why".
EXIT_AFTER_USER_MESSAGE = 32


@dataclass
class Declaration:
    resource_name: str
    call_site: CallSite | None
    inputs: Mapping[str, Any]  # API names -> Inputs
    check: asyncio.Task[list[spec.Problem]] | None = None

    @property
    def problems(self) -> list[spec.Problem]:
        return self.check.result() if self.check is not None and self.check.done() else []

    def report(self) -> str:
        where = f"{self.call_site}: " if self.call_site else ""
        lines = [f"{where}Webhook '{self.resource_name}' is invalid:"]
        lines += [f"  {p.property}: {p.reason}" for p in self.problems]
        return "\n".join(lines)


@dataclass
class _Batch:
    """Webhooks declared before their verdict was given; later ones form the next batch."""

    verdict: asyncio.Future[None]
    declarations: list[Declaration] = field(default_factory=list)
    closed: bool = False


_batch: _Batch | None = None
_deciding: set[asyncio.Task[None]] = set()  # the event loop keeps only weak references to tasks


def declare(resource_name: str, call_site: CallSite | None, inputs: Mapping[str, Any]) -> asyncio.Future[None]:
    """Queues a webhook for checking; its registration must wait for the returned verdict."""
    global _batch
    loop = asyncio.get_event_loop()
    if _batch is None or _batch.closed or _batch.verdict.get_loop() is not loop:
        _batch = _Batch(loop.create_future())
        decision = asyncio.ensure_future(_decide(_batch))
        _deciding.add(decision)
        decision.add_done_callback(_deciding.discard)
    declaration = Declaration(resource_name, call_site, inputs)
    declaration.check = asyncio.ensure_future(_problems(inputs))
    _batch.declarations.append(declaration)
    return _batch.verdict


async def _problems(inputs: Mapping[str, Any]) -> list[spec.Problem]:
    known: dict[str, Any] = {}
    unknown: set[str] = set()
    for key, value in inputs.items():
        output = pulumi.Output.from_input(value)
        if await output.is_known():
            resolved = await output.future()
            if resolved is not None:
                known[key] = resolved
        else:
            unknown.add(key)
    return spec.find_problems(known, unknown)


async def _decide(batch: _Batch) -> None:
    for _ in range(SETTLE_TURNS):
        if all(d.check is not None and d.check.done() for d in batch.declarations):
            break
        await asyncio.sleep(0)
    batch.closed = True
    invalid = [d for d in batch.declarations if d.problems]
    if not invalid:
        batch.verdict.set_result(None)
        return
    summary = (
        f"{len(invalid)} of {len(batch.declarations)} webhooks are invalid; none was registered, "
        "so nothing was created or changed: fix them and run again"
    )
    reports = [*(d.report() for d in invalid), summary]
    stop_program(reports)
    batch.verdict.set_exception(pulumi.RunError("\n".join(reports)))


def stop_program(reports: Sequence[str]) -> None:
    """Shows each report as one error and ends the program, with no traceback.

    Only under the language host; elsewhere (an Automation API inline program runs in
    its caller's process) it returns, and the caller raises instead.
    """
    if not _under_the_language_host():
        return
    for report in reports:
        pulumi.log.error(report)  # sent synchronously: delivered before the exit
    # The runner would add a traceback to any exception, and an error of its own to a
    # RunError; raising SystemExit from a task leaves the SDK's main coroutine half-run,
    # and its clean-up then prints a traceback. The user has been told why, nothing of
    # the reported resources has registered, and exit code 32 tells the host exactly that.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(EXIT_AFTER_USER_MESSAGE)


def _under_the_language_host() -> bool:
    """Whether this program was started by the SDK's runner, which the language host runs."""
    return any(os.path.basename(arg) == "pulumi-language-python-exec" for arg in sys.orig_argv[:3])

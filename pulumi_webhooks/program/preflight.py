"""Every webhook of a program is checked before any of them registers.

The engine stops a deployment at the first resource whose Check fails, so a
program with three invalid webhooks would show one of them per run. Instead,
each `Webhook` is declared here with its inputs, and its registration waits for
the verdict on its batch: the webhooks declared before the event loop next ran,
which for a program's top-level code is all of them. Once the inputs that need
no other resource are known, each is checked against the spec. Each invalid
webhook is reported as one error that names it, the line of the program that
declared it and every property to fix. From the first invalid one on, no
webhook registers (so none is created or changed), later batches are still
checked and reported, and the program fails once its own code has run, with a
summary and no traceback.

Inputs that wait on other resources are not waited for (that could deadlock,
or take as long as those resources do): those rules are left to the
provider's Check, as before. An input that fails is left to fail the webhook's
registration, as it would without this check.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi

from ..errors import WebhooksError
from ..model import spec
from ..sdk_internals import current_monitor, exit_as_told
from .callsite import CallSite

# Event-loop turns given to inputs that depend on no resource (plain values,
# stack config, applies of them); each takes a few turns, and no RPC is awaited.
SETTLE_TURNS = 500


@dataclass
class Declaration:
    resource_name: str
    call_site: CallSite | None
    inputs: Mapping[str, Any]  # API names -> Inputs
    check: asyncio.Task[list[spec.Problem]] | None = None

    @property
    def problems(self) -> list[spec.Problem]:
        """The rules broken; none while unchecked, or when an input failed (its registration will say so)."""
        check = self.check
        if check is None or not check.done() or check.cancelled() or check.exception() is not None:
            return []
        return check.result()

    def report(self) -> str:
        where = f"{self.call_site}: " if self.call_site else ""
        lines = [f"{where}Webhook '{self.resource_name}' is invalid:"]
        lines += [f"  {p.property}: {p.reason}" for p in self.problems]
        return "\n".join(lines)


class InvalidWebhooks(WebhooksError, pulumi.RunError):
    """The program declared invalid webhooks; each was reported on its own. Counts grow with later batches."""

    def __init__(self, run: _Run) -> None:
        super().__init__()
        self.run = run

    def __str__(self) -> str:
        run = self.run
        if run.registered == 0:
            held = "none was sent to the API, so none was created or changed"
        else:  # the program ran the event loop between its webhooks: an earlier batch was valid
            held = f"only the {run.registered} declared before the first invalid one were sent to the API"
        return f"{run.invalid} of {run.declared} webhooks are invalid; {held}: fix them and run again"


@dataclass
class _Batch:
    """Webhooks declared before their verdict was given; later ones form the next batch."""

    verdict: asyncio.Future[None]
    declarations: list[Declaration] = field(default_factory=list)
    closed: bool = False


@dataclass
class _Run:
    """The preflight of one program run (one resource monitor)."""

    batch: _Batch | None = None
    failure: InvalidWebhooks | None = None
    declared: int = 0
    invalid: int = 0
    registered: int = 0
    deciding: set[asyncio.Task[None]] = field(default_factory=set)  # the loop holds tasks only weakly


class _NoMonitor:
    """The run key when no Pulumi runtime is configured."""


_NO_MONITOR = _NoMonitor()
_runs: weakref.WeakKeyDictionary[Any, _Run] = weakref.WeakKeyDictionary()
_lock = threading.Lock()  # Automation API programs may run on several threads at once


def declare(resource_name: str, call_site: CallSite | None, inputs: Mapping[str, Any]) -> asyncio.Future[None]:
    """Queues a webhook for checking; its registration must wait for the returned verdict."""
    loop = asyncio.get_event_loop()
    monitor = current_monitor()
    declaration = Declaration(resource_name, call_site, inputs)
    with _lock:
        run = _runs.setdefault(monitor if monitor is not None else _NO_MONITOR, _Run())
        batch = run.batch
        if batch is None or batch.closed or batch.verdict.get_loop() is not loop:
            batch = run.batch = _Batch(loop.create_future())
            decision = asyncio.ensure_future(_decide(run, batch))
            run.deciding.add(decision)
            decision.add_done_callback(run.deciding.discard)
        declaration.check = asyncio.ensure_future(_problems(inputs))
        batch.declarations.append(declaration)
    return batch.verdict


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


async def _decide(run: _Run, batch: _Batch) -> None:
    try:
        for _ in range(SETTLE_TURNS):
            if all(d.check is not None and d.check.done() for d in batch.declarations):
                break
            await asyncio.sleep(0)
    finally:
        with _lock:
            batch.closed = True
        invalid = [d for d in batch.declarations if d.problems]
        run.declared += len(batch.declarations)
        run.invalid += len(invalid)
        for declaration in invalid:
            pulumi.log.error(declaration.report())
        if invalid and run.failure is None:
            run.failure = InvalidWebhooks(run)
            exit_as_told()
        if run.failure is None:
            run.registered += len(batch.declarations)
            batch.verdict.set_result(None)
        else:
            batch.verdict.set_exception(run.failure)

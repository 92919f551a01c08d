"""What state records of each webhook and fleet: the user's line as its position, and no other frame.

The Python SDK records, for every resource, the stack of the code that registered
it and the first frame below its constructors as `sourcePosition`; the file
backend writes both twice per step for every resource. For a Webhook that stack
would be about 2 KB of SDK, runner and `runpy` frames, and the position this
package's own line. `sdk_internals.register_at` shapes what the SDK records, which
leans on SDK internals, so this test pins the outcome under the real CLI: if an
SDK upgrade changes how frames are taken, it fails.
"""

from __future__ import annotations

import json

from harness.project import Project

PROGRAM = """
class Group(pulumi.ComponentResource):
    def __init__(self, name):
        super().__init__("test:index:Group", name)


def declare_direct():
    return Webhook("direct", endpoint="https://direct.example.com/h", auth_type="none")


declare_direct()
Group("other")
WebhookFleet("fleet", [{"team": "ops", "name": "pager", "endpoint": "https://p.example.com/h", "auth_type": "none"}])
pulumi.export("tracebacklimit", str(getattr(sys, "tracebacklimit", "unset")))
"""
MAX_STATE_BYTES_PER_HOOK = 1500


def line_of(project: Project, fragment: str) -> int:
    lines = (project.dir / "__main__.py").read_text().splitlines()
    return next(number for number, line in enumerate(lines, start=1) if fragment in line)


def test_each_webhook_records_its_declaring_line_and_no_other_frame(project: Project) -> None:
    project.program("import sys\nfrom pulumi_webhooks import WebhookFleet\n" + PROGRAM)
    project.up()
    deployment = project.export()["deployment"]
    resources = {r["urn"].split("::")[-1]: r for r in deployment["resources"]}

    expected = {
        "direct": line_of(project, 'Webhook("direct"'),
        "fleet": line_of(project, 'WebhookFleet("fleet"'),
    }
    for name, line in expected.items():
        hook = resources[name]
        position = f"project:///__main__.py#{line}"
        assert hook["sourcePosition"] == position, hook.get("sourcePosition")
        assert hook["stackTrace"] == [{"sourcePosition": position}], hook["stackTrace"]
        size = len(json.dumps(hook, separators=(",", ":")).encode())
        assert size <= MAX_STATE_BYTES_PER_HOOK, f"{name}: {size} bytes of state"

    other = resources["other"]
    group_line = line_of(project, 'Group("other")')
    assert other["sourcePosition"] == f"project:///__main__.py#{group_line}"
    assert len(other["stackTrace"]) > 1, "other resources keep their whole stack trace"
    outputs = next(r for r in deployment["resources"] if r["type"] == "pulumi:pulumi:Stack")["outputs"]
    assert outputs["tracebacklimit"] == "unset", "the program's sys.tracebacklimit is left as it was"

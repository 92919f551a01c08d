"""`pulumi preview` / `pulumi up` of a Python project, with its program run inline.

The real Pulumi CLI does the deployment; only the Python program runs inside
this process, through the Automation API, instead of under the CLI's Python
language host (which cannot be built from the Go module proxy). Everything
else is the project's own: its Pulumi.yaml, stack, stack config and backend.

    python scripts/run_program.py up --yes [--stack dev] [--cwd DIR] [--diff] ...

scripts/pulumi sends `preview` and `up` here and everything else to the CLI.
"""

from __future__ import annotations

import argparse
import runpy
import sys
from pathlib import Path
from typing import Any

import yaml
from pulumi import automation as auto


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="pulumi", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["preview", "up", "update"])
    parser.add_argument("--cwd", "-C", type=Path, default=Path.cwd(), help="the project directory")
    parser.add_argument("--stack", "-s", help="the stack (default: the selected one)")
    parser.add_argument("--yes", "-y", action="store_true", help="accepted for CLI compatibility; up never prompts")
    parser.add_argument("--skip-preview", action="store_true", help="accepted for CLI compatibility")
    parser.add_argument("--non-interactive", action="store_true", help="accepted for CLI compatibility")
    parser.add_argument("--diff", action="store_true", help="show a detailed diff")
    parser.add_argument("--expect-no-changes", action="store_true", help="fail if any change is planned")
    parser.add_argument("--refresh", "-r", action="store_true", help="refresh state first")
    parser.add_argument("--parallel", "-p", type=int, help="resource operations run at once")
    parser.add_argument("--message", "-m", help="the update's message")
    parser.add_argument("--color", default="auto", choices=["always", "never", "raw", "auto"])
    return parser.parse_args(argv)


def program_of(project_dir: Path) -> Any:
    """The project's program as an inline function, found as the language host would."""
    settings = yaml.safe_load((project_dir / "Pulumi.yaml").read_text()) or {}
    main = (project_dir / settings.get("main", ".")).resolve()
    entry = main / "__main__.py" if main.is_dir() else main
    if not entry.is_file():
        sys.exit(f"error: no Python program at {entry} (set `main` in {project_dir / 'Pulumi.yaml'})")

    def program() -> None:
        sys.path.insert(0, str(entry.parent))
        try:
            runpy.run_path(str(entry), run_name="__main__")
        finally:
            sys.path.remove(str(entry.parent))

    return program


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    project_dir = args.cwd.resolve()
    program = program_of(project_dir)
    workspace = auto.LocalWorkspace(work_dir=str(project_dir), program=program)
    selected = workspace.stack()
    stack_name = args.stack or (selected.name if selected else None)
    if not stack_name:
        sys.exit("error: no stack selected: pass --stack NAME, or run `pulumi stack select NAME`")
    stack = auto.Stack.select(stack_name, workspace)

    options: dict[str, Any] = {
        "on_output": lambda line: print(line, end="" if line.endswith("\n") else "\n", flush=True),
        "diff": args.diff,
        "expect_no_changes": args.expect_no_changes,
        "color": args.color,
    }
    if args.parallel:
        options["parallel"] = args.parallel
    if args.message:
        options["message"] = args.message
    if args.refresh:
        options["refresh"] = True
    try:
        if args.command == "preview":
            stack.preview(**options)
        else:
            stack.up(**options)
    except auto.CommandError as failure:
        # The CLI's own diagnostics; its stdout was already streamed above.
        print(getattr(failure, "stderr", "") or str(failure), file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

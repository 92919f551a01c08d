"""The root project's program (Pulumi.yaml beside it): examples/quickstart's, run as it stands.

The program stays in examples/quickstart, a standard project users can copy; here it is run from the
repository's root so that `pulumi preview` and `pulumi up` work at the root, with the program and the
Python dynamic-provider launcher both resolving `virtualenv: .venv` from this directory.
"""

import runpy
from pathlib import Path

runpy.run_path(str(Path(__file__).parent / "examples" / "quickstart" / "__main__.py"), run_name="__main__")

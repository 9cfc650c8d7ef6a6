"""Entry point of the custom AST checks.

    .venv/bin/python tools/checks/run.py [PATH ...]     (default: src/closeloop)

Exit status 0 when clean, 1 with one ``path:line: CODE message`` line per finding.
"""

from __future__ import annotations

import sys
from pathlib import Path


def _main() -> int:
    repo_root = str(Path(__file__).resolve().parents[2])
    if repo_root not in sys.path:
        sys.path.insert(0, repo_root)
    from tools.checks.runner import main

    return main(sys.argv[1:])


if __name__ == "__main__":
    raise SystemExit(_main())

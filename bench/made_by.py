"""The end of a benchmark script: print its table with the command that made it, and write it if asked."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path


def publish(body: str, title: str, write: Path | None) -> None:
    """Prints `body` and "Made by: <this command>"; with `write`, also writes them under `title`."""
    script = Path(sys.argv[0]).resolve().relative_to(Path(__file__).resolve().parents[1])
    command = "$ " + shlex.join([".venv/bin/python", str(script), *sys.argv[1:]])
    report = f"{body}\n\nMade by:\n\n    {command}\n"
    print(report)
    if write:
        write.write_text(f"{title}\n\n{report}")

#!/usr/bin/env python3
"""The two quick-start commands: `python3 dev.py serve` and `python3 dev.py test`.

Each creates the project's virtualenv (.venv) on first use, installs the project
into it (with the test extra for `test`), installs the web assets with `npm ci`
(package-lock.json), and runs the web app or the test suite. Extra arguments go
to `bankflow serve` or to pytest.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def ensure_venv(extra: str | None) -> None:
    if not (BIN / "python").exists():
        print(f"creating virtualenv in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    target = f".[{extra}]" if extra else "."
    print(f"installing bankflow{f' with {extra} extras' if extra else ''} ...", flush=True)
    subprocess.run([str(BIN / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    "-e", target], cwd=ROOT, check=True)


def ensure_web_assets() -> None:
    """bpmn-js and the other front-end packages, exactly as package-lock.json pins them."""
    npm = shutil.which("npm")
    if npm is None:
        print("npm is not installed: the diagrams will not be drawn (install Node.js and npm)", file=sys.stderr)
        return
    print("installing web assets (npm ci) ...", flush=True)
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=ROOT, check=True)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("serve", "test"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    ensure_venv("test" if command == "test" else None)
    ensure_web_assets()
    if command == "serve":
        return subprocess.call([str(BIN / "bankflow"), "serve", *rest], cwd=ROOT)
    # Tests run on every core (pytest-xdist); each worker gets its own databases.
    return subprocess.call([str(BIN / "python"), "-m", "pytest", "-n", "auto", *rest], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

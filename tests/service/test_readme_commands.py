"""The README's command tour runs as written, on a fresh database, so its examples never go stale."""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"<!-- readme-commands -->\s*```sh\n(.*?)```\s*<!-- /readme-commands -->", re.S)


def readme_commands() -> str:
    found = BLOCK.search((ROOT / "README.md").read_text(encoding="utf-8"))
    assert found, "README.md has no <!-- readme-commands --> block"
    return found.group(1)


def test_the_block_activates_the_virtualenv_and_calls_bankflow():
    lines = [line for line in readme_commands().splitlines() if line.strip()]
    assert lines[0] == ". .venv/bin/activate"
    assert all(line.startswith("bankflow ") for line in lines[1:])


@pytest.mark.slow
def test_readme_commands_run_as_written(tmp_path):
    if not (ROOT / ".venv" / "bin" / "activate").is_file():
        pytest.skip("no .venv in the project (the README's commands assume `python3 dev.py` made it)")
    env = {**os.environ, "BANKFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'readme.sqlite'}"}
    env.pop("VIRTUAL_ENV", None)
    script = "set -euo pipefail\ntrap 'echo \"README command failed: $BASH_COMMAND\" >&2' ERR\n" + readme_commands()
    result = subprocess.run(["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "instance 1 of customer_enquiry v1: completed (business key E-1001)" in result.stdout
    assert "task 1 completed; instance 1 is completed" in result.stdout
    assert "spiff" not in result.stderr.lower() and "Traceback" not in result.stderr

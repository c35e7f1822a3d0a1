"""The `bankflow` command line (docs/architecture.md §7): `common` (the group and what commands share),
`commands` (set up, run, administer) and `analytics` (metrics, exports, simulation).

Each command parses its input, calls one service function and prints the result;
`BankflowError`s become one line per problem on stderr and exit code 1, usage
errors exit 2 (click's own convention). Without `--user` a command acts as the
local operator: whoever holds the database URL holds everything.
"""
from __future__ import annotations

from webui.cli import analytics
from webui.cli import commands  # noqa: F401 - its commands join `main` as it is imported
from webui.cli.common import main

__all__ = ["main"]

for command in analytics.COMMANDS:
    main.add_command(command)

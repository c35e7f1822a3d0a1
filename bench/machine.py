"""Facts about the machine and libraries, printed and stored beside the figures they explain."""
from __future__ import annotations

import os
import platform
import resource
import sqlite3
import sys
from importlib.metadata import version
from typing import Any

import sqlalchemy


def facts() -> dict[str, Any]:
    return {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python_version": platform.python_version(),
        "spiffworkflow_version": version("SpiffWorkflow"),
        "sqlalchemy_version": sqlalchemy.__version__,
        "psycopg_version": version("psycopg"),
        "sqlite_version": sqlite3.sqlite_version,
    }


def load_average() -> list[float]:
    """1, 5 and 15-minute load: other work on a shared machine skews every figure, so record it."""
    return [round(value, 2) for value in os.getloadavg()]


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024

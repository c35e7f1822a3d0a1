"""What-if runs (`bankflow simulate`): the simulator on a fresh database of its own.

The database gets the process library and the demo users (engine.services.demo_data),
then one `Simulation` run (engine.services.simulation) goes through the plan on a
virtual clock; `compare` runs two plans with the same seed and start and puts their
key figures side by side. The answer is the JSON of docs/metrics-json.md (Scenarios).
"""
from __future__ import annotations

import tempfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from engine.analytics import scenario as scenarios
from engine.clock import ManualClock
from engine.errors import Conflict
from engine.services.context import EngineContext
from engine.services.demo_data import load_demo
from engine.services.simulation import Progress, Simulation

UTC = timezone.utc
SIM_PASSWORD_METHOD = "pbkdf2:sha256:1000"  # synthetic staff on a throw-away database
FIGURES = (("started", "cases started"), ("completed", "cases completed"), ("open", "cases still open"),
           ("cycle_time_median", "median cycle time"), ("cycle_time_p90", "p90 cycle time"),
           ("sla_breaches", "SLA breaches"))


def simulate(url: str | None, plan: list[scenarios.Scenario], days: int, seed: int = 1,
             start: datetime | None = None, progress: Progress | None = None, library: Path | None = None,
             keep: str | Path | None = None) -> dict[str, Any]:
    """Run `plan` for `days` on a fresh database and return the run's figures.

    The database is `url` if given (it must be new or hold only bankflow data you want
    the simulated history added to), else a temporary SQLite file, deleted afterwards
    unless `keep` names where to keep it. `library` is the process library to load
    (default: the repository's processes/).
    """
    with _Database(url, keep) as database_url:
        ctx = EngineContext.from_url(database_url, clock=ManualClock(_start(start, days)))
        try:
            ctx.password_method = SIM_PASSWORD_METHOD
            ctx.mailer = None
            load_demo(ctx, library)
            return Simulation(ctx, plan, days, seed, progress).run().as_dict()
        finally:
            ctx.close()


def compare(plan_a: list[scenarios.Scenario], plan_b: list[scenarios.Scenario], days: int, seed: int = 1,
            start: datetime | None = None, progress: Progress | None = None,
            library: Path | None = None) -> dict[str, Any]:
    """Run two plans with the same seed and start, each on its own fresh database, and put their
    key figures side by side."""
    start = _start(start, days)
    a = simulate(None, plan_a, days, seed, start, progress, library)
    b = simulate(None, plan_b, days, seed, start, progress, library)
    return {"a": a, "b": b, "comparison": _compare_figures(a, b)}


def _compare_figures(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    b_by_process = {p["process"]: p for p in b["processes"]}
    for left in a["processes"]:
        right = b_by_process.get(left["process"])
        if right is None:
            continue
        for key, label in FIGURES:
            rows.append({"process": left["process"], "figure": label, "a": left[key], "b": right[key]})
        rows.append({"process": left["process"], "figure": "top bottleneck",
                     "a": _bottleneck_text(left["bottleneck"]), "b": _bottleneck_text(right["bottleneck"])})
    return rows


def _bottleneck_text(bottleneck: dict[str, Any] | None) -> str | None:
    if not bottleneck:
        return None
    return f"{bottleneck['element_id']} ({bottleneck['share']:.0%}, {bottleneck['verdict']})"


def _start(start: datetime | None, days: int) -> datetime:
    """The virtual start: `start`, else midnight UTC `days` days before today."""
    if start is not None:
        return start.astimezone(UTC)
    today = date.today()
    return datetime.combine(today - timedelta(days=days), datetime.min.time(), UTC)


class _Database:
    """The run's database URL: `url`, or a temporary SQLite file (kept at `keep` if given)."""

    def __init__(self, url: str | None, keep: str | Path | None) -> None:
        self.url, self.keep = url, Path(keep) if keep else None
        self._folder: tempfile.TemporaryDirectory[str] | None = None

    def __enter__(self) -> str:
        if self.url:
            return self.url
        if self.keep is not None:
            if self.keep.exists():
                raise Conflict("%(path)s already exists; the simulation writes a new database", path=str(self.keep))
            return f"sqlite:///{self.keep.resolve()}"
        self._folder = tempfile.TemporaryDirectory(prefix="bankflow-sim-")
        return f"sqlite:///{Path(self._folder.name) / 'simulation.sqlite'}"

    def __exit__(self, *exc: object) -> None:
        if self._folder is not None:
            self._folder.cleanup()

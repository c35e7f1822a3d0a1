"""Demo data for a fresh installation: the bank's process library and demo users.

The demo users' passwords are published in processes/demo_users.toml: they exist
to try bankflow out and must never be loaded into a production database.
"""
from __future__ import annotations

import tomllib
from pathlib import Path

from engine.records.definitions import DeployedVersion
from engine.records.setup import DemoReport
from engine.services import deployments, simulation, users
from engine.services.context import EngineContext
from engine.services.database import init_db
from engine.services.unit_of_work import unit_of_work

# The repository's process library, found from the code rather than the working directory.
LIBRARY = Path(__file__).resolve().parents[2] / "processes"


def load_demo(ctx: EngineContext, library: Path | None = None, history_days: int = 0,
              progress: simulation.Progress | None = None) -> DemoReport:
    """Set the database up, deploy the library folder (a no-op when unchanged) and add missing demo users
    and groups (with the groups' display names).

    With `history_days`, a database without cases also gets that many days of simulated work
    (engine.services.simulation), so the dashboards have something to show on a first start;
    `progress(virtual_day, counters)` hears how far it is.
    """
    library = Path(library) if library is not None else LIBRARY
    database = init_db(ctx)
    added = []
    users_file = library / "demo_users.toml"
    if users_file.is_file():
        demo = tomllib.loads(users_file.read_text(encoding="utf-8"))
        _name_groups(ctx, demo.get("groups", {}))
        existing = users.existing_user_names(ctx)
        for name, spec in demo.get("users", {}).items():
            if name not in existing:
                users.add_user(ctx, name, spec["password"], spec.get("groups", []), spec.get("roles", []))
                added.append(name)
    models = [p for p in sorted(library.glob("*")) if p.suffix in (".bpmn", ".dmn")]
    definitions: tuple[DeployedVersion, ...] = ()
    if models:
        definitions = deployments.deploy(ctx, deployments.read_sources(models), name="bank process library").definitions
    history = None
    if history_days > 0 and not _has_cases(ctx):
        history = simulation.simulate_history(ctx, days=history_days, library=library, progress=progress)
    return DemoReport(database=database, library=str(library), definitions=definitions, users_added=tuple(added),
                      history=history)


def _name_groups(ctx: EngineContext, groups: dict[str, dict[str, str]]) -> None:
    """Add the demo groups with their display names; give existing ones theirs unless they have some
    (an admin may have renamed them)."""
    known = users.group_titles(ctx)
    for name, spec in groups.items():
        if name not in known:
            users.add_group(ctx, name, title=spec.get("title"), title_zh=spec.get("title_zh"))
        elif not (known[name].title or known[name].title_zh):
            users.set_group_titles(ctx, name, spec.get("title"), spec.get("title_zh"))


def _has_cases(ctx: EngineContext) -> bool:
    with unit_of_work(ctx, read_only=True) as uow:
        return uow.instances.has_any()

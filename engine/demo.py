"""Demo data for a fresh installation: the bank's process library and demo users.

The demo users' passwords are published in processes/demo_users.toml: they exist
to try bankflow out and must never be loaded into a production database.
"""
from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from sqlalchemy import select

from engine import deployments, users
from engine.services.context import EngineContext
from engine.store.models import User
from engine.services.unit_of_work import unit_of_work


def _existing_users(ctx: EngineContext) -> set[str]:
    with unit_of_work(ctx) as session:
        return set(session.scalars(select(User.name)))


def seed(ctx: EngineContext, library: Path) -> dict[str, Any]:
    """Deploy the library folder (a no-op when unchanged) and add missing demo users."""
    report: dict[str, Any] = {"definitions": [], "users_added": []}
    users_file = library / "demo_users.toml"
    if users_file.is_file():
        existing = _existing_users(ctx)
        for name, spec in tomllib.loads(users_file.read_text(encoding="utf-8")).get("users", {}).items():
            if name not in existing:
                users.add_user(ctx, name, spec["password"], spec.get("groups", []), spec.get("roles", []))
                report["users_added"].append(name)
    models = [p for p in sorted(library.glob("*")) if p.suffix in (".bpmn", ".dmn")]
    if models:
        report["definitions"] = deployments.deploy(ctx, deployments.read_sources(models), name="bank process library",
                                                   user=None)["definitions"]
    return report

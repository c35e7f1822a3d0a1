"""Groups' display names (English and Chinese): set by admins and by the demo data, and the migration that
added them and the notifications' message ids to databases that have rows already."""
from __future__ import annotations

import tomllib
from datetime import datetime, timezone

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from engine.errors import InvalidData, NotFound, PermissionDenied
from engine.records.users import GroupRecord
from engine.services import demo_data, notifications, users
from engine.store import schema
from engine.store.models import Base
from tests.helpers.process_library import LIBRARY

BEFORE = "f5b8d1e3a7c9"  # the revision before group titles and notification message ids


@pytest.fixture
def people(ctx):
    users.add_user(ctx, "ada", "secret123", roles=["admin"])
    users.add_user(ctx, "olga", "secret123", groups=["credit_officers"])
    return ctx


def test_admins_add_and_rename_groups_in_both_languages(people):
    added = users.add_group(people, "loan_operations", user="ada", title=" Loan Operations ", title_zh="贷款运营部")
    assert (added.title, added.title_zh) == ("Loan Operations", "贷款运营部")
    assert users.group_titles(people)["loan_operations"] == GroupRecord(
        name="loan_operations", title="Loan Operations", title_zh="贷款运营部")
    assert users.group_titles(people)["credit_officers"] == GroupRecord(
        name="credit_officers", title=None, title_zh=None)
    users.set_group_titles(people, "credit_officers", "Credit Officers", "  ", user="ada")
    assert users.group_titles(people)["credit_officers"] == GroupRecord(
        name="credit_officers", title="Credit Officers", title_zh=None)


def test_only_admins_rename_groups_and_names_are_checked(people):
    with pytest.raises(PermissionDenied):
        users.set_group_titles(people, "credit_officers", "Officers", None, user="olga")
    with pytest.raises(PermissionDenied):
        users.add_group(people, "tellers", user="olga", title="Tellers")
    with pytest.raises(NotFound):
        users.set_group_titles(people, "no_such_group", "Nobody", None, user="ada")
    with pytest.raises(InvalidData) as refused:
        users.set_group_titles(people, "credit_officers", "x" * 201, None, user="ada")
    assert [p.field for p in refused.value.field_problems] == ["title"]
    assert users.group_titles(people)["credit_officers"].title is None


def test_the_demo_data_names_every_group_and_keeps_an_admins_names(ctx):
    users.add_user(ctx, "ada", "secret123", roles=["admin"])
    users.add_group(ctx, "credit_officers", user="ada", title="Loan Officers", title_zh="信贷客户经理")
    demo_data.load_demo(ctx, LIBRARY)
    spec = tomllib.loads((LIBRARY / "demo_users.toml").read_text(encoding="utf-8"))
    titles = users.group_titles(ctx)
    member_groups = {g for u in spec["users"].values() for g in u.get("groups", [])}
    assert set(spec["groups"]) == member_groups  # every group a demo user is in has its names
    for name, names in spec["groups"].items():
        assert names["title"] and names["title_zh"]
        if name != "credit_officers":
            assert titles[name] == GroupRecord(name=name, title=names["title"], title_zh=names["title_zh"])
    assert titles["credit_officers"] == GroupRecord(name="credit_officers", title="Loan Officers", title_zh="信贷客户经理")


def test_the_models_match_the_migrations(ctx):
    with ctx.database.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []


def test_the_migration_keeps_groups_and_notifications_written_before_it(ctx):
    config = schema.alembic_config(ctx.database.engine)
    with ctx.database.engine.begin() as connection:  # back to before it, while the database is empty
        config.attributes["connection"] = connection
        command.downgrade(config, BEFORE)
    with ctx.database.engine.begin() as connection:
        connection.execute(text("INSERT INTO app_group (name) VALUES ('credit_officers')"))
        connection.execute(text("INSERT INTO notification (user_name, kind, message, created_at) "
                                "VALUES ('olga', 'sla_breached', 'SLA breached: case 1 of x was due "
                                "2026-01-05 13:00 UTC', :at)"), {"at": datetime(2026, 1, 5, 14, tzinfo=timezone.utc)})
    assert schema.upgrade(ctx.database.engine) == "upgraded"
    users.add_user(ctx, "olga", "secret123", groups=["credit_officers"])
    assert users.group_titles(ctx) == {"credit_officers": GroupRecord(name="credit_officers", title=None,
                                                                      title_zh=None)}
    [old] = notifications.list_for(ctx, "olga")
    assert old.message.startswith("SLA breached: case 1") and old.message_id is None and old.params is None

"""A database connection the server dropped costs one failed call, never a write or a stuck pool."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from engine.services import deployments, instances, tasks
from engine.errors import DatabaseProblem


def test_a_dropped_connection_fails_one_call_and_the_next_one_works(ctx, staff, fixture_path, is_postgres,
                                                                    database_url):
    if not is_postgres:
        pytest.skip("SQLite has no server to drop connections")
    deployments.deploy(ctx, deployments.read_sources([fixture_path("two_lane_review.bpmn")]))
    case = instances.start(ctx, "loan_review", user="olga")
    [task] = tasks.list_tasks(ctx, instance_id=case.id)
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:  # as a server restart or a failover would
        dropped = connection.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar_one()
    admin.dispose()
    assert dropped >= 1

    with pytest.raises(DatabaseProblem, match="cannot reach the database"):
        tasks.claim(ctx, task.id, "olga")
    claimed = tasks.claim(ctx, task.id, "olga")
    assert claimed.assignee == "olga"
    history = [e.type for e in instances.get_instance(ctx, case.id).history]
    assert history.count("task_claimed") == 1

"""analytics indexes: cases by process and time, tasks and activities by end time

`bankflow metrics` selects a process's cases by start and by completion, and a
time window's tasks and activities by when they ended (engine.analytics.queries).

Revision ID: d8e2f4a6c1b3
Revises: c3a9e5f1b2d4
Create Date: 2026-12-01 11:00:00
"""
from alembic import op


revision = 'd8e2f4a6c1b3'
down_revision = 'c3a9e5f1b2d4'
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_instance_definition_started", "process_instance", ["definition_id", "started_at"]),
    ("ix_instance_definition_ended", "process_instance", ["definition_id", "status", "ended_at"]),
    ("ix_task_completed", "human_task", ["completed_at"]),
    ("ix_activity_ended", "activity", ["ended_at"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)

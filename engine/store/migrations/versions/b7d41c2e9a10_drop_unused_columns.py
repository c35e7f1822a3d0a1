"""drop columns nothing reads (process_definition.is_executable, always true; human_task.sla_target);
add who may start a process (process_definition.starter_groups, starter_users)

Revision ID: b7d41c2e9a10
Revises: 928965321217
Create Date: 2026-12-01 10:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'b7d41c2e9a10'
down_revision = '928965321217'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Batch mode: SQLite rebuilds the table, PostgreSQL drops the column in place.
    with op.batch_alter_table('process_definition') as batch:
        batch.drop_column('is_executable')
        batch.add_column(sa.Column('starter_groups', sa.JSON(), nullable=False, server_default='[]'))
        batch.add_column(sa.Column('starter_users', sa.JSON(), nullable=False, server_default='[]'))
    with op.batch_alter_table('human_task') as batch:
        batch.drop_column('sla_target')


def downgrade() -> None:
    with op.batch_alter_table('human_task') as batch:
        batch.add_column(sa.Column('sla_target', sa.String(length=50), nullable=True))
    with op.batch_alter_table('process_definition') as batch:
        batch.drop_column('starter_users')
        batch.drop_column('starter_groups')
        batch.add_column(sa.Column('is_executable', sa.Boolean(), nullable=False, server_default=sa.true()))

"""worker heartbeats: each worker's latest pass, so the web app warns when no worker runs

Revision ID: e4f7a9c2d5b8
Revises: d8e2f4a6c1b3
Create Date: 2026-12-02 09:00:00
"""
from alembic import op
import sqlalchemy as sa
import engine.store.models


revision = 'e4f7a9c2d5b8'
down_revision = 'd8e2f4a6c1b3'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'worker_heartbeat',
        sa.Column('worker_id', sa.String(length=100), nullable=False),
        sa.Column('started_at', engine.store.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column('last_pass_at', engine.store.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column('interval_seconds', sa.Double(), nullable=True),
        sa.Column('passes', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('worker_id'),
    )


def downgrade() -> None:
    op.drop_table('worker_heartbeat')

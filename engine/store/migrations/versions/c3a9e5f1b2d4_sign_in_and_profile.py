"""users: disabled flag, failed sign-ins and lock-out (shared by every web process), language and time zone

Revision ID: c3a9e5f1b2d4
Revises: b7d41c2e9a10
Create Date: 2026-12-01 10:05:00
"""
from alembic import op
import sqlalchemy as sa
import engine.store.models


revision = 'c3a9e5f1b2d4'
down_revision = 'b7d41c2e9a10'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('app_user') as batch:
        batch.add_column(sa.Column('disabled', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column('failed_sign_ins', sa.Integer(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('failed_since', engine.store.models.UtcDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('locked_until', engine.store.models.UtcDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('locale', sa.String(length=10), nullable=True))
        batch.add_column(sa.Column('timezone', sa.String(length=60), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('app_user') as batch:
        for column in ('timezone', 'locale', 'locked_until', 'failed_since', 'failed_sign_ins', 'disabled'):
            batch.drop_column(column)

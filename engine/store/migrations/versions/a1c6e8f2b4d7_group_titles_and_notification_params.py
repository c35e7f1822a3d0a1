"""group display names (app_group.title, title_zh); notifications said in the reader's language
(notification.message_id, params: what the message says, with its due time as ISO 8601)

Revision ID: a1c6e8f2b4d7
Revises: f5b8d1e3a7c9
Create Date: 2026-12-08 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'a1c6e8f2b4d7'
down_revision = 'f5b8d1e3a7c9'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('app_group') as batch:
        batch.add_column(sa.Column('title', sa.String(length=200), nullable=True))
        batch.add_column(sa.Column('title_zh', sa.String(length=200), nullable=True))
    with op.batch_alter_table('notification') as batch:
        batch.add_column(sa.Column('message_id', sa.String(length=40), nullable=True))
        batch.add_column(sa.Column('params', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('notification') as batch:
        batch.drop_column('params')
        batch.drop_column('message_id')
    with op.batch_alter_table('app_group') as batch:
        batch.drop_column('title_zh')
        batch.drop_column('title')

"""users: `simulated`, the staff the simulator makes up to work simulated history (kept out of the user
lists, the hand-over lists and sign-in)

Revision ID: b9d3f7a1c5e2
Revises: a1c6e8f2b4d7
Create Date: 2026-12-08 12:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'b9d3f7a1c5e2'
down_revision = 'a1c6e8f2b4d7'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('app_user') as batch:
        batch.add_column(sa.Column('simulated', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('app_user') as batch:
        batch.drop_column('simulated')

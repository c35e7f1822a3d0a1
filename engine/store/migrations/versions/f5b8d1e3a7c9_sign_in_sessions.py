"""sign-in sessions: one row per sign-in, looked up on every request, so a session can be revoked

Revision ID: f5b8d1e3a7c9
Revises: e4f7a9c2d5b8
Create Date: 2026-12-07 17:30:00
"""
from alembic import op
import sqlalchemy as sa
import engine.store.models


revision = 'f5b8d1e3a7c9'
down_revision = 'e4f7a9c2d5b8'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'sign_in_session',
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('created_at', engine.store.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', engine.store.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', engine.store.models.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['app_user.id']),
        sa.PrimaryKeyConstraint('token_hash'),
    )
    op.create_index('ix_sign_in_session_user_id', 'sign_in_session', ['user_id'])
    op.create_index('ix_sign_in_session_created_at', 'sign_in_session', ['created_at'])


def downgrade() -> None:
    op.drop_index('ix_sign_in_session_created_at', table_name='sign_in_session')
    op.drop_index('ix_sign_in_session_user_id', table_name='sign_in_session')
    op.drop_table('sign_in_session')

"""bank check results: what the last `questions check` / `questions load` found, for the admin pages

Revision ID: 0005_bank_check
Revises: 0004_bank_revision
Create Date: 2026-12-04

"""
from alembic import op
import sqlalchemy as sa


revision = '0005_bank_check'
down_revision = '0004_bank_revision'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('bank_check',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('command', sa.String(length=10), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('folder', sa.String(length=500), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=True),
    sa.Column('problems', sa.JSON(), nullable=False),
    sa.Column('warnings', sa.JSON(), nullable=False),
    sa.Column('modules', sa.JSON(), nullable=False),
    sa.Column('readability', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_check'))
    )
    with op.batch_alter_table('bank_check', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bank_check_checked_at'), ['checked_at'], unique=False)


def downgrade():
    with op.batch_alter_table('bank_check', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bank_check_checked_at'))
    op.drop_table('bank_check')

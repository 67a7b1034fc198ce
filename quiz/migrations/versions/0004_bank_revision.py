"""bank revision: one row whose token changes with every change to the bank tables

Each app process keeps the served bank in memory (quiz.bank.snapshot) and compares this token once
per request, so a bank reload on one server reaches every worker at its next request. The row is
created here with a fresh token, so processes that cached the bank before the upgrade reload it.

Revision ID: 0004_bank_revision
Revises: 0003_staff_workspace
Create Date: 2026-12-04

"""
import secrets
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


revision = '0004_bank_revision'
down_revision = '0003_staff_workspace'
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table('bank_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_revision'))
    )
    op.bulk_insert(table, [{"id": 1, "token": secrets.token_hex(16), "changed_at": datetime.now(timezone.utc)}])


def downgrade():
    op.drop_table('bank_revision')

"""question review: who reviewed each question version, and when

Revision ID: 0002_question_review
Revises: 0001_initial
Create Date: 2026-11-22

"""
from alembic import op
import sqlalchemy as sa


revision = '0002_question_review'
down_revision = '0001_initial'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('question_version', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reviewed_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('reviewed_by_role', sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table('question_version', schema=None) as batch_op:
        batch_op.drop_column('reviewed_by_role')
        batch_op.drop_column('reviewed_on')

"""statistics: summary tables for the administrator reports

Sums over assignments for the dashboard and item analysis (quiz.stats), per day and per week, per unit
and for all units (unit 0). The tables start empty: on a database that already holds answers, run
`flask --app wsgi stats rebuild` once after upgrading.

Revision ID: 0006_statistics
Revises: 0005_bank_check
Create Date: 2026-12-04 22:39:01.018861

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_statistics'
down_revision = '0005_bank_check'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('stat_assignment',
    sa.Column('period', sa.String(length=1), nullable=False),
    sa.Column('unit_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('made', sa.Integer(), server_default='0', nullable=False),
    sa.Column('started', sa.Integer(), server_default='0', nullable=False),
    sa.Column('completed', sa.Integer(), server_default='0', nullable=False),
    sa.Column('ready', sa.Integer(), server_default='0', nullable=False),
    sa.CheckConstraint("period IN ('d', 'w')", name=op.f('ck_stat_assignment_period')),
    sa.PrimaryKeyConstraint('period', 'unit_id', 'day', name=op.f('pk_stat_assignment'))
    )
    op.create_table('stat_completion',
    sa.Column('period', sa.String(length=1), nullable=False),
    sa.Column('unit_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('bucket', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('n', sa.Integer(), server_default='0', nullable=False),
    sa.CheckConstraint("period IN ('d', 'w')", name=op.f('ck_stat_completion_period')),
    sa.PrimaryKeyConstraint('period', 'unit_id', 'day', 'bucket', name=op.f('pk_stat_completion'))
    )
    op.create_table('stat_module',
    sa.Column('period', sa.String(length=1), nullable=False),
    sa.Column('unit_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('module_id', sa.String(length=64), nullable=False),
    sa.Column('assigned', sa.Integer(), server_default='0', nullable=False),
    sa.Column('started', sa.Integer(), server_default='0', nullable=False),
    sa.Column('first_pass', sa.Integer(), server_default='0', nullable=False),
    sa.Column('completed', sa.Integer(), server_default='0', nullable=False),
    sa.Column('ft_correct', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('ft_total', sa.BigInteger(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['module_id'], ['module.id'], name=op.f('fk_stat_module_module_id_module')),
    sa.CheckConstraint("period IN ('d', 'w')", name=op.f('ck_stat_module_period')),
    sa.PrimaryKeyConstraint('period', 'unit_id', 'day', 'module_id', name=op.f('pk_stat_module'))
    )
    op.create_table('stat_choice',
    sa.Column('period', sa.String(length=1), nullable=False),
    sa.Column('unit_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('question_version_id', sa.Integer(), nullable=False),
    sa.Column('choice', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('n', sa.Integer(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['question_version_id'], ['question_version.id'], name=op.f('fk_stat_choice_question_version_id_question_version')),
    sa.CheckConstraint("period IN ('d', 'w')", name=op.f('ck_stat_choice_period')),
    sa.PrimaryKeyConstraint('period', 'unit_id', 'day', 'question_version_id', 'choice', name=op.f('pk_stat_choice'))
    )
    op.create_table('stat_contribution',
    sa.Column('assignment_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignment.id'], name=op.f('fk_stat_contribution_assignment_id_assignment')),
    sa.PrimaryKeyConstraint('assignment_id', name=op.f('pk_stat_contribution'))
    )
    op.create_table('stat_item',
    sa.Column('period', sa.String(length=1), nullable=False),
    sa.Column('unit_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('question_version_id', sa.Integer(), nullable=False),
    sa.Column('n', sa.Integer(), server_default='0', nullable=False),
    sa.Column('sum_x', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('sum_y', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('sum_xy', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('sum_xx', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('sum_yy', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('mastered', sa.Integer(), server_default='0', nullable=False),
    sa.Column('tries', sa.BigInteger(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['question_version_id'], ['question_version.id'], name=op.f('fk_stat_item_question_version_id_question_version')),
    sa.CheckConstraint("period IN ('d', 'w')", name=op.f('ck_stat_item_period')),
    sa.PrimaryKeyConstraint('period', 'unit_id', 'day', 'question_version_id', name=op.f('pk_stat_item'))
    )


def downgrade():
    op.drop_table('stat_item')
    op.drop_table('stat_contribution')
    op.drop_table('stat_choice')
    op.drop_table('stat_module')
    op.drop_table('stat_completion')
    op.drop_table('stat_assignment')

"""statistics: summary tables for the administrator reports

Sums over assignments for the dashboard and item analysis (quiz.stats). The tables start empty: on a
database that already holds answers, run `flask --app wsgi stats rebuild` once after upgrading.

Revision ID: 0004_statistics
Revises: 0003_staff_workspace
Create Date: 2026-12-04 22:15:52.162482

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004_statistics'
down_revision = '0003_staff_workspace'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('stat_assignment',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('made', sa.Integer(), server_default='0', nullable=False),
    sa.Column('started', sa.Integer(), server_default='0', nullable=False),
    sa.Column('completed', sa.Integer(), server_default='0', nullable=False),
    sa.Column('ready', sa.Integer(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_stat_assignment_unit_id_unit')),
    sa.PrimaryKeyConstraint('day', 'unit_id', name=op.f('pk_stat_assignment'))
    )
    op.create_table('stat_completion',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('bucket', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('n', sa.Integer(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_stat_completion_unit_id_unit')),
    sa.PrimaryKeyConstraint('day', 'unit_id', 'bucket', name=op.f('pk_stat_completion'))
    )
    op.create_table('stat_module',
    sa.Column('module_id', sa.String(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('assigned', sa.Integer(), server_default='0', nullable=False),
    sa.Column('started', sa.Integer(), server_default='0', nullable=False),
    sa.Column('first_pass', sa.Integer(), server_default='0', nullable=False),
    sa.Column('completed', sa.Integer(), server_default='0', nullable=False),
    sa.Column('ft_correct', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('ft_total', sa.BigInteger(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['module_id'], ['module.id'], name=op.f('fk_stat_module_module_id_module')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_stat_module_unit_id_unit')),
    sa.PrimaryKeyConstraint('module_id', 'day', 'unit_id', name=op.f('pk_stat_module'))
    )
    with op.batch_alter_table('stat_module', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stat_module_day'), ['day'], unique=False)

    op.create_table('stat_choice',
    sa.Column('question_version_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('choice', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('n', sa.Integer(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['question_version_id'], ['question_version.id'], name=op.f('fk_stat_choice_question_version_id_question_version')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_stat_choice_unit_id_unit')),
    sa.PrimaryKeyConstraint('question_version_id', 'day', 'unit_id', 'choice', name=op.f('pk_stat_choice'))
    )
    with op.batch_alter_table('stat_choice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stat_choice_day'), ['day'], unique=False)

    op.create_table('stat_contribution',
    sa.Column('assignment_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignment.id'], name=op.f('fk_stat_contribution_assignment_id_assignment')),
    sa.PrimaryKeyConstraint('assignment_id', name=op.f('pk_stat_contribution'))
    )
    op.create_table('stat_item',
    sa.Column('question_version_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('n', sa.Integer(), server_default='0', nullable=False),
    sa.Column('sum_x', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('sum_y', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('sum_xy', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('sum_xx', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('sum_yy', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('mastered', sa.Integer(), server_default='0', nullable=False),
    sa.Column('tries', sa.BigInteger(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['question_version_id'], ['question_version.id'], name=op.f('fk_stat_item_question_version_id_question_version')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_stat_item_unit_id_unit')),
    sa.PrimaryKeyConstraint('question_version_id', 'day', 'unit_id', name=op.f('pk_stat_item'))
    )
    with op.batch_alter_table('stat_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stat_item_day'), ['day'], unique=False)



def downgrade():
    with op.batch_alter_table('stat_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stat_item_day'))

    op.drop_table('stat_item')
    op.drop_table('stat_contribution')
    with op.batch_alter_table('stat_choice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stat_choice_day'))

    op.drop_table('stat_choice')
    with op.batch_alter_table('stat_module', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stat_module_day'))

    op.drop_table('stat_module')
    op.drop_table('stat_completion')
    op.drop_table('stat_assignment')

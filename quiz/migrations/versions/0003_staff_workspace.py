"""staff workspace: units, staff, patients, teach-back, audit, sessions

Existing assignments keep working: each gets a patient record (its old `patient_label`) in a unit
named "Unassigned" that the migration creates (only when there are assignments), which admins see.
Their codes (8 characters, older alphabet) have no nonce: they keep working until they expire.
`audit_event` and `teach_back` refuse UPDATE and DELETE (triggers; same SQL as
quiz.models.append_only_ddl at the time of writing).

Revision ID: 0003_staff_workspace
Revises: 0002_question_review
Create Date: 2026-11-22

"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003_staff_workspace'
down_revision = '0002_question_review'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('staff_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_sign_in_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("role IN ('nurse', 'admin')", name=op.f('ck_staff_user_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_user')),
    sa.UniqueConstraint('username', name=op.f('uq_staff_user_username'))
    )
    op.create_table('unit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit')),
    sa.UniqueConstraint('name', name=op.f('uq_unit_name'))
    )
    op.create_table('patient',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('external_ref', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['staff_user.id'], name=op.f('fk_patient_created_by_id_staff_user')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_patient_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patient')),
    sa.UniqueConstraint('unit_id', 'external_ref', name=op.f('uq_patient_unit_id_external_ref'))
    )
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patient_unit_id'), ['unit_id'], unique=False)

    op.create_table('staff_unit',
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_user.id'], name=op.f('fk_staff_unit_staff_id_staff_user')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_staff_unit_unit_id_unit')),
    sa.PrimaryKeyConstraint('staff_id', 'unit_id', name=op.f('pk_staff_unit'))
    )
    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=64), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('patient_id', sa.Integer(), nullable=True),
    sa.Column('assignment_id', sa.Integer(), nullable=True),
    sa.Column('address', sa.String(length=64), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['staff_user.id'], name=op.f('fk_audit_event_actor_id_staff_user')),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignment.id'], name=op.f('fk_audit_event_assignment_id_assignment')),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_audit_event_patient_id_patient')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_audit_event_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_unit_id'), ['unit_id'], unique=False)

    op.create_table('teach_back',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('module_id', sa.String(length=64), nullable=False),
    sa.Column('key_point', sa.Text(), nullable=False),
    sa.Column('learner', sa.String(length=20), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('response', sa.String(length=30), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('supersedes_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("learner IN ('patient', 'family', 'caregiver')", name=op.f('ck_teach_back_learner')),
    sa.CheckConstraint("method IN ('explanation', 'demonstration', 'written', 'teach_back')", name=op.f('ck_teach_back_method')),
    sa.CheckConstraint("response IN ('verbalizes', 'demonstrates', 'needs_reinforcement', 'no_evidence', 'refused')", name=op.f('ck_teach_back_response')),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignment.id'], name=op.f('fk_teach_back_assignment_id_assignment')),
    sa.ForeignKeyConstraint(['module_id'], ['module.id'], name=op.f('fk_teach_back_module_id_module')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['staff_user.id'], name=op.f('fk_teach_back_recorded_by_id_staff_user')),
    sa.ForeignKeyConstraint(['supersedes_id'], ['teach_back.id'], name=op.f('fk_teach_back_supersedes_id_teach_back')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_teach_back')),
    sa.UniqueConstraint('supersedes_id', name=op.f('uq_teach_back_supersedes_id'))
    )
    with op.batch_alter_table('teach_back', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_teach_back_assignment_id'), ['assignment_id'], unique=False)

    op.create_table('web_session',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('assignment_id', sa.Integer(), nullable=True),
    sa.Column('data', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind IN ('staff', 'patient')", name=op.f('ck_web_session_kind')),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignment.id'], name=op.f('fk_web_session_assignment_id_assignment')),
    sa.ForeignKeyConstraint(['user_id'], ['staff_user.id'], name=op.f('fk_web_session_user_id_staff_user')),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_web_session'))
    )
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_session_assignment_id'), ['assignment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_web_session_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('patient_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('code_nonce', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('created_by_id', sa.Integer(), nullable=True))

    _patients_for_existing_assignments()

    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.alter_column('patient_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('updated_at', existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.create_index(batch_op.f('ix_assignment_patient_id'), ['patient_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_assignment_created_by_id_staff_user'), 'staff_user', ['created_by_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_assignment_patient_id_patient'), 'patient', ['patient_id'], ['id'])
        batch_op.drop_column('patient_label')

    for statement in _append_only_ddl(op.get_bind().dialect.name):
        op.execute(statement)



def downgrade():
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('patient_label', sa.VARCHAR(length=100), nullable=True))
    op.execute("UPDATE assignment SET patient_label = (SELECT label FROM patient WHERE patient.id = assignment.patient_id)")
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.alter_column('patient_label', existing_type=sa.VARCHAR(length=100), nullable=False)
        batch_op.drop_constraint(batch_op.f('fk_assignment_patient_id_patient'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_assignment_created_by_id_staff_user'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_assignment_patient_id'))
        batch_op.drop_column('created_by_id')
        batch_op.drop_column('updated_at')
        batch_op.drop_column('code_nonce')
        batch_op.drop_column('patient_id')

    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_session_user_id'))
        batch_op.drop_index(batch_op.f('ix_web_session_assignment_id'))

    op.drop_table('web_session')
    with op.batch_alter_table('teach_back', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_teach_back_assignment_id'))

    op.drop_table('teach_back')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_unit_id'))
        batch_op.drop_index(batch_op.f('ix_audit_event_patient_id'))
        batch_op.drop_index(batch_op.f('ix_audit_event_at'))
        batch_op.drop_index(batch_op.f('ix_audit_event_actor_id'))
        batch_op.drop_index(batch_op.f('ix_audit_event_action'))

    op.drop_table('audit_event')
    op.drop_table('staff_unit')
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patient_unit_id'))

    op.drop_table('patient')
    op.drop_table('unit')
    op.drop_table('staff_user')
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS quiz_append_only()")


def _patients_for_existing_assignments():
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, patient_label, created_at FROM assignment ORDER BY id")).all()
    if not rows:
        return
    now = datetime.now(timezone.utc)
    unit = bind.execute(sa.text("SELECT id FROM unit WHERE name = 'Unassigned'")).scalar()
    if unit is None:
        bind.execute(sa.text("INSERT INTO unit (name, created_at) VALUES ('Unassigned', :now)"), {"now": now})
        unit = bind.execute(sa.text("SELECT id FROM unit WHERE name = 'Unassigned'")).scalar()
    for assignment_id, label, created_at in rows:
        bind.execute(sa.text("INSERT INTO patient (label, unit_id, created_at) VALUES (:label, :unit, :at)"),
                     {"label": label, "unit": unit, "at": created_at})
        patient_id = bind.execute(sa.text("SELECT max(id) FROM patient")).scalar()
        bind.execute(sa.text("UPDATE assignment SET patient_id = :patient, updated_at = created_at WHERE id = :id"),
                     {"patient": patient_id, "id": assignment_id})


def _append_only_ddl(dialect):
    statements = []
    for table in ("audit_event", "teach_back"):
        if dialect == "postgresql":
            statements += [
                "CREATE OR REPLACE FUNCTION quiz_append_only() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$",
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION quiz_append_only()",
            ]
        elif dialect == "sqlite":
            statements += [f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                           f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                           for verb in ("UPDATE", "DELETE")]
    return statements

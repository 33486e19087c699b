"""door: admissions, tallies, re-entry

Admissions at the entrance and stations (one visit per ticket per station), service tallies,
Event.allow_reentry and Registration.admitted_people (counted by a conditional UPDATE).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 22:52:35.598681

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('tally',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.CheckConstraint('count >= 0', name=op.f('ck_tally_count_not_negative')),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_tally_event_id_event'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tally')),
    sa.UniqueConstraint('event_id', 'name', name=op.f('uq_tally_event_id'))
    )
    with op.batch_alter_table('tally', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tally_event_id'), ['event_id'], unique=False)

    op.create_table('admission',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('checkpoint_id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('entry', 'reentry', 'visit', 'walk_in', name='admission_kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('people', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=50), nullable=True),
    sa.Column('phone', sa.String(length=11), nullable=True),
    sa.CheckConstraint('people >= 1', name=op.f('ck_admission_people_positive')),
    sa.ForeignKeyConstraint(['by_id'], ['user.id'], name=op.f('fk_admission_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['checkpoint_id'], ['checkpoint.id'], name=op.f('fk_admission_checkpoint_id_checkpoint'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_admission_event_id_event'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['registration_id'], ['registration.id'], name=op.f('fk_admission_registration_id_registration'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['event_session.id'], name=op.f('fk_admission_session_id_event_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_admission'))
    )
    with op.batch_alter_table('admission', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_admission_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_admission_registration_id'), ['registration_id'], unique=False)
        batch_op.create_index('uq_admission_visit', ['registration_id', 'checkpoint_id'], unique=True, sqlite_where=sa.text("kind = 'visit'"), postgresql_where=sa.text("kind = 'visit'"))

    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('allow_reentry', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.add_column(sa.Column('admitted_people', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.drop_column('admitted_people')

    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_column('allow_reentry')

    with op.batch_alter_table('admission', schema=None) as batch_op:
        batch_op.drop_index('uq_admission_visit', sqlite_where=sa.text("kind = 'visit'"), postgresql_where=sa.text("kind = 'visit'"))
        batch_op.drop_index(batch_op.f('ix_admission_registration_id'))
        batch_op.drop_index(batch_op.f('ix_admission_event_id'))

    op.drop_table('admission')
    with op.batch_alter_table('tally', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tally_event_id'))

    op.drop_table('tally')

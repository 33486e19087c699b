"""the door offline, exits and "inside now", safety caps, answers shown at the door

- door_scan: every scan a device sends with its own scan_id, recorded once (unique per account),
  with the answer it got and the conflict the server found (a duplicate, after a cancellation).
- admission.offline, and the admission kind "exit" (people leaving; never counted as come in).
- checkpoint.direction (in, out, both); event.safety_cap and event_session.safety_cap (最大承载量).
- question.show_at_door.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 09:12:58

"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

KIND_CHECK = 'ck_admission_admission_kind'
KINDS = ('entry', 'reentry', 'visit', 'walk_in')


def _kind(*values):
    return sa.Enum(*values, name='admission_kind', native_enum=False, create_constraint=True,
                   length=20)


def _kinds(old, new):
    """The CHECK of admission.kind, from the `old` values to the `new` (as 0007's purposes)."""
    if op.get_bind().dialect.name == 'sqlite':  # the table is copied with the new CHECK
        with op.batch_alter_table('admission', schema=None, recreate='always') as batch_op:
            batch_op.alter_column('kind', existing_type=_kind(*old), type_=_kind(*new),
                                  existing_nullable=False)
        return
    quoted = ', '.join(f"'{v}'" for v in new)
    op.execute(f'ALTER TABLE admission DROP CONSTRAINT IF EXISTS {KIND_CHECK}')
    op.execute(f'ALTER TABLE admission ADD CONSTRAINT {KIND_CHECK} CHECK (kind IN ({quoted}))')


def upgrade():
    op.create_table('door_scan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=False),
    sa.Column('scan_id', sa.String(length=64), nullable=False),
    sa.Column('scanned_at', sa.DateTime(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('offline', sa.Boolean(), nullable=False),
    sa.Column('checkpoint_id', sa.Integer(), nullable=True),
    sa.Column('registration_id', sa.Integer(), nullable=True),
    sa.Column('admission_id', sa.Integer(), nullable=True),
    sa.Column('result', sa.String(length=20), nullable=False),
    sa.Column('conflict', sa.Enum('duplicate', 'after_cancellation', 'refused', name='scan_conflict', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('other_by_id', sa.Integer(), nullable=True),
    sa.Column('answer', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['admission_id'], ['admission.id'], name=op.f('fk_door_scan_admission_id_admission'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['by_id'], ['user.id'], name=op.f('fk_door_scan_by_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['checkpoint_id'], ['checkpoint.id'], name=op.f('fk_door_scan_checkpoint_id_checkpoint'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_door_scan_event_id_event'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['other_by_id'], ['user.id'], name=op.f('fk_door_scan_other_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['registration_id'], ['registration.id'], name=op.f('fk_door_scan_registration_id_registration'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_door_scan')),
    sa.UniqueConstraint('by_id', 'scan_id', name=op.f('uq_door_scan_by_id'))
    )
    with op.batch_alter_table('door_scan', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_door_scan_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_door_scan_registration_id'), ['registration_id'], unique=False)

    with op.batch_alter_table('admission', schema=None) as batch_op:
        batch_op.add_column(sa.Column('offline', sa.Boolean(), server_default=sa.false(), nullable=False))
    _kinds(KINDS, KINDS + ('exit',))

    with op.batch_alter_table('checkpoint', schema=None) as batch_op:
        batch_op.add_column(sa.Column('direction', sa.Enum('in', 'out', 'both', name='checkpoint_direction', native_enum=False, create_constraint=True, length=20), server_default='in', nullable=False))

    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('safety_cap', sa.Integer(), nullable=True))
        batch_op.create_check_constraint('safety_cap_positive', 'safety_cap IS NULL OR safety_cap >= 1')

    with op.batch_alter_table('event_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('safety_cap', sa.Integer(), nullable=True))
        batch_op.create_check_constraint('safety_cap_positive', 'safety_cap IS NULL OR safety_cap >= 1')

    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.add_column(sa.Column('show_at_door', sa.Boolean(), server_default=sa.false(), nullable=False))



def downgrade():
    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.drop_column('show_at_door')

    with op.batch_alter_table('event_session', schema=None) as batch_op:
        batch_op.drop_constraint('safety_cap_positive', type_='check')
        batch_op.drop_column('safety_cap')

    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_constraint('safety_cap_positive', type_='check')
        batch_op.drop_column('safety_cap')

    with op.batch_alter_table('checkpoint', schema=None) as batch_op:
        batch_op.drop_constraint('checkpoint_direction', type_='check')
        batch_op.drop_column('direction')

    op.execute("DELETE FROM admission WHERE kind = 'exit'")
    with op.batch_alter_table('admission', schema=None) as batch_op:
        batch_op.drop_column('offline')
    _kinds(KINDS + ('exit',), KINDS)

    with op.batch_alter_table('door_scan', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_door_scan_registration_id'))
        batch_op.drop_index(batch_op.f('ix_door_scan_event_id'))

    op.drop_table('door_scan')

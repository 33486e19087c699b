"""campaign: door staff invited by one-time sign-in links, door devices paired to one event,
the messages a campaign needs (reminders, thank-you and survey, the organiser's composer) and the
template parameters that Chinese SMS providers require

- sign_in_link: a one-time, expiring sign-in link (only its hash).
- door_device: a phone paired to one event's door; admission.device_id names it on each scan.
- event.send_reminders (default on): the text the day before at 18:00 Shanghai time.
- registration.reminder_sent_at / thanks_sent_at: claimed once, by a conditional UPDATE.
- survey_response: one answer per ticket, 1-5 stars.
- broadcast: a message an organiser wrote to registrants; notification.template / params.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 19:15:44.133249

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('door_device',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('pairing_hash', sa.String(length=64), nullable=True),
    sa.Column('pairing_expires_at', sa.DateTime(), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('paired_at', sa.DateTime(), nullable=True),
    sa.Column('last_scan_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_door_device_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_door_device_event_id_event'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_door_device')),
    sa.UniqueConstraint('pairing_hash', name=op.f('uq_door_device_pairing_hash')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_door_device_token_hash'))
    )
    with op.batch_alter_table('door_device', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_door_device_event_id'), ['event_id'], unique=False)

    op.create_table('sign_in_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_sign_in_link_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_sign_in_link_event_id_event'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_sign_in_link_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_link')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_sign_in_link_token_hash'))
    )
    with op.batch_alter_table('sign_in_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_link_user_id'), ['user_id'], unique=False)

    op.create_table('broadcast',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('sent_by_id', sa.Integer(), nullable=True),
    sa.Column('audience', sa.JSON(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('recipients', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_broadcast_event_id_event'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sent_by_id'], ['user.id'], name=op.f('fk_broadcast_sent_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['session_id'], ['event_session.id'], name=op.f('fk_broadcast_session_id_event_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_broadcast'))
    )
    with op.batch_alter_table('broadcast', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_broadcast_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_broadcast_event_id'), ['event_id'], unique=False)

    op.create_table('survey_response',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('stars', sa.Integer(), nullable=False),
    sa.Column('come_again', sa.Boolean(), nullable=True),
    sa.Column('comment', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('stars >= 1 AND stars <= 5', name=op.f('ck_survey_response_stars_one_to_five')),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_survey_response_event_id_event'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['registration_id'], ['registration.id'], name=op.f('fk_survey_response_registration_id_registration'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_response')),
    sa.UniqueConstraint('registration_id', name=op.f('uq_survey_response_registration_id'))
    )
    with op.batch_alter_table('survey_response', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_response_event_id'), ['event_id'], unique=False)

    with op.batch_alter_table('admission', schema=None) as batch_op:
        batch_op.add_column(sa.Column('device_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_admission_device_id_door_device'), 'door_device', ['device_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('send_reminders', sa.Boolean(), server_default=sa.true(), nullable=False))

    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('template', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('params', sa.JSON(), nullable=True))

    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminder_sent_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('thanks_sent_at', sa.DateTime(), nullable=True))



def downgrade():
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.drop_column('thanks_sent_at')
        batch_op.drop_column('reminder_sent_at')

    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_column('params')
        batch_op.drop_column('template')

    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_column('send_reminders')

    with op.batch_alter_table('admission', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_admission_device_id_door_device'), type_='foreignkey')
        batch_op.drop_column('device_id')

    with op.batch_alter_table('survey_response', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_response_event_id'))

    op.drop_table('survey_response')
    with op.batch_alter_table('broadcast', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_broadcast_event_id'))
        batch_op.drop_index(batch_op.f('ix_broadcast_created_at'))

    op.drop_table('broadcast')
    with op.batch_alter_table('sign_in_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_in_link_user_id'))

    op.drop_table('sign_in_link')
    with op.batch_alter_table('door_device', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_door_device_event_id'))

    op.drop_table('door_device')

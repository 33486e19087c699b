"""registrations, questions and answers

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 22:15:48.479129

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('question',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('text', 'single', 'multiple', 'number', 'id_card', name='question_kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.Column('options', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_question_event_id_event'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_question')),
    sa.UniqueConstraint('event_id', 'position', name=op.f('uq_question_event_id'))
    )
    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_question_event_id'), ['event_id'], unique=False)

    op.create_table('registration',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('phone', sa.String(length=11), nullable=True),
    sa.Column('party_size', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('confirmed', 'waitlisted', 'offered', 'applied', 'declined', 'not_selected', 'cancelled', name='registration_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('consent_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('party_size >= 1', name=op.f('ck_registration_party_size_positive')),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_registration_event_id_event'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['event_session.id'], name=op.f('fk_registration_session_id_event_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_registration')),
    sa.UniqueConstraint('code', name=op.f('uq_registration_code'))
    )
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registration_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_registration_phone'), ['phone'], unique=False)
        batch_op.create_index(batch_op.f('ix_registration_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_registration_status'), ['status'], unique=False)
        batch_op.create_index('uq_registration_active_phone', ['session_id', 'phone'], unique=True, sqlite_where=sa.text("status NOT IN ('cancelled', 'declined', 'not_selected')"), postgresql_where=sa.text("status NOT IN ('cancelled', 'declined', 'not_selected')"))

    op.create_table('answer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['question_id'], ['question.id'], name=op.f('fk_answer_question_id_question'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['registration_id'], ['registration.id'], name=op.f('fk_answer_registration_id_registration'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_answer')),
    sa.UniqueConstraint('registration_id', 'question_id', name=op.f('uq_answer_registration_id'))
    )
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_answer_registration_id'), ['registration_id'], unique=False)



def downgrade():
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_answer_registration_id'))

    op.drop_table('answer')
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.drop_index('uq_registration_active_phone', sqlite_where=sa.text("status NOT IN ('cancelled', 'declined', 'not_selected')"), postgresql_where=sa.text("status NOT IN ('cancelled', 'declined', 'not_selected')"))
        batch_op.drop_index(batch_op.f('ix_registration_status'))
        batch_op.drop_index(batch_op.f('ix_registration_session_id'))
        batch_op.drop_index(batch_op.f('ix_registration_phone'))
        batch_op.drop_index(batch_op.f('ix_registration_event_id'))

    op.drop_table('registration')
    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_question_event_id'))

    op.drop_table('question')

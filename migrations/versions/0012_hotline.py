"""代报名: a citizen registered by phone by bureau staff gets a short door code

- registration.short_code (6 digits and a check letter), unique within its event

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 04:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.add_column(sa.Column('short_code', sa.String(length=8), nullable=True))
        batch_op.create_unique_constraint('uq_registration_event_short_code',
                                          ['event_id', 'short_code'])


def downgrade():
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.drop_constraint('uq_registration_event_short_code', type_='unique')
        batch_op.drop_column('short_code')

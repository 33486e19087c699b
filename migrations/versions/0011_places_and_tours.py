"""places that guide: a session's own address and map location, a station's address and hours

- event_session.address, event_session.location ("lat,lng")
- checkpoint.address, checkpoint.hours

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 03:50:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('event_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address', sa.String(length=255), server_default='',
                                      nullable=False))
        batch_op.add_column(sa.Column('location', sa.String(length=40), server_default='',
                                      nullable=False))
    with op.batch_alter_table('checkpoint', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address', sa.String(length=255), server_default='',
                                      nullable=False))
        batch_op.add_column(sa.Column('hours', sa.String(length=60), server_default='',
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('checkpoint', schema=None) as batch_op:
        batch_op.drop_column('hours')
        batch_op.drop_column('address')
    with op.batch_alter_table('event_session', schema=None) as batch_op:
        batch_op.drop_column('location')
        batch_op.drop_column('address')

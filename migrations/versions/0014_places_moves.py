"""event_session.places_moves: counts every move of places_taken and only goes up

The page cache keeps a page while its sessions' fingerprints hold; with places_taken alone, a
session full, then one place given back and taken again, looked unchanged to a page rendered in
between (it showed a place left for up to a minute).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 10:45:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('event_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('places_moves', sa.Integer(), server_default='0',
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('event_session', schema=None) as batch_op:
        batch_op.drop_column('places_moves')

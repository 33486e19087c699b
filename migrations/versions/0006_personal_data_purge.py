"""personal data purge: Event.personal_data_purged_at

When `flask purge` anonymised an event's registrants and walk-ins (services/purge.py): the purge
skips such events, and the organiser's event page can say so.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 01:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('personal_data_purged_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_column('personal_data_purged_at')

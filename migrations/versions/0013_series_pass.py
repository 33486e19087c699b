"""系列通票: one registration for several sessions of a lecture series

- event.series_pass: the organiser offers a series pass (first come, first served)
- registration.pass_id: a member registration (one per further session) points to the pass's own

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 04:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('series_pass', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pass_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_registration_pass_id'), ['pass_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_registration_pass_id_registration'),
                                    'registration', ['pass_id'], ['id'], ondelete='CASCADE')


def downgrade():
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_registration_pass_id_registration'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_registration_pass_id'))
        batch_op.drop_column('pass_id')
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_column('series_pass')

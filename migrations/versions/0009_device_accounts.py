"""device accounts: a paired door device signs in as a door staff account of its own

- door_device.user_id: the device's account (assigned to its one event); its sign-in cookie or
  API token is the staff's, so one rule decides who may scan, and revoking is switching it off.
- door_device.token_hash and last_scan_at, admission.device_id: dropped (the token is the
  account's ApiToken; a device's scans are the admissions by its account).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 07:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('admission', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_admission_device_id_door_device'), type_='foreignkey')
        batch_op.drop_column('device_id')

    with op.batch_alter_table('door_device', schema=None) as batch_op:
        batch_op.add_column(sa.Column('user_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_door_device_user_id_user'), 'user', ['user_id'], ['id'], ondelete='SET NULL')
        batch_op.create_unique_constraint(batch_op.f('uq_door_device_user_id'), ['user_id'])
        batch_op.drop_constraint(batch_op.f('uq_door_device_token_hash'), type_='unique')
        batch_op.drop_column('token_hash')
        batch_op.drop_column('last_scan_at')


def downgrade():
    with op.batch_alter_table('door_device', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_scan_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('token_hash', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_door_device_token_hash'), ['token_hash'])
        batch_op.drop_constraint(batch_op.f('uq_door_device_user_id'), type_='unique')
        batch_op.drop_constraint(batch_op.f('fk_door_device_user_id_user'), type_='foreignkey')
        batch_op.drop_column('user_id')

    with op.batch_alter_table('admission', schema=None) as batch_op:
        batch_op.add_column(sa.Column('device_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_admission_device_id_door_device'), 'door_device', ['device_id'], ['id'], ondelete='SET NULL')

"""abuse-proofing: phone verification per event, the door's admission window, sign-ins kept on
the server, one-time codes for registering, mobile numbers stored in ASCII digits

- Event.verify_phone (default true): a place is final only for a phone proven with a code.
- Event.admission_opens_minutes (default 60, 0–1440): how early the door admits a session.
- sign_in: a browser's sign-in (a user) or phone proof (a citizen), ended on the server.
- one_time_code.purpose may be "register" as well as "find_tickets".
- Mobile numbers typed in other scripts' digits (Arabic-Indic ١٣٨…, full-width…) before they
  were normalised are rewritten in ASCII where that makes no second active registration.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 13:00:00.000000

"""
import unicodedata

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

PURPOSE_CHECK = 'ck_one_time_code_one_time_code_purpose'


def _purpose(*values):
    return sa.Enum(*values, name='one_time_code_purpose', native_enum=False,
                   create_constraint=True, length=20)


def upgrade():
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('verify_phone', sa.Boolean(), server_default=sa.true(),
                                      nullable=False))
        batch_op.add_column(sa.Column('admission_opens_minutes', sa.Integer(),
                                      server_default='60', nullable=False))
        batch_op.create_check_constraint(
            'admission_window', 'admission_opens_minutes >= 0 AND admission_opens_minutes <= 1440')

    op.create_table('sign_in',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('phone', sa.String(length=11), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('(user_id IS NULL) <> (phone IS NULL)', name=op.f('ck_sign_in_user_or_phone')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_sign_in_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_sign_in_token_hash'))
    )
    with op.batch_alter_table('sign_in', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_user_id'), ['user_id'], unique=False)

    _purposes(('find_tickets',), ('find_tickets', 'register'))
    _ascii_phones()


def downgrade():
    op.execute("DELETE FROM one_time_code WHERE purpose = 'register'")
    _purposes(('find_tickets', 'register'), ('find_tickets',))
    with op.batch_alter_table('sign_in', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_in_user_id'))
    op.drop_table('sign_in')
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_constraint('admission_window', type_='check')
        batch_op.drop_column('admission_opens_minutes')
        batch_op.drop_column('verify_phone')


def _purposes(old, new):
    """The CHECK of one_time_code.purpose, from the `old` values to the `new`."""
    if op.get_bind().dialect.name == 'sqlite':  # the table is copied with the new CHECK
        with op.batch_alter_table('one_time_code', schema=None, recreate='always') as batch_op:
            batch_op.alter_column('purpose', existing_type=_purpose(*old), type_=_purpose(*new),
                                  existing_nullable=False)
        return
    quoted = ', '.join(f"'{v}'" for v in new)
    op.execute(f'ALTER TABLE one_time_code DROP CONSTRAINT IF EXISTS {PURPOSE_CHECK}')
    op.execute(f'ALTER TABLE one_time_code ADD CONSTRAINT {PURPOSE_CHECK} '
               f'CHECK (purpose IN ({quoted}))')


def _ascii(phone):
    """Every decimal digit of any script as its ASCII digit; None when that changes nothing."""
    text = unicodedata.normalize('NFKC', phone)
    digits = ''.join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in text)
    return digits if digits != phone and digits.isascii() else None


def _ascii_phones():
    bind = op.get_bind()
    for table in ('registration', 'admission', 'one_time_code'):
        rows = bind.execute(sa.text(f'SELECT id, phone FROM {table} WHERE phone IS NOT NULL'))
        for row_id, phone in list(rows):
            fixed = _ascii(phone)
            if fixed is None or (table == 'registration' and _taken(bind, row_id, fixed)):
                continue
            bind.execute(sa.text(f'UPDATE {table} SET phone = :phone WHERE id = :id'),
                         {'phone': fixed, 'id': row_id})


def _taken(bind, registration_id, phone):
    """The number in ASCII already has an active registration for the same session: the row is
    left as it was rather than break the one-active-registration-per-phone index."""
    return bind.execute(sa.text(
        "SELECT 1 FROM registration AS other JOIN registration AS this ON "
        "this.session_id = other.session_id WHERE this.id = :id AND other.phone = :phone "
        "AND other.id <> this.id AND other.status NOT IN ('cancelled', 'declined', 'not_selected') "
        "AND this.status NOT IN ('cancelled', 'declined', 'not_selected')"),
        {'id': registration_id, 'phone': phone}).first() is not None

"""Users, passwords (argon2id, memory-hard) and API bearer tokens."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _

from ..extensions import db
from ..models import ApiToken, District, Organisation, OrgKind, Role, User
from ..timeutil import utcnow
from .errors import NotFound, ValidationFailed

MIN_PASSWORD_LENGTH = 10


def _hasher() -> PasswordHasher:
    cfg = current_app.config
    return PasswordHasher(
        time_cost=cfg["PASSWORD_TIME_COST"], memory_cost=cfg["PASSWORD_MEMORY_COST"]
    )


def hash_password(password: str) -> str:
    return _hasher().hash(password)


# Verifying against this keeps the time of an unknown e-mail close to that of a wrong password.
_DUMMY_HASH: dict[tuple[int, int], str] = {}


def authenticate(email: str, password: str) -> User | None:
    user = db.session.scalar(db.select(User).filter_by(email=normalise_email(email)))
    hasher = _hasher()
    if user is None or not user.active:
        key = (hasher.time_cost, hasher.memory_cost)
        if key not in _DUMMY_HASH:
            _DUMMY_HASH[key] = hasher.hash(secrets.token_hex(8))
        _verify(hasher, _DUMMY_HASH[key], password)
        return None
    if not _verify(hasher, user.password_hash, password):
        return None
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
        db.session.commit()
    return user


def _verify(hasher: PasswordHasher, hashed: str, password: str) -> bool:
    try:
        return hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_or_create_organisation(name: str, district_name: str | None) -> Organisation:
    org = db.session.scalar(db.select(Organisation).filter_by(name=name.strip()))
    if org is not None:
        return org
    if not district_name:
        raise ValidationFailed({"district": _("A new organisation needs its district.")})
    district = db.session.scalar(db.select(District).filter_by(name=district_name.strip()))
    if district is None:
        raise ValidationFailed({"district": _("Unknown district: %(name)s", name=district_name)})
    kind = OrgKind.BUREAU if name.endswith("局") else OrgKind.ENTERPRISE
    org = Organisation(name=name.strip(), district=district, kind=kind)
    db.session.add(org)
    return org


def create_user(
    email: str,
    password: str,
    role: str,
    org_name: str | None = None,
    district_name: str | None = None,
) -> User:
    """Create a user; the organisation is created when new. Raises ValidationFailed."""
    errors: dict[str, str] = {}
    email = normalise_email(email)
    if "@" not in email or len(email) > 254 or email.startswith("@") or email.endswith("@"):
        errors["email"] = _("Enter a valid e-mail address.")
    elif db.session.scalar(db.select(User.id).filter_by(email=email)):
        errors["email"] = _("A user with this e-mail already exists.")
    if role not in {r.value for r in Role}:
        errors["role"] = _("Role must be admin, organiser or staff.")
    elif role != Role.ADMIN and not org_name:
        errors["org"] = _("Organisers and staff belong to an organisation.")
    if len(password or "") < MIN_PASSWORD_LENGTH:
        errors["password"] = _(
            "The password needs at least %(n)d characters.", n=MIN_PASSWORD_LENGTH
        )
    if errors:
        raise ValidationFailed(errors)
    org = find_or_create_organisation(org_name, district_name) if org_name else None
    user = User(email=email, password_hash=hash_password(password), role=Role(role), organisation=org)
    db.session.add(user)
    db.session.commit()
    return user


def set_password(user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    db.session.commit()


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User) -> tuple[str, ApiToken]:
    """A new bearer token; the plain value is returned once and never stored."""
    token = "qm_" + secrets.token_urlsafe(32)
    row = ApiToken(
        user=user,
        token_hash=_token_digest(token),
        expires_at=utcnow() + timedelta(days=current_app.config["API_TOKEN_DAYS"]),
    )
    db.session.add(row)
    db.session.commit()
    return token, row


def user_for_token(token: str) -> User | None:
    if not token or len(token) > 200:
        return None
    row = db.session.scalar(db.select(ApiToken).filter_by(token_hash=_token_digest(token)))
    now = utcnow()
    if row is None or row.revoked_at is not None or row.expires_at <= now or not row.user.active:
        return None
    return row.user


def revoke_token(token: str) -> None:
    row = db.session.scalar(db.select(ApiToken).filter_by(token_hash=_token_digest(token)))
    if row is None or row.revoked_at is not None:
        raise NotFound(_("Unknown token."))
    row.revoked_at = utcnow()
    db.session.commit()

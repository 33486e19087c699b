"""Users, passwords (argon2id, memory-hard; what makes one acceptable) and API bearer tokens."""
from __future__ import annotations

import hashlib
import re
import secrets
import string
from datetime import timedelta
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _

from ..extensions import db
from ..models import ApiToken, District, Organisation, OrgKind, Role, SignInLink, User
from ..timeutil import utcnow
from . import signins
from .errors import NotFound, ValidationFailed

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 200  # what the sign-in form accepts


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


def valid_email(email: str) -> bool:
    """A normalised address that can be one: something@somewhere, at most 254 characters."""
    local, at, domain = email.partition("@")
    return bool(at and local and domain) and len(email) <= 254 and " " not in email


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_or_create_organisation(name: str, district_name: str | None,
                                kind: str | None = None) -> Organisation:
    """The organisation called `name`, created in its district when new. A new one is a district
    bureau (it oversees its district's events, services.access.oversees_district) when `kind`
    says so, or, without a kind, when its name is a bureau's (…局); else a host enterprise."""
    org = db.session.scalar(db.select(Organisation).filter_by(name=name.strip()))
    if org is not None:
        return org
    if not district_name:
        raise ValidationFailed({"district": _("A new organisation needs its district.")})
    district = db.session.scalar(db.select(District).filter_by(name=district_name.strip()))
    if district is None:
        raise ValidationFailed({"district": _("Unknown district: %(name)s", name=district_name)})
    if kind is not None and kind not in {k.value for k in OrgKind}:
        raise ValidationFailed({"org_kind": _("An organisation is a bureau or an enterprise.")})
    kind = OrgKind(kind) if kind else (
        OrgKind.BUREAU if name.strip().endswith("局") else OrgKind.ENTERPRISE)
    org = Organisation(name=name.strip(), district=district, kind=kind)
    db.session.add(org)
    return org


def create_user(
    email: str,
    password: str,
    role: str,
    org_name: str | None = None,
    district_name: str | None = None,
    org_kind: str | None = None,
) -> User:
    """Create a user; the organisation is created when new. Raises ValidationFailed."""
    errors: dict[str, str] = {}
    email = normalise_email(email)
    if not valid_email(email):
        errors["email"] = _("Enter a valid e-mail address.")
    elif db.session.scalar(db.select(User.id).filter_by(email=email)):
        errors["email"] = _("A user with this e-mail already exists.")
    if role not in {r.value for r in Role}:
        errors["role"] = _("Role must be admin, organiser or staff.")
    elif role != Role.ADMIN and not org_name:
        errors["org"] = _("Organisers and staff belong to an organisation.")
    problem = password_problem(password, email)
    if problem:
        errors["password"] = problem
    if errors:
        raise ValidationFailed(errors)
    org = find_or_create_organisation(org_name, district_name, org_kind) if org_name else None
    user = User(email=email, password_hash=hash_password(password), role=Role(role), organisation=org)
    db.session.add(user)
    db.session.commit()
    return user


# --- what a password must be -----------------------------------------------------------------

COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")
_SEPARATORS = re.compile(r"[\s\-_.]+")
_EDGES = string.digits + string.punctuation + "！￥…（）—【】、；：‘’“”，。《》？"
# Keys next to each other, along the rows and down the columns of a keyboard.
_KEYBOARD_WALKS = ("`1234567890-=", "qwertyuiop[]\\", "asdfghjkl;'", "zxcvbnm,./",
                   "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/-['=]", "qazwsxedcrfvtgbyhnujmikolp")


def _normalised(text: str) -> str:
    return _SEPARATORS.sub("", text.casefold())


@cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(_normalised(line) for line in lines if line.strip()
                     and not line.startswith("#"))


def _sequence(text: str) -> bool:
    """abcdef, 987654, 7890123: each character one step from the last, the same way."""
    def step(a: str, b: str) -> int:
        if a.isdigit() and b.isdigit():
            return (int(b) - int(a)) % 10
        return ord(b) - ord(a)

    steps = {step(a, b) for a, b in zip(text, text[1:], strict=False)}
    return steps in ({1}, {-1}, {9})  # 9: a digit one down, 0 after 1


def _guessable(text: str) -> bool:
    """Common, one or two characters over and over, a sequence, a keyboard walk, or a short or
    guessable piece repeated."""
    if not text or text in common_passwords() or len(set(text)) <= 2 or _sequence(text):
        return True
    if len(text) >= 4 and any(text in walk or text in walk[::-1] for walk in _KEYBOARD_WALKS):
        return True
    for size in range(1, len(text) // 2 + 1):
        if len(text) % size == 0 and text[:size] * (len(text) // size) == text:
            return size <= 4 or _guessable(text[:size])
    return False


def _guessable_with_decoration(plain: str) -> bool:
    """Guessable as a whole, or a common word with digits or symbols before or after it
    (password2024!, 5201314woaini), or a guessable core in guessable decoration (abc123456789)."""
    if _guessable(plain):
        return True
    start = len(plain) - len(plain.lstrip(_EDGES))
    end = len(plain.rstrip(_EDGES))
    if start >= end or (start, end) == (0, len(plain)):
        return False  # digits and symbols only, or nothing around the letters
    core, around = plain[start:end], (plain[:start], plain[end:])
    return core in common_passwords() or (
        _guessable(core) and all(not part or _guessable(part) for part in around))


def password_problem(password: object, email: str | None = None) -> str | None:
    """Why this password will not do, in the reader's language; None when it will. The one rule
    for every way a password is set (create-user, set-password, the change-password page):
    12 to 200 characters; not a common password, not one with digits or symbols stuck before or
    after a common one (password2024!), not one character repeated, a sequence or a keyboard walk;
    not the name of the e-mail address (zhangwei in zhangwei@example.cn). Case and spaces, dashes,
    underscores and dots do not count when comparing."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        return _("The password needs at least %(n)d characters.", n=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        return _("The password can have at most %(n)d characters.", n=MAX_PASSWORD_LENGTH)
    plain = _normalised(password)
    if _guessable_with_decoration(plain):
        return _("This password is too common or too easy to guess. Choose another: a few "
                 "words that do not belong together are easy to remember and hard to guess.")
    name = _normalised(normalise_email(email or "").partition("@")[0])
    if len(name) >= 3 and name in plain:
        return _("The password must not contain the name of your e-mail address.")
    return None


# --- changing passwords, switching accounts on and off -----------------------------------------


def user_by_email(email: str) -> User:
    user = db.session.scalar(db.select(User).filter_by(email=normalise_email(email)))
    if user is None:
        raise NotFound(_("No user has this e-mail address."))
    return user


def _new_password_hash(user: User, password: str) -> str:
    problem = password_problem(password, user.email)
    if problem:
        raise ValidationFailed({"password": problem})
    return hash_password(password)


def set_password(user: User, password: str) -> None:
    """An operator sets the password (flask set-password): every sign-in of the user ends, and
    every API token they hold is revoked."""
    user.password_hash = _new_password_hash(user, password)
    end_everything(user.id)
    db.session.commit()


def has_password(user: User) -> bool:
    """False for an account invited by a one-time link that has not chosen a password yet (and
    for a door device's account, which never signs in by password)."""
    return user.password_hash.startswith("$argon2")


def change_password(user: User, current: str, new: str) -> str:
    """The user changes their own password, proving the current one first. Every sign-in of the
    user ends, on every device, and every API token is revoked: whoever knew the old password
    may have taken one (door devices ask for a new token); the token of a fresh sign-in for this
    browser is returned."""
    if has_password(user) and not _verify(_hasher(), user.password_hash, current or ""):
        raise ValidationFailed({"current_password": _("The current password is not right.")})
    if (new or "") == (current or ""):
        raise ValidationFailed({"password": _("The new password must differ from the current "
                                              "one.")})
    user.password_hash = _new_password_hash(user, new)
    end_everything(user.id)
    token = signins.start_for_user(user, commit=False)
    db.session.commit()
    return token


def set_active(email: str, active: bool) -> User:
    """Switch an account on or off. Switching it off ends every sign-in of the user at once and
    revokes their API tokens, so switching it on again brings back none of what was open."""
    user = user_by_email(email)
    user.active = active
    if not active:
        end_everything(user.id)
    db.session.commit()
    return user


def end_everything(user_id: int) -> None:
    """Every sign-in of the user ends, every API token of theirs is revoked and every unused
    sign-in link expires, in the caller's transaction."""
    signins.end_all_for_user(user_id, commit=False)
    db.session.execute(db.update(ApiToken)
                       .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
                       .values(revoked_at=utcnow()))
    expire_sign_in_links(user_id)


def expire_sign_in_links(user_id: int) -> None:
    """Every unused one-time sign-in link of the account stops working (a newer link, a new
    password, the account switched off), in the caller's transaction."""
    now = utcnow()
    db.session.execute(db.update(SignInLink).where(
        SignInLink.user_id == user_id, SignInLink.used_at.is_(None),
        SignInLink.expires_at > now).values(expires_at=now))


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

"""Getting people in without a password typed at a factory gate: one-time sign-in links.

An organiser invites a door volunteer to an event, or a colleague to the organisation. The new
account gets no password anyone knows; the invitation is a sign-in link (shown as a QR on the
organiser's screen, and sent by e-mail, and by SMS when a mobile number is given) that expires
after SIGN_IN_LINK_HOURS and works once: it is claimed by a conditional UPDATE (… SET used_at
WHERE used_at IS NULL), so two phones opening it at once sign in one. Only its SHA-256 is stored.
An existing account can be sent a fresh link the same way (a volunteer's new phone).

Organisation members: organisers invite colleagues and remove them; the last active organiser of
an organisation cannot be removed (checked under a lock on the organisation's row, so two
organisers removing each other at once cannot both succeed).
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from .. import links
from ..extensions import db
from ..ids import is_row_id
from ..models import (
    Event,
    Notification,
    NotificationChannel,
    NotificationKind,
    Organisation,
    Role,
    SignInLink,
    User,
)
from ..timeutil import utcnow
from . import access, audit, staffing
from .accounts import (
    end_everything,
    expire_sign_in_links,
    has_password,
    normalise_email,
    valid_email,
)
from .errors import Forbidden, NotFound, ValidationFailed
from .identity import normalise_mobile
from .locking import lock_row
from .messaging import outbox, templates

UNUSABLE_PASSWORD = "!"  # no argon2 hash: no password signs this account in

STAFF_INVITATION = templates.sms_template(
    "staff_invitation", NotificationKind.STAFF_INVITATION, "工作人员邀请",
    "{inviter}邀请您{role}。请在{expires}前用手机打开此一次性登录链接（仅限本人使用，请勿转发）：{link}",
    "主办方邀请门口工作人员或同事时，发给被邀请人（电子邮件，填写手机号时另发短信）。",
)


@dataclass(frozen=True)
class Invitation:
    user: User
    url: str  # the one-time sign-in link, sent; shown as a QR and a link when `shown`
    expires_at: object
    # Shown on the inviter's screen only for an account with no password yet (new, or never
    # signed in): a link to an account somebody already uses goes to its own e-mail only, or
    # its organiser could sign in as that volunteer.
    shown: bool = True


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_link(user: User, actor: User | None, event: Event | None = None) -> Invitation:
    """A new one-time sign-in link for `user`, in the caller's transaction."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    expires = now + timedelta(hours=float(current_app.config["SIGN_IN_LINK_HOURS"]))
    expire_sign_in_links(user.id)  # only the newest link of an account works
    db.session.add(SignInLink(token_hash=_digest(token), user_id=user.id,
                              created_by_id=actor.id if actor else None,
                              event_id=event.id if event else None, expires_at=expires))
    return Invitation(user=user, url=links.external_url("auth.sign_in_link", token=token),
                      expires_at=expires, shown=not has_password(user))


def _check_budget(actor: User, phone: str | None) -> None:
    """Invitations are texts and e-mails from the official sender to an address the inviter
    types: at most INVITATIONS_PER_DAY links per organisation, and INVITATION_TEXTS_PER_PHONE
    texts to one number, in 24 hours."""
    since = utcnow() - timedelta(hours=24)
    made = db.session.scalar(
        select(func.count(SignInLink.id)).join(User, User.id == SignInLink.created_by_id)
        .where(User.organisation_id == actor.organisation_id, SignInLink.created_at > since))
    if made >= int(current_app.config["INVITATIONS_PER_DAY"]):
        raise ValidationFailed({"email": _(
            "Your organisation has sent %(n)d invitations in the last 24 hours: no more until "
            "tomorrow.", n=int(current_app.config["INVITATIONS_PER_DAY"]))})
    if phone and db.session.scalar(select(func.count(Notification.id)).where(
            Notification.kind == NotificationKind.STAFF_INVITATION,
            Notification.recipient == phone, Notification.created_at > since)) >= int(
            current_app.config["INVITATION_TEXTS_PER_PHONE"]):
        raise ValidationFailed({"phone": _(
            "This number has had enough invitations today: send the link by e-mail, or show "
            "the QR.")})


def _usable(token: object) -> bool:
    return isinstance(token, str) and 0 < len(token) <= 100


def peek(token: object) -> SignInLink | None:
    """The link, while it can still be used (unused, not expired, its account active)."""
    if not _usable(token):
        return None
    link = db.session.scalar(select(SignInLink).filter_by(token_hash=_digest(token)))
    if link is None or link.used_at is not None or link.expires_at <= utcnow():
        return None
    return link if link.user.active else None


def consume(token: object) -> SignInLink | None:
    """Use the link: once, whoever else tries at the same moment. The caller starts the sign-in
    and commits."""
    link = peek(token)
    if link is None:
        return None
    claimed = db.session.execute(
        update(SignInLink).where(SignInLink.id == link.id, SignInLink.used_at.is_(None))
        .values(used_at=utcnow())).rowcount
    if claimed != 1:
        db.session.rollback()
        return None
    audit.record("sign_in_link_used", actor_id=link.user_id, event_id=link.event_id)
    return link


def _send(invitation: Invitation, inviter: str, role: str, phone: str | None) -> None:
    """E-mail the link, and text it when a mobile number was given; after the commit."""
    params = dict(inviter=inviter, role=role, link=invitation.url,
                  expires=templates.local_time(invitation.expires_at))
    sms = templates.draft(STAFF_INVITATION, phone or "", **params)
    outbox.queue_and_deliver(NotificationChannel.EMAIL, invitation.user.email,
                             NotificationKind.STAFF_INVITATION, sms.subject,
                             STAFF_INVITATION.fill(**params))
    if phone and invitation.shown:  # an account in use gets its link at its own address only
        outbox.queue_and_deliver(*sms.fields(), **sms.provider_fields())


def _phone(raw: str | None) -> str | None:
    if not raw or not raw.strip():
        return None
    phone = normalise_mobile(raw)
    if phone is None:
        raise ValidationFailed({"phone": _("Enter a mainland mobile number (11 digits), or "
                                           "leave it empty.")})
    return phone


def _new_account(email: str, role: Role, organisation_id: int | None) -> User:
    user = User(email=email, password_hash=UNUSABLE_PASSWORD, role=role,
                organisation_id=organisation_id)
    db.session.add(user)
    db.session.flush()
    return user


def _checked_email(raw: str) -> str:
    email = normalise_email(raw or "")
    if not valid_email(email):
        raise ValidationFailed({"email": _("Enter a valid e-mail address.")})
    return email


# --- door staff -------------------------------------------------------------------------------


def invite_staff(event: Event, email: str, actor: User, phone: str | None = None) -> Invitation:
    """Add `email` to the event's door staff with a one-time sign-in link: a new door staff
    account of the event's organisation when there is none, or a fresh link for an existing
    staff account of that organisation (only: the link signs in as the account, and another
    organisation's volunteer may work its events too). Sent by e-mail (and SMS with `phone`);
    the caller shows it as a QR too."""
    email, mobile = _checked_email(email), _phone(phone)
    _check_budget(actor, mobile)
    user = db.session.scalar(select(User).filter_by(email=email))
    if user is None:
        user = _new_account(email, Role.STAFF, event.organisation_id)
        audit.record("staff_invited", actor_id=actor.id, event_id=event.id, staff=email)
    elif user.organisation_id != event.organisation_id:
        # A link signs in as the account, wherever else it works: never for somebody else's.
        raise ValidationFailed({"email": _(
            "This account belongs to another organisation: add it without a sign-in link; "
            "its holder signs in as usual.")})
    staffing.assign(event.id, email, actor, commit=False)
    invitation = issue_link(user, actor, event)
    db.session.commit()
    _send(invitation, event.organisation.name, _door_role(event), mobile)
    return invitation


def add_staff(event: Event, email: str, actor: User, phone: str | None = None, *,
              send_link: bool = False) -> Invitation | None:
    """The event page's one form: an existing account joins the door staff at once (None: no
    link to show); an address without an account, or `send_link`, gets a one-time link."""
    known = db.session.scalar(select(User.id).filter_by(email=normalise_email(email)))
    if known is not None and not send_link:
        staffing.assign(event.id, email, actor)
        return None
    return invite_staff(event, email, actor, phone)


def new_staff_link(event: Event, user_id: int, actor: User) -> Invitation:
    """A fresh link for one of the event's door staff (a new phone)."""
    member = next((u for u in staffing.staff_of(event.id) if u.id == user_id), None)
    if member is None:
        raise NotFound(_("No such door staff member."))
    return invite_staff(event, member.email, actor)


def _door_role(event: Event) -> str:
    """Not the event's title: an invitation goes to a number the inviter typed, so it carries
    no words of theirs (the link opens the event's own scanner, which names it)."""
    return "担任活动门口工作人员"


# --- organisation members ---------------------------------------------------------------------


def members(organisation_id: int) -> list[User]:
    """The organisation's active organisers, by e-mail address."""
    return list(db.session.scalars(
        select(User).where(User.organisation_id == organisation_id, User.role == Role.ORGANISER,
                           User.active.is_(True)).order_by(User.email)))


def invite_member(actor: User, email: str, phone: str | None = None) -> Invitation:
    """A colleague joins the actor's organisation as an organiser, by a one-time sign-in link
    (they set a password once signed in). An address that already has an account elsewhere is
    refused: an invitation never moves anybody between organisations."""
    if not access.may_manage_members(actor):
        raise Forbidden(_("Only an organisation's organisers invite its members."))
    email, mobile = _checked_email(email), _phone(phone)
    _check_budget(actor, mobile)
    if db.session.scalar(select(User.id).filter_by(email=email)) is not None:
        raise ValidationFailed({"email": _("A user with this e-mail already exists.")})
    user = _new_account(email, Role.ORGANISER, actor.organisation_id)
    audit.record("member_invited", actor_id=actor.id, member=email)
    invitation = issue_link(user, actor)
    db.session.commit()
    _send(invitation, actor.organisation.name, "加入本单位担任活动组织者", mobile)
    return invitation


def remove_member(actor: User, user_id: int) -> User:
    """Switch a colleague's account off (every sign-in and token ends at once). Never the last
    active organiser of the organisation."""
    if not access.may_manage_members(actor):
        raise Forbidden(_("Only an organisation's organisers remove its members."))
    member = db.session.get(User, user_id) if is_row_id(user_id) else None
    if (member is None or member.organisation_id != actor.organisation_id
            or member.role != Role.ORGANISER or not member.active):
        raise NotFound(_("No such member of your organisation."))
    # One removal at a time per organisation: the count below then sees the other's outcome.
    lock_row(Organisation, actor.organisation_id)
    others = db.session.scalar(select(func.count(User.id)).where(
        User.organisation_id == actor.organisation_id, User.role == Role.ORGANISER,
        User.active.is_(True), User.id != member.id))
    if not others:
        db.session.rollback()
        raise ValidationFailed({"member": _(
            "The last organiser of an organisation cannot be removed: invite a colleague first.")})
    member.active = False
    end_everything(member.id)
    audit.record("member_removed", actor_id=actor.id, member=member.email)
    db.session.commit()
    return member

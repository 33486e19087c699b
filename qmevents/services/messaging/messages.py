"""What we tell citizens, in Chinese (their language): the text of every message about a
registration, and the one-time code, and `tell`: sending one about a committed registration.
outbox.py stores, sends and retries them; a message that cannot be composed is logged and skipped,
never turned into an error for the citizen.
"""
from __future__ import annotations

import logging
from datetime import datetime

from flask import current_app

from ... import links
from ...extensions import db
from ...models import (
    Notification,
    NotificationChannel,
    NotificationKind,
    Registration,
    RegistrationStatus,
)
from ...timeutil import to_local
from ..identity import normalise_name
from . import outbox

log = logging.getLogger(__name__)

MAX_TITLE = 40  # characters of an event title in an SMS


def registration_confirmed(registration: Registration, ticket_url: str) -> Notification | None:
    """The message after registering: the ticket link, or where the application stands."""
    draft = draft_registration_confirmed(registration, ticket_url)
    return outbox.queue_and_deliver(*draft.fields(), registration.id) if draft else None


def draft_registration_confirmed(registration: Registration,
                                 ticket_url: str) -> outbox.Draft | None:
    """The text of `registration_confirmed`, composed before the registration's transaction so
    that nothing but writes happens while places are held (see services.registrations.register)."""
    def compose(r: Registration, when: str, title: str) -> tuple[str, str]:
        if r.status == RegistrationStatus.WAITLISTED:
            return ("候补登记", f"{addressee(r)}，「{title}」{when}已满，您已进入候补名单（{r.party_size}人），"
                                f"有空位时将通知您。查看：{ticket_url}")
        if r.status == RegistrationStatus.APPLIED:
            return ("报名申请已提交", f"{addressee(r)}，您已申请报名「{title}」{when}，{r.party_size}人，"
                                     f"结果将另行通知。查看：{ticket_url}")
        return ("报名成功", f"{addressee(r)}，您已报名「{title}」{when}，{r.party_size}人。"
                           f"电子票：{ticket_url} 如需取消请打开链接。")

    return _draft_about(registration, NotificationKind.REGISTRATION_CONFIRMED, compose)


def registration_cancelled(registration: Registration, ticket_url: str) -> Notification | None:
    def compose(r: Registration, when: str, title: str) -> tuple[str, str]:
        return ("报名已取消", f"{addressee(r)}，您报名的「{title}」{when}已取消，名额已释放。"
                             f"详情：{ticket_url}")

    return _about_registration(registration, NotificationKind.REGISTRATION_CANCELLED, compose)


def cancelled_by_organiser(registration: Registration,
                           ticket_url: str) -> Notification | None:
    """The organiser cancelled the registration (services.registrations.cancellation)."""
    def compose(r: Registration, when: str, title: str) -> tuple[str, str]:
        return ("报名已被主办方取消", f"{addressee(r)}，您报名的「{title}」{when}已被主办方取消。"
                                   f"如有疑问请联系主办方。详情：{ticket_url}")

    return _about_registration(registration, NotificationKind.REGISTRATION_CANCELLED, compose)


def _local_time(moment: datetime) -> str:
    local = to_local(moment)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def promoted(registration: Registration, ticket_url: str) -> Notification | None:
    """A place came free for a party on the waiting list: theirs now, or theirs to confirm by a
    deadline."""
    draft = draft_promoted(registration, ticket_url)
    return outbox.queue_and_deliver(*draft.fields(), registration.id) if draft else None


def draft_promoted(registration: Registration, ticket_url: str) -> outbox.Draft | None:
    """The text of `promoted`, for services.registrations.waitlist to store with the promotion
    itself."""
    def compose(r: Registration, when: str, title: str) -> tuple[str, str]:
        if r.status == RegistrationStatus.OFFERED and r.offer_expires_at:
            return ("候补空位待确认", f"{addressee(r)}，「{title}」{when}有空位了，已为您保留{r.party_size}个名额，"
                                     f"请在{_local_time(r.offer_expires_at)}前打开链接确认，逾期名额将"
                                     f"顺延给下一位：{ticket_url}")
        return ("候补成功", f"{addressee(r)}，「{title}」{when}有空位了，您已从候补名单转为报名成功，"
                           f"{r.party_size}人。电子票：{ticket_url} 如需取消请打开链接。")

    return _draft_about(registration, NotificationKind.WAITLIST_PROMOTED, compose)


def draft_offer_expired(registration: Registration, ticket_url: str) -> outbox.Draft | None:
    """An offered place not confirmed in time: it has gone to the next party in line."""
    def compose(r: Registration, when: str, title: str) -> tuple[str, str]:
        return ("候补名额已过期", f"{addressee(r)}，您在「{title}」{when}的候补名额未在截止时间前确认，"
                                 f"已顺延给下一位候补。详情：{ticket_url}")

    return _draft_about(registration, NotificationKind.OFFER_EXPIRED, compose)


def _organiser_note(message: str | None) -> str:
    return f"主办方留言：{message} " if message else ""


def admitted(registration: Registration, ticket_url: str,
             message: str | None = None) -> Notification | None:
    """An application admitted by the organiser: the ticket, and their note if they wrote one."""
    def compose(r: Registration, when: str, title: str) -> tuple[str, str]:
        return ("报名申请已通过", f"{addressee(r)}，您申请的「{title}」{when}已通过审核，{r.party_size}人。"
                                 f"{_organiser_note(message)}电子票：{ticket_url} 如需取消请打开链接。")

    return _about_registration(registration, NotificationKind.APPLICATION_ADMITTED, compose)


def declined(registration: Registration, message: str | None = None) -> Notification | None:
    """An application the organiser could not accept, said kindly; no link: nothing to show."""
    def compose(r: Registration, when: str, title: str) -> tuple[str, str]:
        return ("报名申请结果", f"{addressee(r)}，感谢您关注「{title}」。很遗憾，您{when}场次的报名申请"
                               f"本次未能通过。{_organiser_note(message)}欢迎报名参加质量月的其他活动。")

    return _about_registration(registration, NotificationKind.APPLICATION_DECLINED, compose)


def invited(registration: Registration, ticket_url: str) -> Notification | None:
    """A ticket the organiser gave directly: places are kept, nothing to apply for."""
    def compose(r: Registration, when: str, title: str) -> tuple[str, str]:
        return ("活动邀请", f"{addressee(r)}，诚邀您参加「{title}」{when}，已为您保留{r.party_size}个名额。"
                           f"电子票：{ticket_url} 如不能出席请打开链接取消。")

    return _about_registration(registration, NotificationKind.INVITATION, compose)


def lottery_won(registration: Registration, ticket_url: str,
                staged: bool = False) -> Notification | None:
    """Drawn in the lottery: the ticket now holds places."""
    def compose(r: Registration, when: str, title: str) -> tuple[str, str]:
        return ("摇号中签", f"{addressee(r)}，恭喜您在「{title}」{when}的摇号中签，{r.party_size}人。"
                           f"电子票：{ticket_url} 如不能参加请打开链接取消，名额将让给候补。")

    return _about_registration(registration, NotificationKind.LOTTERY_WON, compose, staged)


def lottery_waitlisted(registration: Registration, position: int, ticket_url: str,
                       staged: bool = False) -> Notification | None:
    """Not drawn: where the party stands on the waiting list, in the draw's order."""
    def compose(r: Registration, when: str, title: str) -> tuple[str, str]:
        return ("摇号结果", f"{addressee(r)}，「{title}」{when}摇号未中签，您在候补名单第{position}位"
                           f"（{r.party_size}人），有空位时将按顺序通知您。查看：{ticket_url}")

    return _about_registration(registration, NotificationKind.LOTTERY_WAITLISTED, compose, staged)


def one_time_code(phone: str, code: str) -> Notification | None:
    """The code that lets a citizen see their tickets; never raises."""
    minutes = max(int(current_app.config["OTP_TTL_SECONDS"]) // 60, 1)
    body = f"{_signature()}您的验证码为{code}，{minutes}分钟内有效，仅用于查看您的报名。请勿告诉他人。"
    return outbox.queue_and_deliver(NotificationChannel.SMS, phone, NotificationKind.ONE_TIME_CODE,
                              "验证码", body)


def draft_registration_code(phone: str, code: str) -> outbox.Draft:
    """The code that proves the registrant holds the phone. Our words only: the number asked
    for gets nothing else from us, whoever asked."""
    minutes = max(int(current_app.config["OTP_TTL_SECONDS"]) // 60, 1)
    body = (f"{_signature()}您的报名验证码为{code}，{minutes}分钟内有效。如非本人操作，请忽略本短信。"
            "请勿告诉他人。")
    return outbox.Draft(NotificationChannel.SMS, phone, NotificationKind.REGISTRATION_CODE,
                        "报名验证码", body)


def _about_registration(registration: Registration, kind: NotificationKind, compose,
                        staged: bool = False) -> Notification | outbox.Staged | None:
    """Compose and send a message about a registration. `staged`: only add it to the caller's
    transaction (the caller commits, then calls `dispatch` with what this returns)."""
    draft = _draft_about(registration, kind, compose)
    if draft is None:
        return None
    if staged:
        return outbox.stage(*draft.fields(), registration.id)
    return outbox.queue_and_deliver(*draft.fields(), registration.id)


def _draft_about(registration: Registration, kind: NotificationKind, compose) -> outbox.Draft | None:
    """An SMS about a registration, composed but not stored. None when there is nobody to tell
    or it cannot be composed (logged: a message never turns a registration into an error)."""
    try:
        if not registration.phone:  # a walk-in without a phone: nobody to tell
            return None
        start = to_local(registration.session.starts_at)
        when = f"{start.month}月{start.day}日 {start:%H:%M}"
        title = registration.event.title
        if len(title) > MAX_TITLE:
            title = title[: MAX_TITLE - 1] + "…"
        subject, text = compose(registration, when, title)
    except Exception:
        log.exception("could not compose a %s message", kind)
        return None
    return outbox.Draft(
        NotificationChannel.SMS, registration.phone, kind, subject, _signature() + text
    )


def addressee(registration: Registration) -> str:
    """How a message names its citizen: the name when it is a name by identity.normalise_name
    (every name taken since that rule is), else a plain greeting: an older or purged row never
    puts free text into a message from the official sender."""
    return normalise_name(registration.name) or "您好"


def _signature() -> str:
    sender = current_app.config.get("SMS_SENDER")
    return f"【{sender}】" if sender else ""


def tell(message, registration: Registration) -> None:
    """Send `message` about a committed registration. A message that cannot be sent now is
    retried later; it never turns a registration or a cancellation into an error."""
    registration_id = registration.id
    try:
        message(registration, links.ticket_url(registration.code))
    except Exception:  # notify never raises; this guards the link and a broken backend alike
        db.session.rollback()
        log.exception("could not tell the holder of registration %s", registration_id)

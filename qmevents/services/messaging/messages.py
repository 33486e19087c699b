"""What we tell citizens, in Chinese (their language): every message about a registration, and
the one-time codes, each declared once as a template (services/messaging/templates.py: one key,
one text with {named} parameters, which is also what is registered with an SMS provider), and
`tell`: sending one about a committed registration. outbox.py stores, sends and retries them; a
message that cannot be composed is logged and skipped, never turned into an error for the
citizen.

An organiser's note (主办方留言) is optional: a message with one and a message without are two
templates (`application_admitted` / `application_admitted_note`, and the same for declined), so
that no provider template has a variable that may be empty or that carries fixed words.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from flask import current_app

from ... import links
from ...extensions import db
from ...models import Notification, NotificationKind, Registration, RegistrationStatus
from ..registrations.short_codes import spelled
from . import outbox, templates
from .templates import sms_template

log = logging.getLogger(__name__)

# --- the templates: every message a citizen can get about a registration, and the codes -------

CONFIRMED = sms_template(
    "registration_confirmed", NotificationKind.REGISTRATION_CONFIRMED, "报名成功",
    "{name}，您已报名「{title}」{when}，{people}人。电子票：{ticket} 如需取消请打开链接。",
    "报名成功后立即发送（先到先得的活动，或候补转正后确认名额时）。",
)
WAITLISTED = sms_template(
    "registration_waitlisted", NotificationKind.REGISTRATION_CONFIRMED, "候补登记",
    "{name}，「{title}」{when}已满，您已进入候补名单（{people}人），有空位时将通知您。查看：{ticket}",
    "场次已满、市民登记候补后立即发送。",
)
APPLIED = sms_template(
    "registration_applied", NotificationKind.REGISTRATION_CONFIRMED, "报名申请已提交",
    "{name}，您已申请报名「{title}」{when}，{people}人，结果将另行通知。查看：{ticket}",
    "需审核或摇号的活动，市民提交报名申请后立即发送。",
)
CANCELLED = sms_template(
    "registration_cancelled", NotificationKind.REGISTRATION_CANCELLED, "报名已取消",
    "{name}，您报名的「{title}」{when}已取消，名额已释放。详情：{ticket}",
    "市民自己取消报名后立即发送。",
)
CANCELLED_BY_ORGANISER = sms_template(
    "cancelled_by_organiser", NotificationKind.REGISTRATION_CANCELLED, "报名已被主办方取消",
    "{name}，您报名的「{title}」{when}已被主办方取消。如有疑问请联系主办方。详情：{ticket}",
    "主办方取消某位市民的报名后立即发送。",
)
BY_PHONE = sms_template(
    "registered_by_phone", NotificationKind.REGISTRATION_CONFIRMED, "代报名成功",
    "{name}，工作人员已为您报名「{title}」{when}，{people}人。入场口令：{door_code}，"
    "到场时告诉工作人员即可入场。电子票：{ticket}",
    "工作人员通过电话为市民代报名（热线）后立即发送，含入场口令。",
)
BY_PHONE_PLACE = sms_template(
    "place_by_phone", NotificationKind.REGISTRATION_CONFIRMED, "代报名名额确认",
    "{name}，「{title}」{when}已为您确认{people}个名额。入场口令：{door_code}，"
    "到场时告诉工作人员即可入场。电子票：{ticket}",
    "电话代报名（热线）的市民候补转正、审核通过（无留言时）或摇号中签后立即发送，含入场口令。",
)
SERIES = sms_template(
    "series_confirmed", NotificationKind.REGISTRATION_CONFIRMED, "系列通票报名成功",
    "{name}，您已报名「{title}」系列通票，共{sessions}场，首场{when}，{people}人。"
    "电子票各场通用：{ticket} 如需取消请打开链接。",
    "市民报名系列活动的多个场次（系列通票）后立即发送。",
)
CHANGED = sms_template(
    "registration_changed", NotificationKind.REGISTRATION_CONFIRMED, "报名已变更",
    "{name}，您已将「{title}」的报名变更为{when}，{people}人。电子票不变：{ticket}",
    "市民自己减少人数或改到同一活动的另一场次后立即发送。",
)
OFFERED = sms_template(
    "waitlist_offered", NotificationKind.WAITLIST_PROMOTED, "候补空位待确认",
    "{name}，「{title}」{when}有空位了，已为您保留{people}个名额，请在{deadline}前打开链接确认，"
    "逾期名额将顺延给下一位：{ticket}",
    "有名额空出、候补需在期限内确认时（设置了候补确认时限）立即发送。",
)
PROMOTED = sms_template(
    "waitlist_promoted", NotificationKind.WAITLIST_PROMOTED, "候补成功",
    "{name}，「{title}」{when}有空位了，您已从候补名单转为报名成功，{people}人。电子票：{ticket} "
    "如需取消请打开链接。",
    "有名额空出、候补直接转为报名成功时立即发送。",
)
OFFER_EXPIRED = sms_template(
    "offer_expired", NotificationKind.OFFER_EXPIRED, "候补名额已过期",
    "{name}，您在「{title}」{when}的候补名额未在截止时间前确认，已顺延给下一位候补。详情：{ticket}",
    "为候补保留的名额过了确认时限后发送。",
)
ADMITTED = sms_template(
    "application_admitted", NotificationKind.APPLICATION_ADMITTED, "报名申请已通过",
    "{name}，您申请的「{title}」{when}已通过审核，{people}人。电子票：{ticket} 如需取消请打开链接。",
    "主办方审核通过报名申请后立即发送（未填写留言时）。",
)
ADMITTED_NOTE = sms_template(
    "application_admitted_note", NotificationKind.APPLICATION_ADMITTED, "报名申请已通过",
    "{name}，您申请的「{title}」{when}已通过审核，{people}人。主办方留言：{note} 电子票：{ticket} "
    "如需取消请打开链接。",
    "主办方审核通过报名申请并填写留言时立即发送。",
)
DECLINED = sms_template(
    "application_declined", NotificationKind.APPLICATION_DECLINED, "报名申请结果",
    "{name}，感谢您关注「{title}」。很遗憾，您{when}场次的报名申请本次未能通过。"
    "欢迎报名参加质量月的其他活动。",
    "主办方未通过报名申请后立即发送（未填写留言时）。",
)
DECLINED_NOTE = sms_template(
    "application_declined_note", NotificationKind.APPLICATION_DECLINED, "报名申请结果",
    "{name}，感谢您关注「{title}」。很遗憾，您{when}场次的报名申请本次未能通过。主办方留言：{note} "
    "欢迎报名参加质量月的其他活动。",
    "主办方未通过报名申请并填写留言时立即发送。",
)
INVITED = sms_template(
    "invitation", NotificationKind.INVITATION, "活动邀请",
    "{name}，诚邀您参加「{title}」{when}，已为您保留{people}个名额。电子票：{ticket} "
    "如不能出席请打开链接取消。",
    "主办方直接邀请市民（代为保留名额）后立即发送。",
)
LOTTERY_WON = sms_template(
    "lottery_won", NotificationKind.LOTTERY_WON, "摇号中签",
    "{name}，恭喜您在「{title}」{when}的摇号中签，{people}人。电子票：{ticket} "
    "如不能参加请打开链接取消，名额将让给候补。",
    "摇号完成后立即发送给中签的市民。",
)
LOTTERY_WAITLISTED = sms_template(
    "lottery_waitlisted", NotificationKind.LOTTERY_WAITLISTED, "摇号结果",
    "{name}，「{title}」{when}摇号未中签，您在候补名单第{position}位（{people}人），"
    "有空位时将按顺序通知您。查看：{ticket}",
    "摇号完成后立即发送给未中签、按摇号顺序进入候补名单的市民。",
)
ONE_TIME_CODE = sms_template(
    "one_time_code", NotificationKind.ONE_TIME_CODE, "验证码",
    "您的验证码为{code}，{minutes}分钟内有效，仅用于查看您的报名。请勿告诉他人。",
    "市民在“查找我的报名”页面获取验证码时发送。",
)
REGISTRATION_CODE = sms_template(
    "registration_code", NotificationKind.REGISTRATION_CODE, "报名验证码",
    "您的报名验证码为{code}，{minutes}分钟内有效。如非本人操作，请忽略本短信。请勿告诉他人。",
    "报名需验证手机号的活动，市民点击“获取验证码”时发送。",
)
CHANGED_BY_PHONE = sms_template(
    "changed_by_phone", NotificationKind.REGISTRATION_CONFIRMED, "报名已变更（含入场口令）",
    "{name}，您已将「{title}」的报名变更为{when}，{people}人。入场口令不变：{door_code}，"
    "到场时告诉工作人员即可入场。电子票：{ticket}",
    "电话代报名（热线）的市民减少人数或改到同一活动的另一场次后立即发送，含入场口令。",
)

# How a message is chosen for a registration: its template and the parameters beyond the
# common ones (name, title, when, people, ticket).
Choice = Callable[[Registration], tuple[templates.SmsTemplate, dict]]


def registration_confirmed(registration: Registration, ticket_url: str) -> Notification | None:
    """The message after registering: the ticket link, or where the application stands."""
    draft = draft_registration_confirmed(registration, ticket_url)
    return _queue(draft, registration)


def draft_registration_confirmed(registration: Registration,
                                 ticket_url: str) -> templates.Draft | None:
    """The text of `registration_confirmed`, composed before the registration's transaction so
    that nothing but writes happens while places are held (see services.registrations.register)."""
    def choose(r: Registration) -> tuple[templates.SmsTemplate, dict]:
        if r.status == RegistrationStatus.WAITLISTED:
            return WAITLISTED, {}
        if r.status == RegistrationStatus.APPLIED:
            return APPLIED, {}
        if r.short_code:  # registered by phone (代报名): the code to say at the door
            return BY_PHONE, {"door_code": spelled(r.short_code)}
        return CONFIRMED, {}

    return _draft_about(registration, choose, ticket_url)


def registration_cancelled(registration: Registration, ticket_url: str) -> Notification | None:
    return _about_registration(registration, _just(CANCELLED), ticket_url)


def stage_series_confirmed(holder: Registration, sessions: int) -> outbox.Staged | None:
    """In the pass's transaction (services/registrations/series.py): its one message."""
    return _about_registration(holder, _just(SERIES, sessions=sessions),
                               links.ticket_url(holder.code), staged=True)


def stage_registration_changed(registration: Registration) -> outbox.Staged | None:
    """In the change's transaction (registrations/amend): the holder made the party smaller or
    moved it to another session; the text says the session's time and the party as they are
    now. A caller registered by phone (代报名) is given the door code again."""
    def choose(r: Registration) -> tuple[templates.SmsTemplate, dict]:
        if r.short_code:
            return CHANGED_BY_PHONE, {"door_code": spelled(r.short_code)}
        return CHANGED, {}

    return _about_registration(registration, choose, links.ticket_url(registration.code),
                               staged=True)


def cancelled_by_organiser(registration: Registration,
                           ticket_url: str) -> Notification | None:
    """The organiser cancelled the registration (services.registrations.cancellation)."""
    return _about_registration(registration, _just(CANCELLED_BY_ORGANISER), ticket_url)


def promoted(registration: Registration, ticket_url: str) -> Notification | None:
    """A place came free for a party on the waiting list: theirs now, or theirs to confirm by a
    deadline."""
    return _queue(draft_promoted(registration, ticket_url), registration)


def draft_promoted(registration: Registration, ticket_url: str) -> templates.Draft | None:
    """The text of `promoted`, for services.registrations.waitlist to store with the promotion
    itself."""
    def choose(r: Registration) -> tuple[templates.SmsTemplate, dict]:
        if r.status == RegistrationStatus.OFFERED and r.offer_expires_at:
            return OFFERED, {"deadline": templates.local_time(r.offer_expires_at)}
        return _by_phone_or(PROMOTED)(r)

    return _draft_about(registration, choose, ticket_url)


def draft_offer_expired(registration: Registration, ticket_url: str) -> templates.Draft | None:
    """An offered place not confirmed in time: it has gone to the next party in line."""
    return _draft_about(registration, _just(OFFER_EXPIRED), ticket_url)


def admitted(registration: Registration, ticket_url: str,
             message: str | None = None) -> Notification | None:
    """An application admitted by the organiser: the ticket, and their note if they wrote one."""
    choice = _noted(ADMITTED, ADMITTED_NOTE, message) if message else _by_phone_or(ADMITTED)
    return _about_registration(registration, choice, ticket_url)


def declined(registration: Registration, message: str | None = None) -> Notification | None:
    """An application the organiser could not accept, said kindly; no link: nothing to show."""
    return _about_registration(registration, _noted(DECLINED, DECLINED_NOTE, message), None)


def invited(registration: Registration, ticket_url: str) -> Notification | None:
    """A ticket the organiser gave directly: places are kept, nothing to apply for."""
    return _about_registration(registration, _just(INVITED), ticket_url)


def lottery_won(registration: Registration, ticket_url: str,
                staged: bool = False) -> Notification | None:
    """Drawn in the lottery: the ticket now holds places."""
    return _about_registration(registration, _by_phone_or(LOTTERY_WON), ticket_url, staged)


def lottery_waitlisted(registration: Registration, position: int, ticket_url: str,
                       staged: bool = False) -> Notification | None:
    """Not drawn: where the party stands on the waiting list, in the draw's order."""
    return _about_registration(registration, _just(LOTTERY_WAITLISTED, position=position),
                               ticket_url, staged)


def one_time_code(phone: str, code: str) -> Notification | None:
    """The code that lets a citizen see their tickets; never raises."""
    draft = templates.draft(ONE_TIME_CODE, phone, code=code, minutes=_code_minutes())
    return outbox.queue_and_deliver(*draft.fields(), **draft.provider_fields())


def draft_registration_code(phone: str, code: str) -> templates.Draft:
    """The code that proves the registrant holds the phone. Our words only: the number asked
    for gets nothing else from us, whoever asked."""
    return templates.draft(REGISTRATION_CODE, phone, code=code, minutes=_code_minutes())


def _code_minutes() -> int:
    return max(int(current_app.config["OTP_TTL_SECONDS"]) // 60, 1)


def _by_phone_or(template: templates.SmsTemplate) -> Choice:
    """`template`, or for a registration by phone (代报名, which has a short door code) the text
    that gives the citizen the door code with the place, as a phone without a browser needs."""
    def choose(registration: Registration) -> tuple[templates.SmsTemplate, dict]:
        if registration.short_code:
            return BY_PHONE_PLACE, {"door_code": spelled(registration.short_code)}
        return template, {}
    return choose


def _just(template: templates.SmsTemplate, **params: object) -> Choice:
    return lambda registration: (template, params)


def _noted(plain: templates.SmsTemplate, with_note: templates.SmsTemplate,
           note: str | None) -> Choice:
    """The organiser's note, when they wrote one, has its own template."""
    return lambda registration: (with_note, {"note": note}) if note else (plain, {})


def _queue(draft: templates.Draft | None, registration: Registration) -> Notification | None:
    if draft is None:
        return None
    return outbox.queue_and_deliver(*draft.fields(), registration.id, **draft.provider_fields())


def _about_registration(registration: Registration, choose: Choice, ticket_url: str | None,
                        staged: bool = False) -> Notification | outbox.Staged | None:
    """Compose and send a message about a registration. `staged`: only add it to the caller's
    transaction (the caller commits, then calls `dispatch` with what this returns)."""
    draft = _draft_about(registration, choose, ticket_url)
    if draft is None:
        return None
    if staged:
        return outbox.stage(*draft.fields(), registration.id, **draft.provider_fields())
    return _queue(draft, registration)


def _draft_about(registration: Registration, choose: Choice,
                 ticket_url: str | None) -> templates.Draft | None:
    """An SMS about a registration, composed but not stored. None when there is nobody to tell
    or it cannot be composed (logged: a message never turns a registration into an error)."""
    template = None
    try:
        if not registration.phone:  # a walk-in without a phone: nobody to tell
            return None
        template, params = choose(registration)
        common = {"name": templates.addressee(registration),
                  "title": templates.short_title(registration.event.title),
                  "when": templates.local_time(registration.session.starts_at),
                  "people": registration.party_size}
        if ticket_url is not None:
            common["ticket"] = ticket_url
        return templates.draft(template, registration.phone, **{**common, **params})
    except Exception:
        log.exception("could not compose a %s message", template.key if template else "")
        return None


def tell(message, registration: Registration) -> None:
    """Send `message` about a committed registration. A message that cannot be sent now is
    retried later; it never turns a registration or a cancellation into an error."""
    registration_id = registration.id
    try:
        message(registration, links.ticket_url(registration.code))
    except Exception:  # notify never raises; this guards the link and a broken backend alike
        db.session.rollback()
        log.exception("could not tell the holder of registration %s", registration_id)

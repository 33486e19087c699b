"""Every text message is one template of services.messaging.templates: the stored body is the
template filled in, word for word what citizens were sent before templates existed, and each
message carries its template's key and parameters for the providers that send only templates."""
from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from qmevents.models import Event, EventSession, Registration, RegistrationStatus
from qmevents.services.messaging import changes, messages, reminders, templates

URL = "https://zlj.example.cn/t/ABCDEFGHJKMNPQRSTVWX"
PHONE = "13812345678"
WHEN = "9月15日 09:30"  # 2030-09-15 01:30 UTC in Shanghai


def party(status: RegistrationStatus = RegistrationStatus.CONFIRMED,
          title: str = "威派格智慧水务质量开放日", **fields) -> Registration:
    """A registration as the messages see it (not stored: composing reads no database)."""
    event = Event(title=title)
    session = EventSession(starts_at=datetime(2030, 9, 15, 1, 30, tzinfo=UTC))
    return Registration(event=event, session=session, name="张伟", phone=PHONE, party_size=2,
                        status=status, **fields)


def stored(notification) -> tuple[str, str | None, dict | None]:
    return notification.body, notification.template, notification.params


TITLE = "「威派格智慧水务质量开放日」"


def test_the_confirmations_are_word_for_word_what_citizens_were_sent(app):
    with app.app_context():
        confirmed = messages.draft_registration_confirmed(party(), URL)
        waiting = messages.draft_registration_confirmed(party(RegistrationStatus.WAITLISTED), URL)
        applied = messages.draft_registration_confirmed(party(RegistrationStatus.APPLIED), URL)
    assert confirmed.body == (f"【质量月】张伟，您已报名{TITLE}{WHEN}，2人。电子票：{URL} "
                              "如需取消请打开链接。")
    assert waiting.body == (f"【质量月】张伟，{TITLE}{WHEN}已满，您已进入候补名单（2人），"
                            f"有空位时将通知您。查看：{URL}")
    assert applied.body == (f"【质量月】张伟，您已申请报名{TITLE}{WHEN}，2人，结果将另行通知。"
                            f"查看：{URL}")
    assert confirmed.subject == "报名成功" and waiting.subject == "候补登记"
    assert applied.subject == "报名申请已提交"


def test_the_waiting_lists_messages_are_word_for_word(app):
    offered = party(RegistrationStatus.OFFERED,
                    offer_expires_at=datetime(2030, 9, 14, 4, 5, tzinfo=UTC))
    with app.app_context():
        offer = messages.draft_promoted(offered, URL)
        promoted = messages.draft_promoted(party(), URL)
        expired = messages.draft_offer_expired(party(RegistrationStatus.CANCELLED), URL)
    assert offer.body == (f"【质量月】张伟，{TITLE}{WHEN}有空位了，已为您保留2个名额，"
                          f"请在9月14日 12:05前打开链接确认，逾期名额将顺延给下一位：{URL}")
    assert promoted.body == (f"【质量月】张伟，{TITLE}{WHEN}有空位了，您已从候补名单转为报名成功，"
                             f"2人。电子票：{URL} 如需取消请打开链接。")
    assert expired.body == (f"【质量月】张伟，您在{TITLE}{WHEN}的候补名额未在截止时间前确认，"
                            f"已顺延给下一位候补。详情：{URL}")


def test_the_stored_messages_are_word_for_word(app):
    with app.app_context():
        bodies = {
            "cancelled": messages.registration_cancelled(party(), URL).body,
            "by_organiser": messages.cancelled_by_organiser(party(), URL).body,
            "admitted": messages.admitted(party(), URL).body,
            "admitted_note": messages.admitted(party(), URL, "请带身份证").body,
            "declined": messages.declined(party()).body,
            "declined_note": messages.declined(party(), "名额有限").body,
            "invited": messages.invited(party(), URL).body,
            "won": messages.lottery_won(party(), URL).body,
            "waiting": messages.lottery_waitlisted(party(), 3, URL).body,
            "code": messages.one_time_code(PHONE, "123456").body,
        }
        registration_code = messages.draft_registration_code(PHONE, "654321").body
    assert bodies == {
        "cancelled": f"【质量月】张伟，您报名的{TITLE}{WHEN}已取消，名额已释放。详情：{URL}",
        "by_organiser": f"【质量月】张伟，您报名的{TITLE}{WHEN}已被主办方取消。如有疑问请联系主办方。"
                        f"详情：{URL}",
        "admitted": f"【质量月】张伟，您申请的{TITLE}{WHEN}已通过审核，2人。电子票：{URL} "
                    "如需取消请打开链接。",
        "admitted_note": f"【质量月】张伟，您申请的{TITLE}{WHEN}已通过审核，2人。主办方留言：请带身份证 "
                         f"电子票：{URL} 如需取消请打开链接。",
        "declined": f"【质量月】张伟，感谢您关注{TITLE}。很遗憾，您{WHEN}场次的报名申请本次未能通过。"
                    "欢迎报名参加质量月的其他活动。",
        "declined_note": f"【质量月】张伟，感谢您关注{TITLE}。很遗憾，您{WHEN}场次的报名申请本次未能"
                         "通过。主办方留言：名额有限 欢迎报名参加质量月的其他活动。",
        "invited": f"【质量月】张伟，诚邀您参加{TITLE}{WHEN}，已为您保留2个名额。电子票：{URL} "
                   "如不能出席请打开链接取消。",
        "won": f"【质量月】张伟，恭喜您在{TITLE}{WHEN}的摇号中签，2人。电子票：{URL} "
               "如不能参加请打开链接取消，名额将让给候补。",
        "waiting": f"【质量月】张伟，{TITLE}{WHEN}摇号未中签，您在候补名单第3位（2人），"
                   f"有空位时将按顺序通知您。查看：{URL}",
        "code": "【质量月】您的验证码为123456，10分钟内有效，仅用于查看您的报名。请勿告诉他人。",
    }
    assert registration_code == ("【质量月】您的报名验证码为654321，10分钟内有效。"
                                 "如非本人操作，请忽略本短信。请勿告诉他人。")


def test_a_long_title_is_cut_to_forty_characters(app):
    title = "上海市" + "质量" * 30
    with app.app_context():
        body = messages.draft_registration_confirmed(party(title=title), URL).body
    assert f"「{title[:39]}…」" in body


def test_each_message_is_its_own_template_with_string_parameters(app):
    offered = party(RegistrationStatus.OFFERED,
                    offer_expires_at=datetime(2030, 9, 14, 4, 5, tzinfo=UTC))
    with app.app_context():
        drafts = {
            "registration_confirmed": messages.draft_registration_confirmed(party(), URL),
            "registration_waitlisted": messages.draft_registration_confirmed(
                party(RegistrationStatus.WAITLISTED), URL),
            "registration_applied": messages.draft_registration_confirmed(
                party(RegistrationStatus.APPLIED), URL),
            "waitlist_offered": messages.draft_promoted(offered, URL),
            "waitlist_promoted": messages.draft_promoted(party(), URL),
            "offer_expired": messages.draft_offer_expired(party(), URL),
            "registration_code": messages.draft_registration_code(PHONE, "654321"),
        }
        stored_ones = {
            "registration_cancelled": messages.registration_cancelled(party(), URL),
            "cancelled_by_organiser": messages.cancelled_by_organiser(party(), URL),
            "application_admitted": messages.admitted(party(), URL),
            "application_admitted_note": messages.admitted(party(), URL, "请带身份证"),
            "application_declined": messages.declined(party()),
            "application_declined_note": messages.declined(party(), "名额有限"),
            "invitation": messages.invited(party(), URL),
            "lottery_won": messages.lottery_won(party(), URL),
            "lottery_waitlisted": messages.lottery_waitlisted(party(), 3, URL),
            "one_time_code": messages.one_time_code(PHONE, "123456"),
        }
        for key, message in {**drafts, **stored_ones}.items():
            template = templates.REGISTRY[key]
            assert message.template == key
            assert set(message.params) == set(template.params)
            assert all(isinstance(value, str) for value in message.params.values())
            # the body is the signature and the template filled with exactly these parameters
            assert message.body == "【质量月】" + template.fill(**message.params)
            assert message.kind == template.kind and message.subject == template.subject
    assert drafts["waitlist_offered"].params["deadline"] == "9月14日 12:05"
    assert stored_ones["lottery_waitlisted"].params["position"] == "3"
    assert stored_ones["application_declined_note"].params["note"] == "名额有限"
    assert "ticket" not in stored_ones["application_declined"].params


def test_every_template_key_is_distinct_and_every_text_fits_a_provider():
    keys = list(templates.REGISTRY)
    assert len(keys) == len(set(keys)) >= 19
    for template in templates.REGISTRY.values():
        assert "【" not in template.text  # the sign name is the provider's, never in a template
        assert "${" in template.provider_text or not template.params
        assert template.when and template.subject


def test_the_readme_lists_every_template_to_register_word_for_word():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Text message templates to register with the provider", 1)[1]
    listed = dict(re.findall(r"^\| `([a-z_]+)` \| (.+) \|$", section.split("\n\n#", 1)[0],
                             flags=re.MULTILINE))
    assert {changes.CHANGED.key, changes.CANCELLED.key, reminders.REMINDER.key} <= set(listed)
    assert listed == {key: template.provider_text
                      for key, template in templates.REGISTRY.items()}

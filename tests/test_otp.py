"""A citizen who lost their ticket link proves they hold the phone with a one-time code."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from qmevents.extensions import db
from qmevents.models import Notification, OneTimeCode
from qmevents.services import otp
from qmevents.services.errors import ValidationFailed
from qmevents.services.messaging import messages
from qmevents.timeutil import utcnow

PHONE = "13812345678"


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_an_issued_code_works_once(app):
    with app.app_context():
        code = otp.issue(PHONE)
        assert len(code) == 6 and code.isdigit()
        assert otp.verify(PHONE, code) is True
        assert otp.verify(PHONE, code) is False


def test_the_code_may_be_typed_with_spaces_and_the_phone_with_a_prefix(app):
    with app.app_context():
        code = otp.issue(PHONE)
        assert otp.verify("+86 138-1234-5678", f" {code} ") is True


def test_a_wrong_code_is_counted_and_enough_of_them_kill_the_code(app):
    app.config["OTP_MAX_ATTEMPTS"] = 3
    with app.app_context():
        code = otp.issue(PHONE)
        for _ in range(3):
            assert otp.verify(PHONE, wrong(code)) is False
        assert db.session.scalar(db.select(OneTimeCode.attempts)) == 3
        assert otp.verify(PHONE, code) is False


def test_an_expired_code_fails(app, monkeypatch):
    with app.app_context():
        code = otp.issue(PHONE)
        later = utcnow() + timedelta(seconds=app.config["OTP_TTL_SECONDS"] + 1)
        monkeypatch.setattr(otp, "utcnow", lambda: later)
        assert otp.verify(PHONE, code) is False


def test_only_a_hash_of_the_code_is_stored(app):
    with app.app_context():
        code = otp.issue(PHONE)
        row = db.session.scalar(db.select(OneTimeCode))
        assert code not in row.code_hash
        assert row.code_hash == otp.code_hash(PHONE, code)
        assert row.code_hash != otp.code_hash("13900000000", code)


def test_a_code_for_one_phone_does_not_open_another(app):
    with app.app_context():
        code = otp.issue(PHONE)
        assert otp.verify("13900000000", code) is False


def test_asking_again_makes_the_earlier_code_worthless(app):
    with app.app_context():
        first = otp.issue(PHONE)
        second = otp.issue(PHONE)
        if first != second:
            assert otp.verify(PHONE, first) is False
        assert otp.verify(PHONE, second) is True


def test_a_code_is_only_issued_for_a_mobile_number(app):
    with app.app_context(), pytest.raises(ValidationFailed) as refused:
        otp.issue("12345")
    assert "phone" in refused.value.errors


def test_two_verifications_at_once_succeed_only_once(app, monkeypatch):
    with app.app_context():
        code = otp.issue(PHONE)
    both_read = threading.Barrier(2, timeout=10)
    real_hash = otp.code_hash

    def hash_after_both_read(phone, typed):  # both have the unused row in hand by now
        both_read.wait()
        return real_hash(phone, typed)

    monkeypatch.setattr(otp, "code_hash", hash_after_both_read)
    results = []

    def verify():
        with app.app_context():
            results.append(otp.verify(PHONE, code))
            db.session.remove()

    threads = [threading.Thread(target=verify) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results) == [False, True]


def test_the_code_message_carries_the_code_and_its_lifetime_but_not_the_phone(app):
    with app.app_context():
        code = otp.issue(PHONE)
        notification = messages.one_time_code(PHONE, code)
        message = db.session.get(Notification, notification.id)
        assert code in message.body and "10分钟" in message.body
        assert PHONE not in message.body
        assert (message.kind, message.recipient, message.status) == (
            "one_time_code", PHONE, "sent")

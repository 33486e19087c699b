"""Alibaba Cloud SMS and Tencent Cloud SMS, each against a local fake of its API that checks the
request's signature the way the provider does — recomputed here from the received request and
the shared secret, written from the providers' documentation and not from the app's signer — and
answers as the provider does, success and refusal alike."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import urllib.parse
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from qmevents.extensions import db
from qmevents.models import EventSession, Notification, Registration
from qmevents.services.messaging import backends, messages, outbox, providers, templates
from qmevents.services.messaging.backends import Message, SendFailed
from qmevents.services.registrations import register as reg

PHONE = "13812345678"
SITE = "https://zlj.example.cn"
ALIYUN_ID, ALIYUN_SECRET = "LTAI5tTestKeyId", "aliyun-secret-测试"
TENCENT_ID, TENCENT_KEY = "AKIDtestsecretid", "tencent-secret-key"
CODES = {"registration_confirmed": "SMS_460001", "registration_code": "SMS_460002",
         "one_time_code": "1234567"}


# --- the fakes --------------------------------------------------------------------------------


class FakeProvider(ThreadingHTTPServer):
    """A provider's API on 127.0.0.1: every request kept as (headers, body, verdict)."""

    def __init__(self, handler, secret: str):
        super().__init__(("127.0.0.1", 0), handler)
        self.secret = secret
        self.received: list[dict] = []
        self.refuse_with: tuple[str, str] | None = None  # a business refusal to answer with

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}/"


class AliyunHandler(BaseHTTPRequestHandler):
    """dysmsapi's SendSms over POST with a form body, RPC signature version 1.0."""

    def log_message(self, *args):
        pass

    def do_POST(self):
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        params = dict(urllib.parse.parse_qsl(raw.decode("ascii"), keep_blank_values=True))
        server: FakeProvider = self.server
        signature_ok = self.signature_ok(params, server.secret)
        server.received.append({"params": params, "signature_ok": signature_ok})
        if not signature_ok:
            return self.answer(400, {"RequestId": "A1", "HostId": "dysmsapi.aliyuncs.com",
                                     "Code": "SignatureDoesNotMatch",
                                     "Message": "Specified signature is not matched with our "
                                                "calculation."})
        if server.refuse_with:
            code, message = server.refuse_with
            return self.answer(200, {"RequestId": "A2", "Code": code, "Message": message})
        self.answer(200, {"Message": "OK", "RequestId": "A3", "Code": "OK", "BizId": "9001^0"})

    @staticmethod
    def encode(value: str) -> str:
        # The documented recipe: URL-encode as a form would, then + → %20, * → %2A, %7E → ~.
        return (urllib.parse.quote_plus(value, encoding="utf-8")
                .replace("+", "%20").replace("*", "%2A").replace("%7E", "~"))

    def signature_ok(self, params: dict, secret: str) -> bool:
        for required in ("Timestamp", "SignatureNonce", "AccessKeyId", "Signature"):
            if not params.get(required):
                return False
        if params.get("SignatureMethod") != "HMAC-SHA1" or params.get("SignatureVersion") != "1.0":
            return False
        datetime.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ")  # ISO 8601, UTC
        query = "&".join(f"{self.encode(k)}={self.encode(v)}"
                         for k, v in sorted(params.items()) if k != "Signature")
        string_to_sign = "POST&" + self.encode("/") + "&" + self.encode(query)
        expected = base64.b64encode(hmac.new((secret + "&").encode("utf-8"),
                                             string_to_sign.encode("utf-8"),
                                             hashlib.sha1).digest()).decode()
        return hmac.compare_digest(expected, params["Signature"])

    def answer(self, status: int, data: dict):
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class TencentHandler(AliyunHandler):
    """SendSms 2021-01-11 over POST with a JSON body, TC3-HMAC-SHA256. Tencent answers 200 with
    Response.Error on a refusal."""

    def do_POST(self):
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        server: FakeProvider = self.server
        reason = self.refusal(raw, server.secret)
        payload = json.loads(raw.decode("utf-8"))
        server.received.append({"payload": payload, "signature_ok": reason is None,
                                "headers": {k.lower(): v for k, v in self.headers.items()}})
        if reason:
            return self.answer(200, {"Response": {"Error": {
                "Code": "AuthFailure.SignatureFailure",
                "Message": f"The provided credentials could not be validated ({reason})."},
                "RequestId": "T1"}})
        if server.refuse_with:
            code, message = server.refuse_with
            status = {"SerialNo": "", "PhoneNumber": payload["PhoneNumberSet"][0], "Fee": 0,
                      "SessionContext": "", "Code": code, "Message": message, "IsoCode": "CN"}
        else:
            status = {"SerialNo": "5000:1045710669", "PhoneNumber": payload["PhoneNumberSet"][0],
                      "Fee": 1, "SessionContext": "", "Code": "Ok", "Message": "send success",
                      "IsoCode": "CN"}
        self.answer(200, {"Response": {"SendStatusSet": [status], "RequestId": "T2"}})

    def refusal(self, raw: bytes, secret_key: str) -> str | None:
        """Why the signature is refused, or None: recomputed from what arrived."""
        timestamp = self.headers.get("X-TC-Timestamp")
        authorization = self.headers.get("Authorization", "")
        if not timestamp or not timestamp.isdigit():
            return "no timestamp"
        if abs(time.time() - int(timestamp)) > 300:
            return "timestamp too far"
        if self.headers.get("X-TC-Action") != "SendSms" or not self.headers.get("X-TC-Version"):
            return "no action or version"
        algorithm, _, rest = authorization.partition(" ")
        fields = dict(part.strip().split("=", 1) for part in rest.split(","))
        if algorithm != "TC3-HMAC-SHA256" or set(fields) != {"Credential", "SignedHeaders",
                                                             "Signature"}:
            return "malformed authorization"
        secret_id, date, service, terminator = fields["Credential"].split("/")
        if date != datetime.fromtimestamp(int(timestamp), UTC).strftime("%Y-%m-%d"):
            return "date is not the timestamp's"
        signed = fields["SignedHeaders"].split(";")
        canonical_headers = "".join(f"{name}:{self.headers[name].strip().lower()}\n"
                                    for name in signed)
        canonical_request = (f"POST\n/\n\n{canonical_headers}\n{fields['SignedHeaders']}\n"
                             + hashlib.sha256(raw).hexdigest())
        string_to_sign = (f"TC3-HMAC-SHA256\n{timestamp}\n{date}/{service}/{terminator}\n"
                          + hashlib.sha256(canonical_request.encode()).hexdigest())
        key = ("TC3" + secret_key).encode()
        for part in (date, service, terminator):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
        if secret_id != TENCENT_ID or not hmac.compare_digest(expected, fields["Signature"]):
            return "signature mismatch"
        return None


def _serve(handler, secret):
    server = FakeProvider(handler, secret)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


@pytest.fixture
def aliyun(app):
    server = _serve(AliyunHandler, ALIYUN_SECRET)
    app.config.update(NOTIFY_BACKEND="aliyun", SMS_TEMPLATE_CODES=dict(CODES), PUBLIC_URL=SITE,
                      SMS_ALIYUN_ACCESS_KEY_ID=ALIYUN_ID, SMS_ALIYUN_ACCESS_KEY_SECRET=ALIYUN_SECRET,
                      SMS_ALIYUN_ENDPOINT=server.url)
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def tencent(app):
    server = _serve(TencentHandler, TENCENT_KEY)
    app.config.update(NOTIFY_BACKEND="tencent", SMS_TEMPLATE_CODES=json.dumps(CODES), PUBLIC_URL=SITE,
                      SMS_TENCENT_SECRET_ID=TENCENT_ID, SMS_TENCENT_SECRET_KEY=TENCENT_KEY,
                      SMS_TENCENT_SDK_APP_ID=1400006666, SMS_TENCENT_ENDPOINT=server.url)
    yield server
    server.shutdown()
    server.server_close()


def register_zhang_wei(app, factory, title="威派格智慧水务质量开放日") -> Notification:
    """张伟 registers a party of two through the public service: the confirmation's row."""
    event_id = factory.event(title=title)
    with app.app_context():
        session_id = db.session.scalar(db.select(EventSession.id).filter_by(event_id=event_id))
        result = reg.register(reg.RegistrationRequest(
            event_id=event_id, session_id=session_id, name="张伟", phone=PHONE, party_size=2,
            consent=True))
        return db.session.scalar(db.select(Notification).filter_by(
            registration_id=result.registration_id))


def queue(app, key="registration_confirmed", **params) -> Notification:
    """A message composed from a template and sent through the outbox."""
    values = dict(name="张伟", title="质量 & 安全=100%+*~开放日", when="9月15日 09:30", people=2,
                  ticket="https://zlj.example.cn/t/ABCDEFGHJKMNPQRSTVWX")
    values.update(params)
    with app.app_context():
        draft = templates.draft(templates.REGISTRY[key], PHONE, **values)
        notification = outbox.queue_and_deliver(*draft.fields(), **draft.provider_fields())
        return db.session.get(Notification, notification.id)


# --- Alibaba Cloud ----------------------------------------------------------------------------


def test_a_registration_reaches_aliyun_as_its_template_code_and_parameters(app, factory, aliyun):
    notification = register_zhang_wei(app, factory)
    assert (notification.status, notification.backend) == ("sent", "aliyun")
    [request] = aliyun.received
    params = request["params"]
    assert request["signature_ok"]
    assert params["Action"] == "SendSms" and params["Version"] == "2017-05-25"
    assert params["PhoneNumbers"] == PHONE and params["SignName"] == "质量月"
    assert params["TemplateCode"] == "SMS_460001" and params["AccessKeyId"] == ALIYUN_ID
    sent = json.loads(params["TemplateParam"])
    assert sent["name"] == "张伟" and sent["title"] == "威派格智慧水务质量开放日"
    assert sent["people"] == "2" and sent["ticket"].startswith(SITE + "/t/")
    assert set(sent) == set(templates.REGISTRY["registration_confirmed"].params)
    assert all(isinstance(value, str) for value in sent.values())
    assert "【" not in params["TemplateParam"]  # the sign name is the provider's to add


def test_chinese_and_reserved_characters_survive_aliyuns_encoding(app, aliyun):
    notification = queue(app)
    assert notification.status == "sent", notification.last_error
    sent = json.loads(aliyun.received[0]["params"]["TemplateParam"])
    assert sent["title"] == "质量 & 安全=100%+*~开放日" and sent["when"] == "9月15日 09:30"


def test_a_wrong_secret_is_refused_by_aliyun_and_the_message_waits_for_a_retry(app, aliyun):
    app.config["SMS_ALIYUN_ACCESS_KEY_SECRET"] = "not-the-secret"
    notification = queue(app)
    assert aliyun.received and not aliyun.received[0]["signature_ok"]
    assert notification.status == "pending" and notification.attempts == 1
    assert "SignatureDoesNotMatch" in notification.last_error
    assert "Specified signature is not matched" in notification.last_error
    with app.app_context():
        app.config["NOTIFY_MAX_ATTEMPTS"] = 2
        db.session.get(Notification, notification.id).next_attempt_at = None
        db.session.commit()
        counts = outbox.deliver_due()
        assert (counts.sent, counts.failed) == (0, 1)
        assert db.session.get(Notification, notification.id).status == "failed"


def test_aliyuns_refusal_is_a_failed_send_with_its_code_and_message(app, aliyun):
    aliyun.refuse_with = ("isv.BUSINESS_LIMIT_CONTROL", "触发号码天级流控Permits:10")
    notification = queue(app)
    assert notification.status == "pending"
    assert notification.last_error == ("Alibaba Cloud SMS: isv.BUSINESS_LIMIT_CONTROL "
                                       "触发号码天级流控Permits:10")


def test_a_template_without_a_code_fails_clearly_and_reaches_no_provider(app, aliyun):
    notification = queue(app, "registration_waitlisted")
    assert notification.status == "pending"
    assert notification.last_error == (
        "SMS_TEMPLATE_CODES has no code for template 'registration_waitlisted'")
    assert aliyun.received == []


# --- Tencent Cloud ----------------------------------------------------------------------------


def test_a_registration_reaches_tencent_with_the_parameters_in_the_templates_order(app, factory,
                                                                                    tencent):
    notification = register_zhang_wei(app, factory)
    assert (notification.status, notification.backend) == ("sent", "tencent")
    [request] = tencent.received
    payload = request["payload"]
    assert request["signature_ok"]
    assert payload["PhoneNumberSet"] == ["+86" + PHONE]
    assert payload["SmsSdkAppId"] == "1400006666" and payload["SignName"] == "质量月"
    assert payload["TemplateId"] == "SMS_460001"
    template = templates.REGISTRY["registration_confirmed"]
    assert template.params == ("name", "title", "when", "people", "ticket")
    assert payload["TemplateParamSet"][:2] == ["张伟", "威派格智慧水务质量开放日"]
    assert payload["TemplateParamSet"][3] == "2"
    assert all(isinstance(value, str) for value in payload["TemplateParamSet"])
    assert template.numbered_text.startswith("{1}，您已报名「{2}」{3}，{4}人。电子票：{5}")
    assert request["headers"]["x-tc-action"] == "SendSms"
    assert request["headers"]["x-tc-version"] == "2021-01-11"


def test_the_order_of_the_stored_parameters_does_not_change_what_tencent_gets(app, tencent):
    with app.app_context():
        backend = backends.backend()
        backend.send(Message(channel="sms", recipient=PHONE, subject="验证码", body="…",
                             template="one_time_code", params={"minutes": 10, "code": "123456"}))
    assert tencent.received[0]["payload"]["TemplateParamSet"] == ["123456", "10"]
    assert tencent.received[0]["payload"]["TemplateId"] == "1234567"


def test_chinese_and_reserved_characters_survive_tencents_encoding(app, tencent):
    notification = queue(app)
    assert notification.status == "sent", notification.last_error
    assert tencent.received[0]["payload"]["TemplateParamSet"][1] == "质量 & 安全=100%+*~开放日"


def test_a_wrong_secret_is_refused_by_tencent_and_the_message_waits_for_a_retry(app, tencent):
    app.config["SMS_TENCENT_SECRET_KEY"] = "not-the-key"
    notification = queue(app)
    assert tencent.received and not tencent.received[0]["signature_ok"]
    assert notification.status == "pending" and notification.attempts == 1
    assert notification.last_error.startswith(
        "Tencent Cloud SMS: AuthFailure.SignatureFailure The provided credentials")


def test_tencents_refusal_of_one_number_is_a_failed_send(app, tencent):
    tencent.refuse_with = ("LimitExceeded.PhoneNumberDailyLimit", "the number exceeds the limit")
    notification = queue(app)
    assert notification.status == "pending"
    assert notification.last_error == ("Tencent Cloud SMS: LimitExceeded.PhoneNumberDailyLimit "
                                       "the number exceeds the limit")


def test_the_registration_code_goes_through_tencent(app, tencent):
    with app.app_context():
        draft = messages.draft_registration_code(PHONE, "654321")
        notification = outbox.queue_and_deliver(*draft.fields(), **draft.provider_fields())
        assert notification.status == "sent"
    payload = tencent.received[0]["payload"]
    assert (payload["TemplateId"], payload["TemplateParamSet"]) == ("SMS_460002", ["654321", "10"])


# --- what is refused before anything is sent --------------------------------------------------


@pytest.mark.parametrize("name", ["aliyun", "tencent"])
def test_what_cannot_be_sent_is_a_send_failed_never_a_crash(app, aliyun, name):
    app.config.update(NOTIFY_BACKEND=name, SMS_TENCENT_SECRET_ID="id", SMS_TENCENT_SECRET_KEY="k",
                      SMS_TENCENT_SDK_APP_ID="1400", SMS_TENCENT_ENDPOINT=aliyun.url)
    plain = Message(channel="sms", recipient=PHONE, subject="活动提醒", body="…")
    email = Message(channel="email", recipient="a@example.cn", subject="s", body="b",
                    template="registration_confirmed", params={})
    missing = Message(channel="sms", recipient=PHONE, subject="s", body="b",
                      template="registration_confirmed", params={"name": "张伟"})
    with app.app_context():
        backend = backends.backend()
        with pytest.raises(SendFailed, match="sends only registered templates.*活动提醒"):
            backend.send(plain)
        with pytest.raises(SendFailed, match="not email"):
            backend.send(email)
        with pytest.raises(SendFailed, match="'registration_confirmed' is missing title"):
            backend.send(missing)
        app.config["SMS_TEMPLATE_CODES"] = "{not json"
        with pytest.raises(SendFailed, match="SMS_TEMPLATE_CODES is not valid JSON"):
            backends.backend().send(missing)
        app.config["SMS_TEMPLATE_CODES"] = "[1, 2]"
        with pytest.raises(SendFailed, match="SMS_TEMPLATE_CODES must map"):
            backends.backend().send(missing)
    assert aliyun.received == []


def test_an_unreachable_provider_is_a_failed_send(app, aliyun):
    app.config["SMS_ALIYUN_ENDPOINT"] = "http://127.0.0.1:9/"
    notification = queue(app)
    assert notification.status == "pending"
    assert notification.last_error.startswith("Alibaba Cloud SMS unreachable")


def test_the_provider_is_chosen_from_the_environment(tmp_path, monkeypatch, postgres_url):
    from tests.conftest import close_app, ready_app

    monkeypatch.setenv("QMEVENTS_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.setenv("FLASK_NOTIFY_BACKEND", "tencent")
    monkeypatch.setenv("FLASK_SMS_TEMPLATE_CODES", json.dumps(CODES))
    monkeypatch.setenv("FLASK_SMS_TENCENT_SDK_APP_ID", "1400006666")
    app = ready_app(postgres_url)
    try:
        with app.app_context():
            chosen = backends.backend()
            assert isinstance(chosen, providers.TencentSms)
            assert providers.template_codes(chosen.codes) == CODES
            assert chosen.sdk_app_id == "1400006666" and chosen.sign_name == "质量月"
            assert chosen.endpoint == "https://sms.tencentcloudapi.com/"
    finally:
        close_app(app)


def test_the_outbox_keeps_the_parameters_only_until_the_message_has_left(app, factory, aliyun):
    notification = register_zhang_wei(app, factory)
    with app.app_context():
        stored = db.session.get(Notification, notification.id)
        assert stored.template == "registration_confirmed" and stored.params is None
        assert db.session.get(Registration, stored.registration_id).phone == PHONE


# --- flask notify templates -------------------------------------------------------------------


def test_the_templates_command_lists_every_template_and_its_code(app, runner):
    app.config["SMS_TEMPLATE_CODES"] = {"registration_confirmed": "SMS_460001", "gone": "SMS_1"}
    result = runner.invoke(args=["notify", "templates"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for key, template in templates.REGISTRY.items():
        [header] = [line for line in lines if line.startswith(f"{key}  ")]
        assert template.subject in header
        assert ("SMS_460001" in header) == (key == "registration_confirmed")
        assert any(line.strip().endswith(template.provider_text) for line in lines)
        assert any(line.strip().endswith(template.numbered_text) for line in lines)
        assert any(line.strip().endswith(template.when) for line in lines)
    assert "gone" in lines[-1]  # a code for a template that does not exist is pointed out


def test_the_templates_command_refuses_codes_that_are_not_json(app, runner):
    app.config["SMS_TEMPLATE_CODES"] = "{registration_confirmed: SMS_1"
    result = runner.invoke(args=["notify", "templates"])
    assert result.exit_code == 2
    assert "SMS_TEMPLATE_CODES is not valid JSON" in result.output
    assert "Traceback" not in result.output

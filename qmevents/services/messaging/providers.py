"""The template providers: Alibaba Cloud SMS (dysmsapi SendSms) and Tencent Cloud SMS (SendSms,
API 2021-01-11), chosen with NOTIFY_BACKEND = "aliyun" or "tencent".

Both send only templates registered with them beforehand: a message goes as its template's code
(SMS_TEMPLATE_CODES maps our key, services/messaging/templates.py, to the provider's code) and
its parameters as strings; the sign name (SMS_SIGN_NAME, else SMS_SENDER) is theirs to put in
front, so it is never a parameter. A message without a template, or whose template has no code
configured, fails with SendFailed naming it: the outbox shows that to admins, and retries.

Requests are signed here with the standard library, as each provider documents it (their SDKs
would add two dependency trees for one call each):
- Alibaba Cloud, RPC signature version 1.0: HMAC-SHA1 with "<secret>&" over
  "POST&%2F&" + the percent-encoded, sorted, percent-encoded query; Timestamp and a fresh
  SignatureNonce in every request. It answers {"Code": "OK", …} on success.
- Tencent Cloud API 3.0, TC3-HMAC-SHA256: the canonical request (method, path, query, the
  content-type and host headers, the payload's SHA-256) signed with a key derived from
  "TC3" + secret, the UTC date, the service ("sms") and "tc3_request"; X-TC-Timestamp in every
  request. It answers {"Response": {"SendStatusSet": [{"Code": "Ok", …}]}} on success, or
  {"Response": {"Error": {"Code", "Message"}}}.
Any other answer is SendFailed with the provider's code and message. No redirect is followed.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.request
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ClassVar
from urllib.parse import quote, urlsplit

from ...models import NotificationChannel
from .backends import BACKENDS, SEND_TIMEOUT_SECONDS, Message, SendFailed, post
from .templates import REGISTRY

ALIYUN_ENDPOINT = "https://dysmsapi.aliyuncs.com/"
TENCENT_ENDPOINT = "https://sms.tencentcloudapi.com/"


def template_codes(setting: object) -> dict[str, str]:
    """SMS_TEMPLATE_CODES as a mapping of template key → provider code: a mapping, or the same as
    a JSON object in a string (as the environment gives it)."""
    if setting is None or setting == "":
        return {}
    if isinstance(setting, str):
        try:
            setting = json.loads(setting)
        except ValueError:
            raise SendFailed("SMS_TEMPLATE_CODES is not valid JSON") from None
    if not isinstance(setting, Mapping):
        raise SendFailed("SMS_TEMPLATE_CODES must map template keys to provider template codes")
    return {str(key): str(code) for key, code in setting.items() if code not in (None, "")}


@dataclass
class TemplateProvider:
    """What both providers share: the checks before a message may go, and reading an answer."""

    sign_name: str | None
    codes: object = None  # SMS_TEMPLATE_CODES as configured (see template_codes)
    timeout: float = SEND_TIMEOUT_SECONDS

    label: ClassVar[str] = ""

    def template_of(self, message: Message) -> tuple[str, dict[str, str]]:
        """(the provider's template code, the parameters as strings), or SendFailed."""
        if message.channel != NotificationChannel.SMS:
            raise SendFailed(f"{self.label} sends text messages, not {message.channel}")
        if not self.sign_name:
            raise SendFailed("SMS_SIGN_NAME (or SMS_SENDER) must be set")
        if not message.template:
            raise SendFailed(f"{self.label} sends only registered templates; the message "
                             f"“{message.subject}” has none")
        code = template_codes(self.codes).get(message.template)
        if not code:
            raise SendFailed(f"SMS_TEMPLATE_CODES has no code for template {message.template!r}")
        template = REGISTRY.get(message.template)
        if template is None:
            raise SendFailed(f"no template {message.template!r} is declared")
        given = message.params or {}
        missing = [name for name in template.params if name not in given]
        if missing:
            raise SendFailed(f"template {message.template!r} is missing {', '.join(missing)}")
        # In the template's order, whatever order the database kept: Tencent Cloud's
        # TemplateParamSet is a list read as {1}, {2}… (templates.SmsTemplate.numbered_text).
        return code, {name: str(given[name]) for name in template.params}

    def answer(self, status: int, body: bytes) -> dict:
        try:
            data = json.loads(body.decode("utf-8"))
        except ValueError:
            raise SendFailed(f"{self.label} answered {status}, not JSON") from None
        if not isinstance(data, dict):
            raise SendFailed(f"{self.label} answered {status}, not a JSON object")
        return data


def _percent(value: str) -> str:
    """RFC 3986 percent-encoding of UTF-8, as Alibaba Cloud signs: only A-Z a-z 0-9 - _ . ~ kept
    (a space is %20, * is %2A)."""
    return quote(value, safe="")


def aliyun_signature(params: Mapping[str, str], secret: str, method: str = "POST") -> str:
    """Alibaba Cloud's RPC signature (version 1.0, HMAC-SHA1) of the request's parameters."""
    canonical = "&".join(f"{_percent(k)}={_percent(v)}" for k, v in sorted(params.items()))
    to_sign = f"{method}&{_percent('/')}&{_percent(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


@dataclass
class AliyunSms(TemplateProvider):
    access_key_id: str | None = None
    access_key_secret: str | None = field(default=None, repr=False)
    endpoint: str = ALIYUN_ENDPOINT
    region: str = "cn-hangzhou"

    name: ClassVar[str] = "aliyun"
    label: ClassVar[str] = "Alibaba Cloud SMS"

    @classmethod
    def from_config(cls, config: Mapping) -> AliyunSms:
        return cls(sign_name=config.get("SMS_SIGN_NAME") or config.get("SMS_SENDER"),
                   codes=config.get("SMS_TEMPLATE_CODES"),
                   access_key_id=config.get("SMS_ALIYUN_ACCESS_KEY_ID"),
                   access_key_secret=config.get("SMS_ALIYUN_ACCESS_KEY_SECRET"),
                   endpoint=config.get("SMS_ALIYUN_ENDPOINT") or ALIYUN_ENDPOINT,
                   region=config.get("SMS_ALIYUN_REGION") or "cn-hangzhou")

    def request(self, message: Message) -> urllib.request.Request:
        code, params = self.template_of(message)
        if not self.access_key_id or not self.access_key_secret:
            raise SendFailed("SMS_ALIYUN_ACCESS_KEY_ID and SMS_ALIYUN_ACCESS_KEY_SECRET must be set")
        _check_endpoint(self.endpoint, "SMS_ALIYUN_ENDPOINT")
        fields = {
            "AccessKeyId": self.access_key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "PhoneNumbers": message.recipient,
            "RegionId": self.region,
            "SignName": self.sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "TemplateCode": code,
            "TemplateParam": json.dumps(params, ensure_ascii=False, separators=(",", ":")),
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
        }
        fields["Signature"] = aliyun_signature(fields, self.access_key_secret)
        body = "&".join(f"{_percent(k)}={_percent(v)}" for k, v in fields.items())
        return urllib.request.Request(
            self.endpoint, data=body.encode("ascii"), method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                     "Accept": "application/json"})

    def send(self, message: Message) -> None:
        status, body = post(self.request(message), self.timeout, self.label)
        data = self.answer(status, body)
        if data.get("Code") != "OK":
            raise SendFailed(f"{self.label}: {data.get('Code') or status} "
                             f"{data.get('Message') or ''}".strip())


def tencent_authorization(secret_id: str, secret_key: str, host: str, payload: bytes,
                          timestamp: int, content_type: str, service: str = "sms") -> str:
    """Tencent Cloud API 3.0's Authorization header (TC3-HMAC-SHA256) of a JSON POST to /."""
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    canonical_request = "\n".join([
        "POST", "/", "",
        f"content-type:{content_type.lower()}\nhost:{host.lower()}\n",
        "content-type;host",
        hashlib.sha256(payload).hexdigest(),
    ])
    scope = f"{date}/{service}/tc3_request"
    to_sign = "\n".join(["TC3-HMAC-SHA256", str(timestamp), scope,
                         hashlib.sha256(canonical_request.encode()).hexdigest()])

    def sign(key: bytes, text: str) -> bytes:
        return hmac.new(key, text.encode(), hashlib.sha256).digest()

    key = sign(sign(sign(f"TC3{secret_key}".encode(), date), service), "tc3_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return (f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, SignedHeaders=content-type;host, "
            f"Signature={signature}")


@dataclass
class TencentSms(TemplateProvider):
    secret_id: str | None = None
    secret_key: str | None = field(default=None, repr=False)
    sdk_app_id: str | None = None
    endpoint: str = TENCENT_ENDPOINT
    region: str = "ap-guangzhou"
    clock: object = field(default=time.time, repr=False)

    name: ClassVar[str] = "tencent"
    label: ClassVar[str] = "Tencent Cloud SMS"
    CONTENT_TYPE: ClassVar[str] = "application/json; charset=utf-8"

    @classmethod
    def from_config(cls, config: Mapping) -> TencentSms:
        return cls(sign_name=config.get("SMS_SIGN_NAME") or config.get("SMS_SENDER"),
                   codes=config.get("SMS_TEMPLATE_CODES"),
                   secret_id=config.get("SMS_TENCENT_SECRET_ID"),
                   secret_key=config.get("SMS_TENCENT_SECRET_KEY"),
                   sdk_app_id=_text(config.get("SMS_TENCENT_SDK_APP_ID")),
                   endpoint=config.get("SMS_TENCENT_ENDPOINT") or TENCENT_ENDPOINT,
                   region=config.get("SMS_TENCENT_REGION") or "ap-guangzhou")

    def request(self, message: Message) -> urllib.request.Request:
        code, params = self.template_of(message)
        if not self.secret_id or not self.secret_key or not self.sdk_app_id:
            raise SendFailed("SMS_TENCENT_SECRET_ID, SMS_TENCENT_SECRET_KEY and "
                             "SMS_TENCENT_SDK_APP_ID must be set")
        host = _check_endpoint(self.endpoint, "SMS_TENCENT_ENDPOINT")
        recipient = message.recipient
        payload = json.dumps({
            "PhoneNumberSet": [recipient if recipient.startswith("+") else f"+86{recipient}"],
            "SmsSdkAppId": self.sdk_app_id,
            "SignName": self.sign_name,
            "TemplateId": code,
            # a list, in the order the template numbers its variables {1}, {2}…
            "TemplateParamSet": list(params.values()),
        }, ensure_ascii=False).encode("utf-8")
        timestamp = int(self.clock())
        return urllib.request.Request(self.endpoint, data=payload, method="POST", headers={
            "Content-Type": self.CONTENT_TYPE,
            "Host": host,
            "X-TC-Action": "SendSms",
            "X-TC-Version": "2021-01-11",
            "X-TC-Region": self.region,
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Language": "zh-CN",
            "Authorization": tencent_authorization(self.secret_id, self.secret_key, host,
                                                   payload, timestamp, self.CONTENT_TYPE),
        })

    def send(self, message: Message) -> None:
        status, body = post(self.request(message), self.timeout, self.label)
        response = self.answer(status, body).get("Response")
        if not isinstance(response, dict):
            raise SendFailed(f"{self.label} answered {status} without a Response")
        error = response.get("Error")
        if isinstance(error, dict):
            raise SendFailed(f"{self.label}: {error.get('Code')} {error.get('Message') or ''}"
                             .strip())
        sent = response.get("SendStatusSet")
        first = sent[0] if isinstance(sent, list) and sent and isinstance(sent[0], dict) else {}
        if first.get("Code") != "Ok":
            raise SendFailed(f"{self.label}: {first.get('Code') or status} "
                             f"{first.get('Message') or ''}".strip())


def _check_endpoint(endpoint: str, setting: str) -> str:
    """The endpoint's host (what is signed), or SendFailed for an address that is not http(s)."""
    parts = urlsplit(endpoint or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SendFailed(f"{setting} must be an http(s) address")
    return parts.netloc


def _text(value: object) -> str | None:
    """A setting that may come as a number from the environment (FLASK_…=1400… is JSON)."""
    return None if value in (None, "") else str(value)


PROVIDERS = (AliyunSms, TencentSms)
BACKENDS.update({provider.name: provider for provider in PROVIDERS})

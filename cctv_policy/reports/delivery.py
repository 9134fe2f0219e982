"""How notices leave (#28): e-mail over SMTP (STARTTLS, TLS or plain for a local relay) and
the WeCom group robot, DingTalk custom robot and generic JSON webhooks. Credentials, webhook
URLs and signing secrets come from environment variables that config.yaml names. A transport
raises DeliveryError when a message was not accepted; the caller then leaves it unsent, to be
tried again on the next run."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import smtplib
import socket
import ssl
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Protocol
from urllib.parse import urlencode, urlsplit

from cctv_policy.registry.notify_settings import EmailSettings, WebhookSettings

# WeCom's markdown content is at most 4096 bytes (UTF-8); DingTalk's is larger.
_MAX_BYTES = {"wecom": 4000, "dingtalk": 18000, "json": 60000}


class DeliveryError(Exception):
    """The message was not delivered (the reason is in the message)."""


@dataclass(frozen=True)
class Message:
    kind: str
    subject: str
    title: str
    body: str
    to: str | None = None  # the e-mail address; None for a webhook


class Transport(Protocol):
    channel: str

    def send(self, message: Message) -> None: ...


def _env(name: str | None, what: str) -> str | None:
    if name is None:
        return None
    value = os.environ.get(name)
    if not value:
        raise DeliveryError(f"{what}: environment variable {name} is not set")
    return value


@dataclass
class SmtpTransport:
    settings: EmailSettings
    channel: str = "email"
    _broken: str | None = field(default=None, init=False)

    def send(self, message: Message) -> None:
        if self._broken:  # the server could not be reached: do not wait once per message
            raise DeliveryError(self._broken)
        assert message.to is not None
        email = self._email(message)
        try:
            with self._connect() as smtp:
                self._login(smtp)
                smtp.send_message(email)
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(f"SMTP {exc.smtp_code}: {_text(exc.smtp_error)}") from exc
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(f"SMTP refused {message.to}: {exc.recipients}") from exc
        except (OSError, smtplib.SMTPException) as exc:
            self._broken = f"SMTP {self.settings.host}:{self.settings.port}: {exc}"
            raise DeliveryError(self._broken) from exc

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        # The EHLO name: the host name as configured; smtplib's default (getfqdn) asks DNS,
        # which on a machine without it waits for a timeout on every connection.
        helo = socket.gethostname()
        if s.security == "ssl":
            context = ssl.create_default_context()
            return smtplib.SMTP_SSL(
                s.host, s.port, helo, timeout=s.timeout_seconds, context=context
            )
        smtp = smtplib.SMTP(s.host, s.port, helo, timeout=s.timeout_seconds)
        if s.security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        return smtp

    def _login(self, smtp: smtplib.SMTP) -> None:
        user = _env(self.settings.username_env, "SMTP user")
        password = _env(self.settings.password_env, "SMTP password")
        if user is not None:
            smtp.login(user, password or "")

    def _email(self, message: Message) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self.settings.sender
        email["To"] = message.to
        email["Subject"] = message.title
        email["Date"] = formatdate(localtime=False)
        email["Message-ID"] = make_msgid(domain=self.settings.sender.rpartition("@")[2])
        email.set_content(message.body, charset="utf-8")
        return email


@dataclass
class WebhookTransport:
    settings: WebhookSettings
    channel: str = "webhook"

    def send(self, message: Message) -> None:
        url = _env(self.settings.url_env, f"webhook {self.settings.id}")
        assert url is not None
        if urlsplit(url).scheme not in ("http", "https"):
            raise DeliveryError(f"webhook {self.settings.id}: the URL is not http(s)")
        if self.settings.kind == "dingtalk":
            url = self._signed(url)
        payload = json.dumps(self.payload(message), ensure_ascii=False).encode()
        request = urllib.request.Request(
            url, data=payload, headers={"Content-Type": "application/json; charset=utf-8"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.settings.timeout_seconds) as answer:
                reply = answer.read(65536)
        except (OSError, urllib.error.URLError) as exc:
            raise DeliveryError(f"webhook {self.settings.id}: {exc}") from exc
        self._accepted(reply)

    def payload(self, message: Message) -> dict[str, object]:
        body = _cut(message.body, _MAX_BYTES[self.settings.kind])
        if self.settings.kind == "wecom":
            return {"msgtype": "markdown", "markdown": {"content": f"# {message.title}\n{body}"}}
        if self.settings.kind == "dingtalk":
            return {"msgtype": "markdown", "markdown": {"title": message.title, "text": body}}
        return {
            "kind": message.kind,
            "subject": message.subject,
            "title": message.title,
            "text": body,
        }

    def _signed(self, url: str) -> str:
        """DingTalk's signing (加签): HMAC-SHA256 of "<ms timestamp>\\n<secret>" keyed by the
        secret, base64, as the `timestamp` and `sign` query parameters."""
        secret = _env(self.settings.secret_env, f"webhook {self.settings.id} secret")
        if secret is None:
            return url
        timestamp = str(int(time.time() * 1000))
        digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256)
        query = urlencode({"timestamp": timestamp, "sign": base64.b64encode(digest.digest())})
        return f"{url}{'&' if '?' in url else '?'}{query}"

    def _accepted(self, reply: bytes) -> None:
        """WeCom and DingTalk answer HTTP 200 with {"errcode": 0} only when they took it."""
        if self.settings.kind == "json":
            return
        try:
            answer = json.loads(reply)
        except ValueError:
            answer = None
        if not isinstance(answer, dict) or answer.get("errcode") != 0:
            raise DeliveryError(f"webhook {self.settings.id} refused: {_text(reply)[:200]}")


def _cut(text: str, limit: int) -> str:
    data = text.encode()
    return text if len(data) <= limit else data[: limit - 3].decode(errors="ignore") + "..."


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value

"""`cctv-policy notify` (#28): what is due reaches people, by real e-mail (a local aiosmtpd
server) and real webhooks (a local HTTP receiver), once per day per notice and recipient,
bilingual and in campus time; a delivery that fails is reported and sent again next run.

Sending runs on the system clock, so the registry is the example campus, whose overdue report
(REQ-2026-0018), pending requests (REQ-2026-0046/0047) and overdue service (CAM-CAN-03) stay
due on any later date; footage is written relative to the real now."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cctv_policy.audit.log import AuditLog
from cctv_policy.cli.main import cli
from cctv_policy.demo import write_footage
from testing.helpers import DEMO_LAYOUT
from testing.receivers import Inbox, SmtpServer, WebhookReceiver

DING_SECRET = "SECtest-signing-secret"
CAMPUS_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d \(北京时间, UTC\+08:00\)")


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, SmtpServer]]:
    box = Inbox()
    server = SmtpServer(box)
    server.start()
    yield box, server
    server.stop()


@pytest.fixture
def hooks(monkeypatch: pytest.MonkeyPatch) -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        monkeypatch.setenv("T_WECOM_URL", receiver.url("/cgi-bin/webhook/send?key=k1"))
        monkeypatch.setenv("T_DING_URL", receiver.url("/robot/send?access_token=t1"))
        monkeypatch.setenv("T_DING_SECRET", DING_SECRET)
        monkeypatch.setenv("T_JSON_URL", receiver.url("/hooks/cctv"))
        yield receiver


def notifying_campus(registry: Path, smtp_port: int) -> None:
    """The example campus with e-mail addresses and the three kinds of webhook."""
    people = registry / "people.yaml"
    text = people.read_text(encoding="utf-8")
    text = re.sub(r"(  - id: (\S+)\n)", r"\1    email: \2@campus.example.edu\n", text)
    people.write_text(text, encoding="utf-8")
    with (registry / "config.yaml").open("a", encoding="utf-8") as config:
        config.write(
            "notifications:\n"
            "  pending_after_hours: 24\n"
            "  admins: [m.guo]\n"
            f"  email: {{host: 127.0.0.1, port: {smtp_port}, security: none, "
            "sender: cctv@campus.example.edu}\n"
            "  webhooks:\n"
            "    - {id: office-wecom, kind: wecom, url_env: T_WECOM_URL, "
            "audiences: [security_office, admin]}\n"
            "    - {id: tech-dingtalk, kind: dingtalk, url_env: T_DING_URL, "
            "secret_env: T_DING_SECRET, audiences: [technician]}\n"
            "    - {id: ops-json, kind: json, url_env: T_JSON_URL, "
            "audiences: [applicant, security_office, technician, admin]}\n"
        )


@pytest.fixture
def campus(tmp_path: Path, registry_copy: Path, inbox) -> dict[str, Path]:
    notifying_campus(registry_copy, inbox[1].port)
    now = datetime.now(UTC)
    nas = tmp_path / "nas"
    write_footage(
        nas, DEMO_LAYOUT, ["CAM-GATE-01", "CAM-LAB-02"], now, days=5, silent=["CAM-LAB-02"]
    )
    audit = tmp_path / "audit" / "audit.jsonl"
    audit.parent.mkdir()
    log = AuditLog(audit)
    log.append("refused", command="apply", reason="the clock disagrees with the newest footage")
    return {"registry": registry_copy, "nas": nas, "audit": audit}


def notify(campus: dict[str, Path], *extra: str) -> Result:
    args = ["notify", "--registry", str(campus["registry"]), "--audit-log", str(campus["audit"])]
    args += ["--storage-root", f"nas-main={campus['nas']}", *extra]
    return CliRunner().invoke(cli, args)


def sent_to(box: Inbox) -> dict[str, list[str]]:
    """address -> the subjects it received."""
    by_address: dict[str, list[str]] = {}
    for recipients, message in box.messages:
        for address in recipients:
            by_address.setdefault(address, []).append(str(message["Subject"]))
    return by_address


def test_due_notices_reach_the_right_people_by_real_email(campus, inbox, hooks):
    box, _ = inbox
    result = notify(campus)
    assert result.exit_code == 0, result.output
    got = sent_to(box)
    # The overdue usage report (R11): its applicant and every security officer.
    for person in ("l.chen", "s.zhou", "h.liu", "m.guo"):
        assert any("REQ-2026-0018" in s for s in got[f"{person}@campus.example.edu"]), person
    # A silent camera and an overdue service: the technicians, not the applicants.
    for person in ("j.ma", "k.wu"):
        subjects = got[f"{person}@campus.example.edu"]
        assert any("CAM-LAB-02" in s for s in subjects)
        assert any("CAM-CAN-03" in s for s in subjects)
    assert not any("CAM-" in s for s in got["l.chen@campus.example.edu"])
    # Pending longer than 24 hours: the security office. A refused apply: the admin.
    assert any("REQ-2026-0046" in s for s in got["h.liu@campus.example.edu"])
    assert any("apply" in s.lower() for s in got["m.guo@campus.example.edu"])
    assert not any("apply" in s.lower() for s in got["h.liu@campus.example.edu"])
    # Each e-mail goes to one person, bilingual, Chinese first, in campus time with its zone.
    recipients, message = next(
        (r, m) for r, m in box.messages if "REQ-2026-0018" in str(m["Subject"])
    )
    assert len(recipients) == 1 and message["From"] == "cctv@campus.example.edu"
    body = message.get_content()
    assert body.index("使用情况报告") < body.index("usage report")
    assert CAMPUS_TIME.search(body) and "CST" not in body


def test_webhooks_get_their_documented_shapes_and_dingtalk_is_signed(campus, hooks):
    assert notify(campus).exit_code == 0
    wecom = [p for p in hooks.posted if p.path == "/cgi-bin/webhook/send"]
    ding = [p for p in hooks.posted if p.path == "/robot/send"]
    generic = [p for p in hooks.posted if p.path == "/hooks/cctv"]
    assert wecom and ding and generic
    for post in wecom:
        assert set(post.body) == {"msgtype", "markdown"} and post.body["msgtype"] == "markdown"
        assert set(post.body["markdown"]) == {"content"}
    assert any("REQ-2026-0046" in p.body["markdown"]["content"] for p in wecom)
    assert not any("CAM-LAB-02" in p.body["markdown"]["content"] for p in wecom)
    for post in ding:
        assert post.body["msgtype"] == "markdown"
        assert set(post.body["markdown"]) == {"title", "text"}
        timestamp, sign = post.query["timestamp"][0], post.query["sign"][0]
        digest = hmac.new(
            DING_SECRET.encode(), f"{timestamp}\n{DING_SECRET}".encode(), hashlib.sha256
        ).digest()
        assert sign == base64.b64encode(digest).decode()
        assert abs(int(timestamp) / 1000 - datetime.now(UTC).timestamp()) < 120
    assert any("CAM-LAB-02" in p.body["markdown"]["text"] for p in ding)
    kinds = {p.body["kind"] for p in generic}
    assert {"report_overdue", "camera_silent", "request_pending", "apply_refused"} <= kinds
    # Every notice names its moment in campus time (a camera with no footage at all has none).
    timed = [p for p in generic if "at all on its storage" not in p.body["text"]]
    assert {p.body["kind"] for p in timed} >= kinds - {"camera_silent"}
    missing = [p.body["title"] for p in timed if not CAMPUS_TIME.search(p.body["text"])]
    assert missing == []


def test_each_notice_once_per_day_and_again_the_next_day(campus, inbox, hooks):
    box, _ = inbox
    assert notify(campus).exit_code == 0
    first = len(box.messages)
    assert first > 0
    again = notify(campus, "--format", "json")
    assert again.exit_code == 0
    assert json.loads(again.output)["sent"] == 0 and len(box.messages) == first
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat(timespec="seconds")
    preview = notify(campus, "--dry-run", "--now", tomorrow, "--format", "json")
    due = json.loads(preview.output)["notices"]
    assert any(n["subject"] == "request:REQ-2026-0018" for n in due)
    # The refused apply was told once; it is not news tomorrow.
    assert not any(n["kind"] == "apply_refused" for n in due)
    assert len(box.messages) == first  # a dry run sends nothing


def test_now_is_only_for_dry_runs(campus):
    result = notify(campus, "--now", "2026-11-26T09:00:00+08:00")
    assert result.exit_code == 2 and "--dry-run" in result.output


def test_a_failed_smtp_delivery_is_reported_and_sent_on_the_next_run(campus, inbox, hooks):
    box, _ = inbox
    box.refuse = 1000
    failed = notify(campus, "--format", "json")
    assert failed.exit_code == 5, failed.output
    report = json.loads(failed.output)
    assert report["failed"] > 0 and box.messages == []
    assert any("451" in (n.get("error") or "") for n in report["notices"])
    box.refuse = 0
    retried = notify(campus)
    assert retried.exit_code == 0, retried.output
    assert any("REQ-2026-0018" in str(m["Subject"]) for _, m in box.messages)


def test_a_waived_silent_camera_is_not_chased(campus, inbox, hooks):
    box, _ = inbox
    (campus["registry"] / "waivers" / "WAIVER-2026-0002.yaml").write_text(
        "id: WAIVER-2026-0002\ncode: CAMERA_SILENT\nsubject: camera:CAM-LAB-02\n"
        "reason: Awaiting a replacement lens\n"
        f"until: {(datetime.now(UTC) + timedelta(days=10)).isoformat(timespec='seconds')}\n"
        "decided_by: h.liu\ndecided_at: 2026-11-21T15:30:00+08:00\n",
        encoding="utf-8",
    )
    assert notify(campus).exit_code == 0
    assert box.messages and not any("CAM-LAB-02" in str(m["Subject"]) for _, m in box.messages)


def test_starttls_with_credentials_from_the_environment(
    tmp_path, registry_copy, monkeypatch, hooks
):
    """The school's relay: STARTTLS against a certificate the system trusts (a CA of its own
    here, through SSL_CERT_FILE), then AUTH with the user and password the environment holds."""
    import ssl

    import trustme
    from aiosmtpd.smtp import AuthResult

    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    monkeypatch.setenv("T_SMTP_USER", "cctv-bot")
    monkeypatch.setenv("T_SMTP_PASSWORD", "s3cret")
    logins: list[tuple[bytes, bytes]] = []

    def authenticate(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"s3cret")

    box = Inbox()
    server = SmtpServer(box, tls_context=context, require_starttls=True, authenticator=authenticate)
    server.start()
    try:
        notifying_campus(registry_copy, server.port)
        config = registry_copy / "config.yaml"
        config.write_text(
            config.read_text(encoding="utf-8").replace(
                "security: none,",
                "security: starttls, username_env: T_SMTP_USER, password_env: T_SMTP_PASSWORD,",
            ),
            encoding="utf-8",
        )
        audit = tmp_path / "audit.jsonl"
        AuditLog(audit).append("setup")
        args = ["notify", "--registry", str(registry_copy), "--audit-log", str(audit)]
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
        assert box.messages and logins and logins[0] == (b"cctv-bot", b"s3cret")
    finally:
        server.stop()

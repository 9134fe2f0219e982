"""Real local receivers for notification tests: an SMTP server (aiosmtpd) and an HTTP webhook
receiver (http.server), each on 127.0.0.1 on a port the system picks, in a thread."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller


@dataclass
class Inbox:
    """What the SMTP server accepted; `refuse` answers the next N messages with a 451."""

    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    refuse: int = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.refuse > 0:
            self.refuse -= 1
            return "451 4.3.0 mailbox busy, try again later"
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 OK"


class SmtpServer(Controller):
    """aiosmtpd's controller on port 0: the real port is read from the bound socket."""

    def __init__(self, inbox: Inbox, **kwargs: Any) -> None:
        super().__init__(inbox, hostname="127.0.0.1", port=0, **kwargs)

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@dataclass
class Posted:
    path: str
    query: dict[str, list[str]]
    body: dict[str, Any]


class WebhookReceiver:
    """Records every POST; answers like WeCom and DingTalk do ({"errcode": 0, ...})."""

    def __init__(self) -> None:
        self.posted: list[Posted] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length))
                parts = urlsplit(self.path)
                receiver.posted.append(Posted(parts.path, parse_qs(parts.query), body))
                answer = json.dumps({"errcode": 0, "errmsg": "ok"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def __enter__(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

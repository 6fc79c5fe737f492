"""Real servers the alert tests talk to, on 127.0.0.1: an SMTP server (aiosmtpd) and an HTTP
server that keeps every JSON body it is posted. Each records what it received."""

from __future__ import annotations

import json
import socket
import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpServer:
    """``with SmtpServer() as smtp:`` — ``smtp.address`` is host:port, ``smtp.messages`` what
    arrived."""

    def __init__(self):
        self.messages: list[EmailMessage] = []
        outer = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
                outer.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()


class WebhookServer:
    """``with WebhookServer() as hook:`` — ``hook.url``, ``hook.bodies`` (parsed JSON, the
    requests it answered 2xx). ``statuses``: the answer to each request in turn (the last
    one repeats); ``hang``: seconds it waits before answering."""

    def __init__(self, status: int = 200, statuses: list[int] | None = None, hang: float = 0):
        self.bodies: list[dict] = []
        self.requests = 0
        answers = list(statuses or [status])
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length))
                answer = answers[min(outer.requests, len(answers) - 1)]
                outer.requests += 1
                if hang:
                    time.sleep(hang)
                if answer < 300:
                    outer.bodies.append(body)
                self.send_response(answer)
                self.end_headers()

            def log_message(self, *args):  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

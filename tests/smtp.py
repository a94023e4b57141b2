"""A real SMTP server in the test process (aiosmtpd), collecting what it is sent.

`SmtpServer(...)` listens on 127.0.0.1 on a free port in aiosmtpd's own thread; `messages`
holds each accepted message parsed (`email.message.EmailMessage`), with its envelope. Modes:
plain (no TLS), `tls="starttls"` (STARTTLS offered and required), `tls="tls"` (TLS from the
first byte), with a trustme certificate for 127.0.0.1; `users` turns AUTH on. `refuse` makes
it answer 550 to every recipient (a relay that says no).
"""

from __future__ import annotations

import email
import email.policy
import re
import ssl
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def body(self) -> str:
        # On the wire lines end in CRLF; the text as written has plain line ends.
        return self.message.get_content().replace("\r\n", "\n")

    def link(self, path_prefix: str) -> str:
        """The one URL in the body whose path starts with `path_prefix`."""
        found = re.findall(r"https?://\S+", self.body)
        matching = [url for url in found if path_prefix in url]
        assert len(matching) == 1, self.body
        return matching[0]


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if self.server.refuse:
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.server.arrived:
            self.server.messages.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), parsed)
            )
            self.server.arrived.notify_all()
        return "250 Message accepted"


class SmtpServer:
    def __init__(
        self,
        port: int,
        tls: str = "none",
        users: dict[str, str] | None = None,
        ca: trustme.CA | None = None,
    ) -> None:
        assert tls in ("none", "starttls", "tls")
        self.tls = tls
        self.users = users or {}
        self.refuse = False
        self.messages: list[Received] = []
        self.arrived = threading.Condition()
        self.port = port
        self.ca = ca or trustme.CA()
        kwargs: dict[str, Any] = {}
        if tls != "none":
            server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.ca.issue_cert("127.0.0.1", "localhost").configure_cert(server_context)
            kwargs["ssl_context" if tls == "tls" else "tls_context"] = server_context
            if tls == "starttls":
                kwargs["require_starttls"] = True
        if self.users:
            kwargs["authenticator"] = self._authenticate
            # aiosmtpd counts only STARTTLS as TLS for AUTH; with TLS from the first byte it
            # would hide AUTH.
            kwargs["auth_require_tls"] = tls == "starttls"
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port, **kwargs)

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and self.users.get(auth_data.login.decode()) == auth_data.password.decode()
        )
        return AuthResult(success=ok, handled=False)  # handled=True would send no answer

    def client_tls(self) -> ssl.SSLContext:
        """A client context that trusts this server's certificate (for the Mailer)."""
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return context

    def mail_config(self, **extra: Any) -> dict[str, Any]:
        """The [mail] section that sends here."""
        return {
            "host": "127.0.0.1",
            "port": self.port,
            "security": self.tls,
            "from": "QRStudio Box <qr@box.example>",
            **extra,
        }

    def to(self, address: str) -> list[Received]:
        with self.arrived:
            return [m for m in self.messages if address in m.rcpt_tos]

    def wait_for(self, address: str, count: int = 1, timeout: float = 10.0) -> Received:
        """The latest message to `address`, once `count` have arrived (for mails sent in the
        background, after the answer)."""
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len(found := [m for m in self.messages if address in m.rcpt_tos]) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"no mail to {address} within {timeout}s: {self.messages}"
                self.arrived.wait(left)
        return found[-1]

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

"""The mailer against a real SMTP server in this process (tests/smtp.py): plain, STARTTLS and
TLS, with and without AUTH, and every way a send fails (answered False, logged, never raised)."""

from __future__ import annotations

import asyncio
import logging

import pytest
from litestar.testing import TestClient

from qrstudio_box.app import create_app
from qrstudio_box.config import settings_from_mapping
from qrstudio_box.mail.domain import MAIL_OFF
from qrstudio_box.mail.service import Mailer, compose

from ..conftest import free_port
from ..smtp import SmtpServer

BODY = "Hello,\n\nyour link: https://qr.example.com/admin/invite/abc\n"


def mailer_for(server: SmtpServer, trust: bool = True, **extra) -> Mailer:
    settings = settings_from_mapping({"mail": server.mail_config(**extra)})
    return Mailer(settings.mail, tls=server.client_tls() if trust else None)


def send(mailer: Mailer, to: str = "ana@example.com") -> bool:
    return asyncio.run(mailer.send(to, "Your link", BODY))


def test_a_plain_relay_receives_the_message_as_sent(smtp_server):
    assert send(mailer_for(smtp_server)) is True
    [received] = smtp_server.messages
    assert received.rcpt_tos == ["ana@example.com"]
    assert received.mail_from == "qr@box.example"
    assert received.message["From"] == "QRStudio Box <qr@box.example>"
    assert received.message["To"] == "ana@example.com"
    assert received.message["Subject"] == "Your link"
    assert received.body == BODY
    assert received.link("/admin/invite/") == "https://qr.example.com/admin/invite/abc"


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_starttls_and_tls_with_authentication(security):
    users = {"box": "relay-password"}
    with SmtpServer(free_port(), tls=security, users=users) as server:
        assert send(mailer_for(server, user="box", password="relay-password")) is True
        assert [m.rcpt_tos for m in server.messages] == [["ana@example.com"]]
        # A wrong password is refused by the relay: not sent, nothing arrives.
        assert send(mailer_for(server, user="box", password="wrong"), "bo@example.com") is False
        assert server.to("bo@example.com") == []


def test_a_certificate_the_mailer_does_not_trust_is_not_sent_to():
    with SmtpServer(free_port(), tls="starttls") as server:
        assert send(mailer_for(server, trust=False)) is False
        assert server.messages == []


def test_starttls_required_but_the_relay_offers_none_is_not_sent(smtp_server):
    assert send(mailer_for(smtp_server, security="starttls")) is False
    assert smtp_server.messages == []


def test_refused_recipient_closed_port_and_mail_off_answer_false(smtp_server, caplog):
    smtp_server.refuse = True
    with caplog.at_level(logging.WARNING, logger="qrstudio_box.mail"):
        assert send(mailer_for(smtp_server)) is False
    assert smtp_server.messages == []
    [line] = [r.getMessage() for r in caplog.records]
    assert line.startswith(
        f"mail to ana@example.com not sent through 127.0.0.1:{smtp_server.port}: "
        "SMTPRecipientsRefused"
    ), line

    closed = settings_from_mapping(
        {"mail": {"host": "127.0.0.1", "port": free_port(), "security": "none", "from": "a@b.c"}}
    )
    assert asyncio.run(Mailer(closed.mail).send("ana@example.com", "s", "b")) is False
    assert asyncio.run(Mailer(settings_from_mapping({}).mail).send("a@b.c", "s", "b")) is False


def test_a_line_break_in_a_subject_adds_no_header():
    message = compose("a@b.c", "d@e.f", "Join Bistro\r\nBcc: victim@example.com", "body")
    assert message["Subject"] == "Join Bistro Bcc: victim@example.com"
    assert message["Bcc"] is None


@pytest.mark.parametrize(
    ("mail", "line"),
    [
        ({}, MAIL_OFF),
        (
            {"host": "smtp.example.com", "from": "QR <qr@example.com>"},
            "mail: sending through smtp.example.com:587 (starttls) as QR <qr@example.com>",
        ),
    ],
)
def test_the_start_says_whether_mail_is_on(tmp_path, caplog, mail, line):
    settings = settings_from_mapping({"storage": {"data_dir": str(tmp_path)}, "mail": mail})
    with caplog.at_level(logging.INFO, logger="qrstudio_box.mail"):
        with TestClient(create_app(settings)):
            pass
    assert [r.getMessage() for r in caplog.records if r.name == "qrstudio_box.mail"] == [line]

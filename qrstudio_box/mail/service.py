"""The mailer: one message at a time through the configured SMTP relay ([mail]).

The standard library speaks SMTP (smtplib, email.message); each send runs in a worker thread
(asyncio.to_thread), so a slow relay never blocks the event loop. Mail is a courtesy, never a
reason for a request to fail: `send` answers whether the message was accepted by the relay,
and every failure (refused connection, TLS, authentication, a refused recipient, a timeout) is
logged as one line and answered False, so the caller shows the link instead.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from email.message import EmailMessage

from ..config import MailSettings

log = logging.getLogger("qrstudio_box.mail")

# Seconds for the connection and each SMTP command: the caller (an owner inviting someone)
# waits for the answer, so a relay that hangs must not hold the request for long.
SEND_TIMEOUT_SECONDS = 10.0


def compose(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text message. Header values are one line: a line break in a subject (a
    workspace name, say) would otherwise let its text add headers."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = " ".join(subject.split())
    message.set_content(body)
    return message


class Mailer:
    """`ctx.mail`, set by the mail domain's start."""

    def __init__(self, settings: MailSettings, tls: ssl.SSLContext | None = None) -> None:
        self.settings = settings
        # The certificates trusted for starttls and tls: the system's unless given (tests).
        self.tls = tls or ssl.create_default_context()
        self._pending: set[asyncio.Task[bool]] = set()

    @property
    def enabled(self) -> bool:
        return bool(self.settings.host)

    async def send(self, to: str, subject: str, body: str) -> bool:
        """Whether the relay accepted the message (False when mail is off or it failed)."""
        if not self.enabled:
            return False
        message = compose(self.settings.sender, to, subject, body)
        try:
            await asyncio.to_thread(self._deliver, message)
        except (OSError, smtplib.SMTPException) as error:  # ssl.SSLError is an OSError
            log.warning(
                "mail to %s not sent through %s:%s: %s",
                to,
                self.settings.host,
                self.settings.port,
                error.__class__.__name__ + (f": {error}" if str(error) else ""),
            )
            return False
        log.info("mail sent to %s: %s", to, message["Subject"])
        return True

    def send_later(self, to: str, subject: str, body: str) -> None:
        """Send without making the caller wait (an answer that must take the same time whether
        a mail went out or not). The mail domain's stop waits for what is still going."""
        if not self.enabled:
            return
        task = asyncio.get_running_loop().create_task(self.send(to, subject, body))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def drain(self) -> None:
        """Wait for the mails `send_later` started (each ends within its timeouts)."""
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)

    def _deliver(self, message: EmailMessage) -> None:
        mail = self.settings
        if mail.security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                mail.host, mail.port, timeout=SEND_TIMEOUT_SECONDS, context=self.tls
            )
        else:
            smtp = smtplib.SMTP(mail.host, mail.port, timeout=SEND_TIMEOUT_SECONDS)
        with smtp:
            if mail.security == "starttls":
                smtp.starttls(context=self.tls)
            if mail.user:
                smtp.login(mail.user, mail.password)
            smtp.send_message(message)

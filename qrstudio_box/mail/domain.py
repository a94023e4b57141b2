"""Mail: the mailer (`ctx.mail`) that sends invitations and password-reset links."""

from __future__ import annotations

import logging

from ..context import AppContext
from .service import Mailer

log = logging.getLogger("qrstudio_box.mail")

ROUTES: list = []

# Said at INFO: mail off is a fine way to run a box (the links are shown instead), not a
# mistake to warn about at every start.
MAIL_OFF = (
    "[mail] host is not set: mail is off, so invitation and password-reset links are shown in "
    "the API answers and the UI for you to pass on; to mail them, set [mail] host and from "
    "(or QRSTUDIO_MAIL_HOST and QRSTUDIO_MAIL_FROM)"
)


async def start(ctx: AppContext) -> None:
    ctx.mail = Mailer(ctx.settings.mail)
    mail = ctx.settings.mail
    if ctx.mail.enabled:
        log.info(
            "mail: sending through %s:%s (%s) as %s",
            mail.host,
            mail.port,
            mail.security,
            mail.sender,
        )
    else:
        log.info(MAIL_OFF)


async def stop(ctx: AppContext) -> None:
    await ctx.mail.drain()

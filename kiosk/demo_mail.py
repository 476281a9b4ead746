"""The demo's mailbox: an SMTP server on loopback that keeps each message as an .eml file.

`make run` starts it (`kiosk demo-mail`) beside the kiosk and its notifier (`kiosk notify`),
and the demo site's hosts, reception and security have mailto:// channels to it
(`demo_mail_url`), so a newcomer can read every notification the demo sends: one file per
message in the `mail` folder beside the demo's kiosk.toml (data/demo/mail/), named by
time, recipient and subject, mode 0600 (they name visitors and carry their photos). It
listens on 127.0.0.1 only and relays nothing, so the demo needs no network and no mail
can leave the machine.

A demo tool: a real site's channels are its own mail server, chat apps or webhooks. It
needs aiosmtpd, which `make bootstrap` installs (requirements/dev.lock) and a kiosk's
lock does not.
"""

from __future__ import annotations

import email
import email.policy
import logging
import re
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk.dbkit.private_files import write_private_bytes
from kiosk.domain.errors import KioskError

if TYPE_CHECKING:
    from aiosmtpd.controller import Controller

log = logging.getLogger(__name__)

DEMO_MAIL_HOST = "127.0.0.1"
#: Fixed, because the demo's channel URLs name it; aiosmtpd's own default.
DEMO_MAIL_PORT = 8025
DEMO_MAIL_SENDER = "kiosk@demo.invalid"
#: The longest subject part of a file name, in characters.
_SUBJECT_IN_NAME = 40
_NOT_IN_NAME = re.compile(r"[^\w@.]+")


def demo_mail_url(recipient: str, port: int = DEMO_MAIL_PORT) -> str:
    """The apprise URL that mails `recipient` through the demo's mailbox: plain SMTP
    (`mode=insecure`: no TLS on loopback), no login."""
    return f"mailto://{DEMO_MAIL_HOST}:{port}?mode=insecure&from={DEMO_MAIL_SENDER}&to={recipient}"


def mail_folder_for(config_file: Path) -> Path:
    """Where the demo's mail lands: `mail/` beside its kiosk.toml."""
    return config_file.parent / "mail"


class MailFolder:
    """An aiosmtpd handler: every message accepted becomes one file in `folder`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        path = self.keep(envelope.content, list(envelope.rcpt_tos))
        log.info("mail to %s: %s", ", ".join(envelope.rcpt_tos), path)
        return "250 OK"

    def keep(self, content: bytes, recipients: list[str]) -> Path:
        """Write one message; its file name reads like `20261206-213005-li.na@example.com-
        访客到达-Zhang-Wei.eml`, with `-2`, `-3` added should two share a second."""
        message = email.message_from_bytes(content, policy=email.policy.default)
        subject = _NOT_IN_NAME.sub("-", str(message.get("Subject", ""))).strip("-.")
        recipient = _NOT_IN_NAME.sub("-", recipients[0] if recipients else "nobody")
        parts = [datetime.now().strftime("%Y%m%d-%H%M%S"), recipient.strip("-.")]
        if subject:
            parts.append(subject[:_SUBJECT_IN_NAME].rstrip("-."))
        stem = "-".join(parts)
        path = self.folder / f"{stem}.eml"
        number = 1
        while path.exists():
            number += 1
            path = self.folder / f"{stem}-{number}.eml"
        write_private_bytes(path, content)
        return path


def start_demo_mail(folder: Path, port: int = DEMO_MAIL_PORT) -> Controller:
    """The mailbox, listening on DEMO_MAIL_HOST:`port` in a thread of its own; returned
    once it answers. Stop it with `.stop()`."""
    try:
        from aiosmtpd.controller import Controller
    except ImportError as err:
        raise KioskError(
            "the demo mailbox needs aiosmtpd: run `make bootstrap` (it installs "
            "requirements/dev.lock), or `pip install aiosmtpd`"
        ) from err
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    controller = Controller(
        MailFolder(folder), hostname=DEMO_MAIL_HOST, port=port, enable_SMTPUTF8=True
    )
    try:
        controller.start()
    except OSError as err:  # most often: another demo mailbox has the port
        where = f"{DEMO_MAIL_HOST}:{port}"
        raise KioskError(f"the demo mailbox cannot listen on {where}: {err}") from err
    return controller

"""Short links for text messages: at most 40 characters, as an SMS wants them.

A kiosk's link (kiosk.notify.links) is ~180 characters: its token carries the claim and an
Ed25519 signature, so the office can verify it with no database. A text message (a channel
whose body apprise limits to an SMS's 160 characters: Twilio, SNS, ClickSend ...) gets
instead `<office>/s/<code>`: ten random letters and digits (59 bits), which the kiosk tells
the office with an outbox event `link.short` (code and full token) through the same sync
as everything else. The office's page for the short link (kiosk.office.web.links) looks
the token up and shows the same page as the full link: the token is still the
capability, verified as ever; the code only names it. Until the office has the event
(its next sync, seconds later) the short link says the office has not heard of it yet.
"""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Callable

from kiosk.notify.channels import Message
from kiosk.sync.wire import EventKind

SHORT_KIND = EventKind.LINK_SHORT
CODE_LENGTH = 10
#: The longest short link wanted (with an office URL of up to 27 characters).
MAX_LENGTH = 40
_ALPHABET = string.ascii_letters + string.digits
_CODE = re.compile(rf"[A-Za-z0-9]{{{CODE_LENGTH}}}")
_TOKEN = r"v2\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"


def new_code() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(CODE_LENGTH))


def is_code(text: str) -> bool:
    return _CODE.fullmatch(text) is not None


def short_base(link_base: str) -> str:
    """The short links' base beside the full links' (`…/l/` becomes `…/s/`)."""
    root = link_base[: -len("l/")] if link_base.endswith("/l/") else link_base
    return root if root.endswith("/") else root + "/"


def shorten(message: Message, link_base: str, register: Callable[[str, str], None]) -> Message:
    """`message` with each full link replaced by a short one; `register(code, token)` is
    called for each, for the office to learn it."""
    short = short_base(link_base) + "s/"

    def replace(found: re.Match[str]) -> str:
        code = new_code()
        register(code, found[1])
        return short + code

    pattern = re.compile(re.escape(link_base) + f"({_TOKEN})")
    return Message(message.title, pattern.sub(replace, message.body), message.attachments)

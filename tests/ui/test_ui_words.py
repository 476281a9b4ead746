"""What the done and waiting screens say about who was told (kiosk.ui.flow), for every
state the notifier can be in: "told" only once a message was sent, and the guard named
when there was nobody to tell. Pure functions: no window needed."""

from __future__ import annotations

import pytest

from kiosk.ui.flow import Phrase, approval_words, arrival_words
from kiosk.ui.i18n import translate
from kiosk.ui.services import HostNotice


def said(words: tuple[str, str, str, dict[str, str]], language: str = "en") -> str:
    tone, title, body, args = words
    shown = {k: translate(v, language) if isinstance(v, Phrase) else v for k, v in args.items()}
    return f"{tone} | {translate(title, language).format(**shown)} | " + translate(
        body, language
    ).format(**shown)


@pytest.mark.parametrize(
    ("notice", "expected"),
    [
        (HostNotice("sending", "host", "李娜", "email"), "info | Telling 李娜 by e-mail…"),
        (HostNotice("sent", "host", "李娜", "email"), "ok | 李娜 has been told by e-mail"),
        (HostNotice("sent", "host", "李娜", "wecom"), "ok | 李娜 has been told on WeCom"),
        (HostNotice("sent", "delegate", "Amy", "email"), "ok | Amy has been told by e-mail"),
        (HostNotice("sent", "reception", "", "email"), "ok | Reception has been told by e-mail"),
        (
            HostNotice("retrying", "host", "李娜", "email"),
            "info | 李娜 will be told by e-mail once the network is back",
        ),
        (HostNotice("nobody"), "warn | We could not reach 李娜"),
    ],
)
def test_arrival_words_say_only_what_happened(notice: HostNotice, expected: str) -> None:
    assert said(arrival_words(notice, "李娜")).startswith(expected + " | ")


def test_nobody_to_tell_names_the_guard_in_every_language() -> None:
    words = arrival_words(HostNotice("nobody"), "李娜")
    assert "guard" in said(words)
    assert "保安" in said(words, "zh_Hans") and "保安" in said(words, "zh_Hant")


def test_the_approval_is_asked_for_only_once_sent() -> None:
    sending = said(approval_words(HostNotice("sending", "host", "李娜", "email"), "李娜"))
    sent = said(approval_words(HostNotice("sent", "host", "李娜", "email"), "李娜"))
    assert "We are asking 李娜 by e-mail" in sending and "We have asked 李娜 by e-mail" in sent
    assert said(approval_words(HostNotice("sent", "host", "李娜", "email"), "李娜"), "zh_Hans") == (
        "info | 请稍坐等候 | 我们已通过电子邮件请李娜确认您的来访。前台会叫您并发放访客证。"
    )

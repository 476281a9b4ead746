"""The office pages in zh_Hans, zh_Hant and English: the catalogues are complete and
current, every page of every role speaks the reader's language (the account's, or before
sign-in the browser's or the login page's choice), the language switch is a CSRF-protected
change saved on the account, and messages made in Python are translated too."""

from __future__ import annotations

import functools
import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from conftest import SITE, WebOffice
from office_visits_support import FakeKiosk, in_shanghai
from tests_support import MONDAY_10AM

from kiosk.office.models import StaffUser
from kiosk.office.web import templating
from kiosk.office.web.templating import LOCALE_DIR, Translator, translations

WEB = Path(templating.__file__).parent
CHINESE = ("zh_Hans", "zh_Hant")
HTML_LANG = {"zh_Hans": "zh-Hans", "zh_Hant": "zh-Hant", "en": "en"}
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
#: Names that read the same in every language.
NAMES = {"CSV", "iCalendar"}


def catalogue(language: str) -> Any:
    with (LOCALE_DIR / language / "LC_MESSAGES" / "office.po").open("rb") as file:
        return read_po(file, locale=language)


@functools.cache  # english_left asks for every text piece of every page
def template_ids() -> frozenset[str]:
    with (LOCALE_DIR / "office.pot").open("rb") as file:
        return frozenset(message.id for message in read_po(file) if message.id)


# ---------------------------------------------------------------- the catalogues


def test_the_template_holds_every_message_of_the_sources() -> None:
    """Extracted afresh with babel.cfg, the sources give exactly office.pot's messages:
    a string added to a page without `make i18n` fails here."""
    with (WEB / "babel.cfg").open() as file:
        method_map, options_map = parse_mapping_cfg(file)
    found = {
        message[2] if isinstance(message[2], str) else message[2][0]
        for message in extract_from_dir(str(WEB), method_map, options_map)
    }
    found.discard("")
    assert found == template_ids()


@pytest.mark.parametrize("language", CHINESE)
def test_every_message_is_translated_with_the_same_placeholders(language: str) -> None:
    messages = [message for message in catalogue(language) if message.id]
    assert {message.id for message in messages} == template_ids()
    for message in messages:
        assert message.string and not message.fuzzy, message.id
        assert message.string != message.id or message.id in NAMES, message.id
        assert set(PLACEHOLDER.findall(message.string)) == set(PLACEHOLDER.findall(message.id)), (
            message.id
        )


@pytest.mark.parametrize("language", CHINESE)
def test_the_compiled_catalogue_matches_its_po_file(language: str) -> None:
    translation = translations(language)
    for message in catalogue(language):
        if message.id:
            assert translation.gettext(message.id) == message.string, message.id


def test_messages_from_below_are_translated_part_by_part() -> None:
    hans, hant, english = Translator("zh_Hans"), Translator("zh_Hant"), Translator("en")
    assert hans.problem("line 3: name: is required") == "第 3 行：姓名：为必填项"
    assert (
        hant.problem("is 401 characters long; at most 400 fit") == "長度為 401 個字元，最多 400 個"
    )
    assert hans.problem("delegate_email: no host has the address a@b.cn") == (
        "delegate_email：没有受访人使用地址 a@b.cn"
    )
    # Not a field it knows, or a sentence it has no template of: as it came.
    assert hans.problem("whatever: is required") == "whatever: is required"
    assert hans.problem("the moon is made of cheese") == "the moon is made of cheese"
    assert english.problem("line 3: name: is required") == "line 3: name: is required"
    assert hans("") == "" and hans.duration(185) == "3 分 5 秒"
    assert hant.duration(7500) == "2 小時 5 分鐘" and english.duration(42) == "42 s"


# ---------------------------------------------------------------- every page of every role


class VisibleText(HTMLParser):
    """The words a reader sees: text outside code and pre, and the titles, labels and
    placeholders of elements."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("code", "pre", "svg"):
            self.skipping += 1
        for name, value in attrs:
            if name in ("placeholder", "aria-label", "title") and value:
                self.texts.append(value.strip())

    def handle_endtag(self, tag: str) -> None:
        if tag in ("code", "pre", "svg"):
            self.skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self.skipping and data.strip():
            self.texts.append(data.strip())


def english_left(html: str, language: str) -> list[str]:
    """The texts on a page that are a catalogue message left in English."""
    translation = translations(language)
    parser = VisibleText()
    parser.feed(html)
    left = []
    for text in parser.texts:
        for piece in [text, *re.split(r"\s*[·:]\s*", text)]:
            piece = piece.strip(" ←›‹")
            if piece in template_ids() and translation.gettext(piece) != piece:
                left.append(piece)
    return left


PAGES = {
    "admin": [
        "/", "/onsite", "/onsite/rollcall", "/appointments", "/appointments/new",
        "/appointments/import", "/hosts", "/hosts/new", "/hosts/import", "/hosts/{host}",
        "/watchlist", "/visits", "/visits/verify", "/reports", "/reports?period=day",
        "/users", "/settings",
    ],
    "reception": [
        "/", "/onsite", "/onsite/rollcall", "/appointments", "/appointments/new",
        "/appointments/import", "/hosts", "/hosts/new", "/hosts/import", "/hosts/{host}",
        "/visits", "/reports",
    ],
    "security": ["/", "/onsite", "/onsite/rollcall", "/watchlist", "/visits", "/visits/verify"],
    "host": ["/", "/appointments", "/appointments/new", "/appointments/import"],
}  # fmt: skip


def with_data(web_office: WebOffice) -> str:
    """A host, visits on site and in the log, an appointment and a watchlist entry: the
    tables and badges of every page have rows to show."""
    store = web_office.store
    in_shanghai(store, web_office.site)
    host = store.add_host(SITE, "李娜", email="li.na@tower.test", department="行政部")
    lobby = FakeKiosk(store, SITE, "lobby-1", "North lobby")
    arrived = MONDAY_10AM - timedelta(minutes=30)
    lobby.visit("张伟", arrived=arrived, host=host.ref, company="华为", escort=True, level="vip")
    lobby.visit(
        "Anna Eriksson", state="checked_out", arrived=arrived - timedelta(hours=2),
        acknowledged=arrived - timedelta(hours=2) + timedelta(seconds=40),
        left=arrived - timedelta(hours=1), host=host.ref, purpose="interview",
    )  # fmt: skip
    lobby.rate(lobby.visit("Zhao Lei", state="denied", arrived=arrived), 5, MONDAY_10AM)
    admin = web_office.as_role("admin")
    token = web_office.csrf(admin)
    booked = admin.post(
        "/appointments/new",
        data={
            "csrf_token": token, "visitor_name": "王芳", "host_ref": host.ref,
            "day": "2026-11-24", "start": "09:00", "minutes": "90", "purpose": "tour",
            "level": "senior", "visitor_type": "contractor", "repeat": "weekly", "count": "2",
        },
    )  # fmt: skip
    assert booked.status_code == 303, booked.text
    added = admin.post(
        "/watchlist", data={"csrf_token": token, "name": "Mallory", "reason": "Threats"}
    )
    assert added.status_code == 303
    return str(host.ref)


def signed_in(web_office: WebOffice, role: str, language: str, **options: Any) -> Any:
    client = web_office.as_role(role, **options)
    answer = client.post(
        "/account/language",
        data={"csrf_token": web_office.csrf(client), "language": language, "next": "/"},
    )
    assert answer.status_code == 303
    return client


@pytest.mark.parametrize("language", CHINESE)
@pytest.mark.parametrize("role", sorted(PAGES))
def test_every_page_of_every_role_speaks_the_language(
    web_office: WebOffice, role: str, language: str
) -> None:
    host = with_data(web_office)
    client = signed_in(web_office, role, language, **({"host_ref": host} if role == "host" else {}))
    for path in PAGES[role]:
        answer = client.get(path.format(host=host))
        assert answer.status_code == 200, path
        assert f'<html lang="{HTML_LANG[language]}">' in answer.text, path
        assert english_left(answer.text, language) == [], path
        assert translations(language).gettext("Sign out") in answer.text


def test_the_pages_show_chinese_words_for_the_tables_values(web_office: WebOffice) -> None:
    host = with_data(web_office)
    client = signed_in(web_office, "admin", "zh_Hans")
    appointments = client.get("/appointments?day=2026-11-24").text
    assert "2026年11月24日 星期二" in appointments and "参观" in appointments
    assert "特级" not in appointments and "高级" in appointments and "重复预约" in appointments
    onsite = client.get("/onsite").text
    assert "当前在场人员" in onsite and "需陪同" in onsite and "特级" in onsite
    assert "等待中 30 分 0 秒" in onsite
    visits = client.get("/visits").text
    assert "已签离" in visits and "面试" in visits and "已拒绝" in visits
    reports = client.get("/reports").text
    assert "每日来访" in reports and "23(一)" in reports and "1 分钟" in reports
    assert "受访人" in client.get(f"/hosts/{host}").text
    traditional = signed_in(web_office, "admin", "zh_Hant")
    assert "來訪紀錄" in traditional.get("/visits").text
    assert "關注名單" in traditional.get("/watchlist").text


# ---------------------------------------------------------------- choosing the language


def test_the_language_switch_needs_the_csrf_token_and_is_kept_on_the_account(
    web_office: WebOffice,
) -> None:
    client = web_office.as_role("reception")
    assert '<html lang="en">' in client.get("/").text
    refused = client.post("/account/language", data={"language": "zh_Hant", "next": "/"})
    assert refused.status_code == 403
    assert '<html lang="en">' in client.get("/").text
    token = web_office.csrf(client)
    wrong = client.post("/account/language", data={"csrf_token": token, "language": "fr"})
    assert wrong.status_code == 400 and "There is no such language." in wrong.text
    answer = client.post(
        "/account/language",
        data={"csrf_token": token, "language": "zh_Hant", "next": "/hosts?q=li"},
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/hosts?q=li"
    page = client.get("/hosts").text
    assert '<html lang="zh-Hant">' in page and "受訪人" in page and "登出" in page
    with web_office.store.db.connection_context():
        assert StaffUser.get(StaffUser.username == "reception1").language == "zh_Hant"
    # A new session of the same account, whatever the browser says, speaks it too.
    again = web_office.client()
    again.headers["Accept-Language"] = "en-US"
    assert web_office.sign_in(again, "reception1").status_code == 303
    assert '<html lang="zh-Hant">' in again.get("/").text
    away = client.post(
        "/account/language",
        data={"csrf_token": token, "language": "en", "next": "//evil.example/"},
    )
    assert away.headers["location"] == "/"


def test_the_switch_brings_the_reader_back_without_the_old_languages_notice(
    web_office: WebOffice,
) -> None:
    client = web_office.as_role("admin")
    page = client.get("/settings?done=Settings+saved.").text
    assert 'name="next" value="/settings"' in page
    page = client.get("/visits?q=zhang&done=x").text
    assert 'name="next" value="/visits?q=zhang"' in page


@pytest.mark.parametrize(
    ("header", "html_lang", "sign_in"),
    [
        ("zh-TW,zh;q=0.9,en;q=0.8", "zh-Hant", "登入"),
        ("zh-HK", "zh-Hant", "登入"),
        ("zh-CN,zh;q=0.9", "zh-Hans", "登录"),
        ("zh", "zh-Hans", "登录"),
        ("en-GB,en;q=0.9", "en", "Sign in"),
        ("fr-FR,de;q=0.5", "en", "Sign in"),
        ("", "en", "Sign in"),
    ],
)
def test_before_sign_in_the_browser_picks_the_language(
    web_office: WebOffice, header: str, html_lang: str, sign_in: str
) -> None:
    client = web_office.client()
    page = client.get("/login", headers={"Accept-Language": header}).text
    assert f'<html lang="{html_lang}">' in page and f"<h1>{sign_in}</h1>" in page
    # The way in from any page, for a stranger, says the same.
    refused = client.get("/hosts", headers={"Accept-Language": header}, follow_redirects=True)
    assert f'<html lang="{html_lang}">' in refused.text


def test_the_login_pages_choice_wins_and_becomes_the_accounts(web_office: WebOffice) -> None:
    web_office.add_user("security")
    client = web_office.client()
    client.headers["Accept-Language"] = "en-US"
    page = client.get("/login?lang=zh_Hans&next=/watchlist").text
    assert '<html lang="zh-Hans">' in page and "<h1>登录</h1>" in page
    assert 'href="/login?lang=zh_Hant&amp;next=%2Fwatchlist"' in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    form = {"username": "security1", "password": "wrong password!", "next": "/watchlist",
            "csrf_token": token.group(1), "lang": "zh_Hans"}  # fmt: skip
    wrong = client.post("/login", data=form)
    assert wrong.status_code == 401 and "用户名或密码错误" in wrong.text
    assert 'name="lang" value="zh_Hans"' in wrong.text
    answer = client.post("/login", data={**form, "password": web_office.password})
    assert answer.status_code == 303 and answer.headers["location"] == "/watchlist"
    assert "关注名单" in client.get("/watchlist").text
    with web_office.store.db.connection_context():
        assert StaffUser.get(StaffUser.username == "security1").language == "zh_Hans"


# ---------------------------------------------------------------- messages made in Python


def test_notices_errors_and_refusals_are_translated_with_their_values(
    web_office: WebOffice,
) -> None:
    with_data(web_office)
    client = signed_in(web_office, "admin", "zh_Hans")
    token = web_office.csrf(client)
    home = client.get("/").text
    assert "admin2，您好" in home or "，您好" in home
    name = re.search(r"<h1>(.+?)，您好</h1>", home)
    assert name and name.group(1) and "%(" not in home
    added = client.post(
        "/watchlist", data={"csrf_token": token, "name": "Eve", "reason": ""},
        follow_redirects=True,
    )  # fmt: skip
    assert "已添加 Eve。" in added.text
    blank = client.post("/hosts/new", data={"csrf_token": token, "name": "  "})
    assert blank.status_code == 400 and "姓名：为必填项" in blank.text
    booking = client.post(
        "/appointments/new",
        data={"csrf_token": token, "visitor_name": "  ", "day": "2026-11-24", "start": "09:00"},
    )
    assert booking.status_code == 400 and "访客姓名：为必填项" in booking.text
    booked = client.get("/appointments?done=booked&n=3").text
    assert "已预约 3 个来访。" in booked
    imported = client.get(
        "/appointments?done=imported&added=1&updated=2&unchanged=3&cancelled=4"
    ).text
    assert "导入完成：新增 1 个来访，更新 2 个，未变 3 个，取消 4 个。" in imported
    told = client.get("/appointments?done=series_told&n=3&told=2").text
    assert "已取消此系列的 3 个来访" in told and "已收到邀请函的 2 位访客" in told
    assert "无效" in client.get("/visits?from=someday").text
    missing = client.get("/hosts/nobody")
    assert missing.status_code == 404 and "本场所没有这位受访人。" in missing.text
    host = signed_in(web_office, "host", "zh_Hant")
    refused = host.get("/users")
    assert refused.status_code == 403 and "您的角色無權開啟此頁面。" in refused.text
    assert '<html lang="zh-Hant">' in refused.text
    expired = host.post("/appointments/new", data={"visitor_name": "x"})
    assert expired.status_code == 403 and "表單已過期" in expired.text

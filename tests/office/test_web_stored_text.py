"""Stored text on the office pages, on SQLite and PostgreSQL: whatever a kiosk sent or a
person typed (a level `%(x)s`, a department "Sales 100%", markup) is shown escaped as it
is, and no page fails (HTTP 500) because of it. Stored values are never messages to
translate: codes get their words from the fixed tables of kiosk.office.web.labels. A
property test fills every stored text field of visits, hosts, appointments, the watchlist,
kiosks, accounts and settings with generated text and opens every page an admin can see."""

from __future__ import annotations

import ast
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import SITE, WebOffice
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jinja2 import nodes
from markupsafe import escape
from office_visits_support import FakeKiosk, in_shanghai
from tests_support import MONDAY_10AM

from kiosk.domain.clock import ManualClock
from kiosk.domain.values import (
    CheckInMethod,
    HostAvailability,
    Purpose,
    VisitorLevel,
    VisitState,
)
from kiosk.office.bookings import visitor_types
from kiosk.office.models import (
    OFFICE_MODELS,
    AppointmentSeries,
    AuditEntry,
    EnrolmentCode,
    InvitationMail,
    Kiosk,
    OfficeAppointment,
    OfficeHost,
    OfficeKey,
    OfficeWatchlistEntry,
    SeriesMember,
    SignInThrottle,
    Site,
    SiteKey,
    SiteSecret,
    SiteSettingsRow,
    StaffSession,
    StaffUser,
)
from kiosk.office.settings import SiteSettings, save_site_settings
from kiosk.office.staff import Role
from kiosk.office.web import templating
from kiosk.office.web.labels import LABELS
from kiosk.office.web.templating import TEMPLATES, Translator, environment

WEB = Path(templating.__file__).parent


@pytest.fixture
def office_web(office_db_url: str, tmp_path: Path) -> Iterator[WebOffice]:
    """The office web in process on each storage backend, the site in Shanghai's time."""
    office = WebOffice(tmp_path, ManualClock(MONDAY_10AM), database=office_db_url)
    in_shanghai(office.store, office.site)
    yield office
    db = office.store.db
    db.close_all() if hasattr(db, "close_all") else db.close()


# ---------------------------------------------------------------- the findings, as they were


def test_a_percent_sign_or_markup_in_stored_values_breaks_no_page(office_web: WebOffice) -> None:
    """A kiosk that sent the level `%(x)s` took On site, Visit log and Reports down, and a
    department "Sales 100%" took Reports down: each page shows them escaped, as they are."""
    store = office_web.store
    host = store.add_host(SITE, "Maria Schmidt", email="maria@example.com", department="Sales 100%")
    lobby = FakeKiosk(store, SITE, "lobby-1", "North lobby")
    arrived = MONDAY_10AM - timedelta(minutes=30)
    lobby.visit(
        "Zhang Wei", arrived=arrived, host=host.ref, level="%(x)s",
        company="<script>alert(1)</script>",
    )  # fmt: skip
    lobby.visit(
        "Anna Eriksson", state="checked_out", arrived=arrived - timedelta(hours=1),
        left=arrived, host=host.ref, purpose="50% <b>off</b>", level="<i>vip</i>", method="%s",
    )  # fmt: skip
    admin = office_web.as_role("admin")

    onsite = admin.get("/onsite")
    assert onsite.status_code == 200
    assert "%(x)s" in onsite.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in onsite.text
    visits = admin.get("/visits")
    assert visits.status_code == 200
    assert "%(x)s" in visits.text and "Sales 100%" in visits.text
    assert "50% &lt;b&gt;off&lt;/b&gt;" in visits.text and "&lt;i&gt;vip&lt;/i&gt;" in visits.text
    reports = admin.get("/reports")
    assert reports.status_code == 200
    assert "Sales 100%" in reports.text and "%(x)s" in reports.text
    assert "50% &lt;b&gt;off&lt;/b&gt;" in reports.text and "<b>off" not in reports.text
    for page in (onsite, visits, reports):
        assert "<script" not in page.text and "<i>vip" not in page.text


def test_known_codes_read_as_words_in_the_readers_language_and_others_as_they_are() -> None:
    hans, english = Translator("zh_Hans"), Translator("en")
    assert hans.label("level", "vip") == "特级" and english.label("level", "vip") == "vip"
    assert hans.label("state", VisitState.CHECKED_OUT) == "已签离"
    assert hans.label("purpose", "interview") == "面试"
    assert english.label("purpose", "visit_person") == "visit person"
    # Never looked up, never %-formatted: a code the table does not know is shown as it is.
    for code in ("%(x)s", "100%", "<b>vip</b>", "Sign out", "visit person", ""):
        assert hans.label("level", code) == code
    assert hans.label("level", None) == ""


def test_every_code_has_words() -> None:
    """A code added to the domain without words here would be shown raw."""
    kinds = {
        "state": VisitState, "purpose": Purpose, "level": VisitorLevel,
        "method": CheckInMethod, "role": Role, "availability": HostAvailability,
        "booking_purpose": Purpose, "booking_level": VisitorLevel,
    }  # fmt: skip
    for kind, codes in kinds.items():
        assert {str(code) for code in LABELS[kind]} == {code.value for code in codes}, kind
    assert set(LABELS["visitor_type"]) == set(visitor_types())


TRANSLATING = {"_", "gettext", "ngettext"}


def test_templates_translate_only_literal_messages() -> None:
    """Jinja's `_()` reads its message as a %-format and marks the result safe HTML: a
    stored value given to it breaks the page or is rendered as markup."""
    env = environment("en")
    for path in sorted(TEMPLATES.glob("*.html")):
        tree = env.parse(path.read_text(encoding="utf-8"))
        for call in tree.find_all(nodes.Call):
            if not (isinstance(call.node, nodes.Name) and call.node.name in TRANSLATING):
                continue
            messages = call.args[: 2 if call.node.name == "ngettext" else 1]
            assert messages, f"{path.name}:{call.lineno}"
            for message in messages:
                assert isinstance(message, nodes.Const) and isinstance(message.value, str), (
                    f"{path.name}:{call.lineno} translates something that is not a literal"
                )


def test_handlers_translate_only_literals_and_fixed_tables() -> None:
    """In Python, `_()` is given a literal, or an entry of a module's fixed table
    (DONE[done], WEEKDAYS[n]): never a stored value."""
    for path in sorted(WEB.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for call in ast.walk(tree):
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)):
                continue
            if call.func.id not in TRANSLATING or not call.args:
                continue
            message = call.args[0]
            literal = isinstance(message, ast.Constant) and isinstance(message.value, str)
            table = (
                isinstance(message, ast.Subscript)
                and isinstance(message.value, ast.Name)
                and message.value.id.isupper()
            )
            assert literal or table, f"{path.name}:{call.lineno} translates a value"


# ---------------------------------------------------------------- every page, any stored text

#: Pieces that once broke a page, or might: format directives, template syntax, markup.
TRICKY = (
    "%", "%(x)s", "%s", "%%", "100%", "%(name)s", "{{ 7*7 }}", "{% if %}", "{#", "}}",
    "<script>alert(1)</script>", "<b>", "</td>", "&amp;", "&", '"', "'", "\\", "_", "·",
    "张伟", "訪客", "👩‍💼", "\u202e", "\u00a0", " ", "visit_person", "vip", "Sign out",
)  # fmt: skip
#: Any text stored text may hold: no control characters, lone surrogates or non-characters.
STORABLE = st.characters(exclude_categories=("Cc", "Cs", "Cn"))
PIECE = st.one_of(st.sampled_from(TRICKY), st.text(STORABLE, max_size=6))


def stored_text(most: int = 200) -> st.SearchStrategy[str]:
    return st.lists(PIECE, max_size=5).map(lambda pieces: "".join(pieces)[:most])


def code(known: Any) -> st.SearchStrategy[str]:
    """A code as a kiosk may send it: a known one, or any text up to 40 characters."""
    return st.one_of(st.sampled_from([str(value) for value in known]), stored_text(40))


VISIT = st.fixed_dictionaries(
    {
        "name": stored_text(),
        "company": stored_text(),
        "state": st.sampled_from(
            ["checked_in", "awaiting_host", "host_acknowledged", "checked_out", "denied"]
        ),
        "purpose": code(Purpose),
        "level": code(VisitorLevel),
        "method": code(CheckInMethod),
        "visitor_type": code(visitor_types()),
        "escort_required": st.booleans(),
    }
)


@dataclass(frozen=True)
class Stored:
    """Generated text for every stored field the pages show."""

    visits: list[dict[str, Any]]
    host: dict[str, str]
    appointment: dict[str, str]
    mail: tuple[str, str]
    watchlist: tuple[str, str]
    kiosk_name: str
    display_name: str
    address: str
    what_to_bring: str


STORED = st.builds(
    Stored,
    visits=st.lists(VISIT, min_size=1, max_size=3),
    host=st.fixed_dictionaries(
        {
            "name": stored_text(),
            "department": stored_text(),
            "email": stored_text(),
            "phone": stored_text(40),
            "availability": code(HostAvailability),
            "delegate_ref": stored_text(64),
        }
    ),
    appointment=st.fixed_dictionaries(
        {
            "visitor_name": stored_text(),
            "company": stored_text(),
            "email": stored_text(),
            "phone": stored_text(40),
            "purpose": code(Purpose),
            "level": code(VisitorLevel),
            "visitor_type": code(visitor_types()),
        }
    ),
    mail=st.tuples(
        st.sampled_from(["pending", "sent", "failed", "given_up", "cancelled"]), stored_text(1000)
    ),
    watchlist=st.tuples(stored_text(), stored_text(1000)),
    kiosk_name=stored_text(),
    display_name=stored_text(),
    address=stored_text(1000),
    what_to_bring=stored_text(1000),
)

#: Every page an admin may open, with the refs of the generated rows put in. A GET page
#: added to the app without a line here fails test_every_admin_page_is_rendered.
ADMIN_PAGES = {
    "/": ["/"],
    "/onsite": ["/onsite"],
    "/onsite/rollcall": ["/onsite/rollcall"],
    "/appointments": ["/appointments", "/appointments?day=2026-11-24"],
    "/appointments/new": ["/appointments/new"],
    "/appointments/import": ["/appointments/import"],
    "/appointments/{ref}/cancel": ["/appointments/{appointment}/cancel"],
    "/appointments/series/{ref}/cancel": ["/appointments/series/{series}/cancel"],
    "/hosts": ["/hosts"],
    "/hosts/new": ["/hosts/new"],
    "/hosts/import": ["/hosts/import"],
    "/hosts/{ref}": ["/hosts/{host}"],
    "/watchlist": ["/watchlist"],
    "/visits": ["/visits", "/visits?state=checked_in&purpose=visit_person"],
    "/visits/export.csv": ["/visits/export.csv"],
    "/visits/verify": ["/visits/verify"],
    "/reports": ["/reports", "/reports?period=day", "/reports?period=month"],
    "/users": ["/users"],
    "/settings": ["/settings"],
    "/settings/kiosks/{kiosk_id}/revoke": ["/settings/kiosks/{kiosk}/revoke"],
    "/deliveries": ["/deliveries", "/deliveries?state=waiting&carrier=sf&age=7"],
    "/deliveries/report": ["/deliveries/report"],
    "/deliveries/settings": ["/deliveries/settings"],
    "/deliveries/uncollected.csv": ["/deliveries/uncollected.csv"],
    "/deliveries/{ref}": ["/deliveries/{parcel}", "/deliveries/{collected}"],
    "/cases": ["/cases", "/cases?state=received&kind=repair&place=A&late=1"],
    "/cases/report": ["/cases/report", "/cases/report?format=csv", "/cases/report?period=week"],
    "/cases/{ref}": ["/cases/{case}"],
    "/calls": ["/calls"],
    "/cases/settings": ["/cases/settings"],
}


def get_routes(routes: list[Any]) -> set[str]:
    """The paths of the app's GET pages, those of included routers too."""
    found: set[str] = set()
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            found |= get_routes(inner.routes)
        elif isinstance(route, APIRoute) and "GET" in route.methods:
            found.add(route.path)
    return found


def test_every_admin_page_is_rendered(office_web: WebOffice) -> None:
    pages = {p for p in get_routes(office_web.app.routes) if not p.startswith("/v1/")}
    anyones = {"/login", "/l/{token}", "/s/{code}", "/c/{token}"}  # test_web_security.PUBLIC
    assert pages - anyones == set(ADMIN_PAGES)


#: What stays from one example to the next: the site, its keys and settings, the accounts
#: signed in, and the audit.
KEPT = {Site, SiteKey, SiteSecret, SiteSettingsRow, EnrolmentCode, StaffUser, StaffSession,
        AuditEntry, SignInThrottle, OfficeKey}  # fmt: skip


def forget_the_sites_data(office: WebOffice) -> None:
    """The site as before any example: no kiosks, visits, hosts, appointments or entries."""
    site = office.site
    kiosks = Kiosk.select(Kiosk.id).where(Kiosk.site == site)
    appointments = OfficeAppointment.select(OfficeAppointment.id).where(
        OfficeAppointment.site == site
    )
    series = AppointmentSeries.select(AppointmentSeries.id).where(AppointmentSeries.site == site)
    with office.store.db.connection_context(), office.store.db.atomic():
        # The tables in the reverse of their creation order: what refers to a row goes first.
        model: Any
        for model in reversed(OFFICE_MODELS):
            if model in KEPT:
                continue
            fields = model._meta.fields
            if "site" in fields:
                model.delete().where(model.site == site).execute()
            elif "kiosk" in fields:
                model.delete().where(model.kiosk.in_(kiosks)).execute()
            elif "appointment" in fields:
                model.delete().where(model.appointment.in_(appointments)).execute()
            else:
                assert "series" in fields, model
                model.delete().where(model.series.in_(series)).execute()


def store_everything(office: WebOffice, stored: Stored, admin: str) -> dict[str, str]:
    """`stored` in every field, visits through a kiosk's real ingest; the refs of the rows."""
    store, site, now = office.store, office.site, office.clock.now()
    refs = {name: uuid.uuid4().hex[:16] for name in ("host", "appointment", "series")}
    kiosk = FakeKiosk(store, SITE, "kiosk-" + uuid.uuid4().hex[:8])
    refs["kiosk"] = kiosk.kiosk_id
    starts = now + timedelta(days=1)
    with store.db.connection_context():
        OfficeHost.create(ref=refs["host"], site=site, updated_at=now, **stored.host)
        appointment = OfficeAppointment.create(
            ref=refs["appointment"], site=site, visit_ref=uuid.uuid4().hex[:16],
            host_ref=refs["host"], starts_at=starts, ends_at=starts + timedelta(hours=1),
            updated_at=now, **stored.appointment,
        )  # fmt: skip
        series = AppointmentSeries.create(
            ref=refs["series"], site=site, frequency="weekly", occurrences=1,
            created_by=stored.display_name, created_at=now,
        )  # fmt: skip
        SeriesMember.create(series=series, appointment=appointment)
        status, error = stored.mail
        InvitationMail.create(
            appointment=appointment, site=site, status=status, attempts=2, requested_at=now,
            last_error=error,
        )  # fmt: skip
        name, reason = stored.watchlist
        OfficeWatchlistEntry.create(
            ref=uuid.uuid4().hex[:16], site=site, name=name, reason=reason, updated_at=now
        )
        Kiosk.update(name=stored.kiosk_name).where(Kiosk.kiosk_id == kiosk.kiosk_id).execute()
        StaffUser.update(display_name=stored.display_name).where(
            StaffUser.username == admin
        ).execute()
        save_site_settings(
            site,
            SiteSettings(
                timezone="Asia/Shanghai", address=stored.address,
                what_to_bring=stored.what_to_bring,
            ),
            now,
        )  # fmt: skip
    arrived = now - timedelta(minutes=30)
    for visit in stored.visits:
        ref = uuid.uuid4().hex[:16]
        state = visit["state"]
        payload = {
            "visit": ref, "state": state, "kiosk": kiosk.kiosk_id, "host": refs["host"],
            "appointment": None, "visitor": {"name": visit["name"], "company": visit["company"]},
            "method": visit["method"], "purpose": visit["purpose"], "level": visit["level"],
            "visitor_type": visit["visitor_type"], "escort_required": visit["escort_required"],
            "arrived_at": arrived.isoformat(), "host_notified_at": arrived.isoformat(),
            "host_acknowledged_at": (
                arrived.isoformat() if state in ("host_acknowledged", "checked_out") else None
            ),
            "left_at": now.isoformat() if state == "checked_out" else None,
        }  # fmt: skip
        kiosk.send(f"visit.{state}", ref, payload, arrived)
    refs.update(store_parcels(office, stored, kiosk.kiosk_id, refs["host"]))
    refs.update(store_cases(office, stored))
    return refs


def store_parcels(
    office: WebOffice, stored: Stored, kiosk_id: str, host_ref: str
) -> dict[str, str]:
    """Two parcels (kiosk.office.deliveries) with the generated text in their fields."""
    from kiosk.office.deliveries.models import Parcel

    now = office.clock.now()
    refs = {"parcel": uuid.uuid4().hex[:16], "collected": uuid.uuid4().hex[:16]}
    with office.store.db.connection_context():
        kiosk = Kiosk.get(Kiosk.kiosk_id == kiosk_id)
        for name, ref in refs.items():
            Parcel.create(
                ref=ref, site=office.site, kiosk=kiosk, pickup_code="123456",
                host_ref=host_ref if name == "parcel" else "",
                company=stored.appointment["company"][:120], kind=stored.visits[0]["purpose"],
                carrier=stored.visits[0]["level"], items=2, waybill=stored.host["phone"][:64],
                shelf=stored.kiosk_name[:32], token_id=ref, logged_at=now - timedelta(days=8),
                state="waiting" if name == "parcel" else "collected",
                collected_at=None if name == "parcel" else now,
                collected_by=stored.display_name[:80], collected_method=stored.visits[0]["method"],
                updated_at=now,
            )  # fmt: skip
    return refs


def store_cases(office: WebOffice, stored: Stored) -> dict[str, str]:
    """A case, its department, its history and a logged call (kiosk.office.cases) with the
    generated text in their fields."""
    from kiosk.office.cases.models import CallLogEntry, Case, CaseHistory, Department

    now = office.clock.now()
    ref = uuid.uuid4().hex[:16]
    with office.store.db.connection_context():
        department = Department.create(site=office.site, name=stored.host["department"][:100]
                                       + uuid.uuid4().hex[:6])  # fmt: skip
        case = Case.create(
            ref=ref, site=office.site, number="R-" + ref, kind="repair",
            category=stored.visits[0]["level"][:40], building=stored.address[:200],
            place_text=stored.what_to_bring[:200], description=stored.appointment["company"],
            reporter_name=stored.visits[0]["name"], reporter_phone=stored.host["phone"],
            department=department, opened_at=now, response_due_at=now, updated_at=now,
            state="resolved", resolved_at=now, resolution=stored.display_name,
        )  # fmt: skip
        CaseHistory.create(case=case, at=now, actor=stored.kiosk_name, action="open",
                           note=stored.watchlist[1])  # fmt: skip
        CallLogEntry.create(site=office.site, at=now, caller=stored.visits[0]["name"],
                            subject=stored.address, for_whom=stored.host["name"])  # fmt: skip
    return {"case": ref}


@pytest.mark.parametrize("language", ["en", "zh_Hans"])
def test_every_page_shows_any_stored_text_escaped(office_web: WebOffice, language: str) -> None:
    username = office_web.add_user("admin")
    admin = office_web.client()
    assert office_web.sign_in(admin, username).status_code == 303
    if language != "en":
        answer = admin.post(
            "/account/language",
            data={"csrf_token": office_web.csrf(admin), "language": language, "next": "/"},
        )
        assert answer.status_code == 303

    @given(stored=STORED)
    @settings(
        max_examples=6,  # x 2 backends x 2 languages; every example opens ~40 pages
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    def check(stored: Stored) -> None:
        forget_the_sites_data(office_web)
        refs = store_everything(office_web, stored, username)
        for pattern in (path for paths in ADMIN_PAGES.values() for path in paths):
            path = pattern.format(**refs)
            page = admin.get(path)
            assert page.status_code == 200, (path, page.text[-2000:])
            if page.headers["content-type"].startswith("text/html"):
                assert "<script" not in page.text.lower(), path
        # Shown as they are, escaped: not translated, rewritten or dropped.
        log = admin.get("/visits").text
        for visit in stored.visits:
            unknown = [
                visit[kind] for kind in ("level", "purpose") if visit[kind] not in LABELS[kind]
            ]
            for text in (visit["name"], visit["company"], *unknown):
                assert str(escape(text)) in log, text
        hosts = admin.get("/hosts").text
        assert str(escape(stored.host["name"])) in hosts
        assert str(escape(stored.host["department"])) in hosts

    check()

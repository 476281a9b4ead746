"""The watchlist in the office web: security and admin only, entries through the change
feed, document numbers kept only as hashes with the site's salt (the one every kiosk of
the site receives at enrolment), and the audit of who changed what."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from conftest import SITE, KioskFactory, Office, WebOffice

from kiosk.domain.identity import hash_document_number
from kiosk.office import directory
from kiosk.office.models import AuditEntry, ChangeLog, OfficeWatchlistEntry
from kiosk.office.staff import StaffDirectory
from kiosk.storage.models import WatchlistEntry

PASSPORT = "E12345678"


def _add(web_office: WebOffice, client: Any, **values: str) -> Any:
    form = {"name": "Mallory Brown", "document_number": "", "reason": "Trespass, 2026-10"}
    form.update(values)
    return client.post("/watchlist", data={**form, "csrf_token": web_office.csrf(client)})


def _feed(web_office: WebOffice) -> dict[str, dict[str, Any]]:
    with web_office.store.db.connection_context():
        return {
            row.ref: json.loads(row.data)
            for row in ChangeLog.select().where(ChangeLog.entity == "watchlist")
        }


@pytest.mark.parametrize("role", ["security", "admin"])
def test_security_and_admin_see_the_watchlist(web_office: WebOffice, role: str) -> None:
    client = web_office.as_role(role)
    answer = client.get("/watchlist")
    assert answer.status_code == 200 and "Add a person" in answer.text


@pytest.mark.parametrize("role", ["reception", "host"])
def test_reception_and_hosts_may_not_see_the_watchlist(web_office: WebOffice, role: str) -> None:
    client = web_office.as_role(role)
    assert client.get("/watchlist").status_code == 403
    assert _add(web_office, client).status_code == 403
    assert 'href="/watchlist"' not in client.get("/").text
    with web_office.store.db.connection_context():
        assert OfficeWatchlistEntry.select().count() == 0


def test_a_stranger_is_sent_to_sign_in_and_a_forged_form_is_refused(
    web_office: WebOffice,
) -> None:
    assert web_office.client().get("/watchlist").headers["location"] == "/login?next=/watchlist"
    client = web_office.as_role("security")
    assert client.post("/watchlist", data={"name": "Mallory"}).status_code == 403
    assert client.post("/watchlist", data={"name": "M", "csrf_token": "x"}).status_code == 403
    entry = web_office.store.add_watchlist_entry(SITE, "Mallory Brown")
    assert client.post(f"/watchlist/{entry.ref}/active", data={"active": "0"}).status_code == 403
    with web_office.store.db.connection_context():
        assert OfficeWatchlistEntry.select().count() == 1
        assert OfficeWatchlistEntry.get().active


def test_an_entry_keeps_only_the_salted_hash_of_the_document(web_office: WebOffice) -> None:
    client = web_office.as_role("security")
    answer = _add(web_office, client, name="马洛丽", document_number="e 1234-5678")
    assert answer.status_code == 303
    salt = web_office.store.document_salt(web_office.site)
    with web_office.store.db.connection_context():
        entry = OfficeWatchlistEntry.get()
        dumped = json.dumps(
            [list(row) for row in AuditEntry.select().tuples()]
            + [list(row) for row in ChangeLog.select().tuples()],
            ensure_ascii=False,
            default=str,
        )
    assert entry.document_hash == hash_document_number(PASSPORT, salt)
    assert "12345678" not in dumped and "1234-5678" not in dumped
    data = _feed(web_office)[entry.ref]
    assert data["name"] == "马洛丽" and data["document_hash"] == entry.document_hash
    assert data["latin_key"] == "li luo ma" and data["active"] is True
    page = client.get("/watchlist").text
    assert "马洛丽" in page and "hashed" in page and "12345678" not in page


def test_a_name_is_required_and_a_refused_form_does_not_echo_the_number(
    web_office: WebOffice,
) -> None:
    client = web_office.as_role("security")
    answer = _add(web_office, client, name=" ", document_number=PASSPORT)
    assert answer.status_code == 400 and "name: is required" in answer.text
    assert PASSPORT not in answer.text
    answer = _add(web_office, client, document_number="--- ---")
    assert answer.status_code == 400 and "has no letters or digits" in answer.text
    with web_office.store.db.connection_context():
        assert OfficeWatchlistEntry.select().count() == 0


def test_deactivating_and_reactivating_go_out_on_the_feed_and_into_the_audit(
    web_office: WebOffice,
) -> None:
    client = web_office.as_role("security")
    _add(web_office, client)
    with web_office.store.db.connection_context():
        ref = OfficeWatchlistEntry.get().ref
    web_office.clock.advance(timedelta(minutes=5))
    token = web_office.csrf(client)
    answer = client.post(f"/watchlist/{ref}/active", data={"active": "0", "csrf_token": token})
    assert answer.status_code == 303
    assert _feed(web_office)[ref]["active"] is False
    web_office.clock.advance(timedelta(minutes=5))
    admin = web_office.as_role("admin")
    admin.post(
        f"/watchlist/{ref}/active", data={"active": "1", "csrf_token": web_office.csrf(admin)}
    )
    assert _feed(web_office)[ref]["active"] is True
    assert len(_feed(web_office)) == 1  # one entry, its latest state

    with web_office.store.db.connection_context():
        trail = [
            (entry.actor, entry.action)
            for entry in AuditEntry.select()
            .where(AuditEntry.entity == "watchlist")
            .order_by(AuditEntry.id)
        ]
    assert [action for _, action in trail] == [
        "watchlist.add",
        "watchlist.deactivate",
        "watchlist.reactivate",
    ]
    assert trail[0][0].startswith("security") and trail[2][0].startswith("admin")
    page = client.get("/watchlist").text
    audit = page.split('id="audit"', 1)[1]
    # Newest first.
    assert audit.index(">reactivated<") < audit.index(">deactivated<") < audit.index(">added<")
    assert "Mallory Brown" in audit and "Trespass, 2026-10" in audit
    assert (
        client.post("/watchlist/nope/active", data={"active": "0", "csrf_token": token}).status_code
        == 404
    )


def test_every_kiosk_of_the_site_hashes_a_document_as_the_office_did(
    office: Office, kiosks: KioskFactory
) -> None:
    first, first_sync = kiosks.new()
    second, second_sync = kiosks.new()
    store = office.store
    site_id = store.site(SITE).id
    with store.db.connection_context():
        entry = directory.add_watchlist_entry(
            store, StaffDirectory(store.db, store.clock), site_id, "security1",
            "Mallory Brown", document_number=PASSPORT, reason="Trespass",
        )  # fmt: skip
    for kiosk, sync in ((first, first_sync), (second, second_sync)):
        sync.run_once()
        salt = kiosk.keys.document_salt()
        with kiosk.using():
            copy = WatchlistEntry.get(WatchlistEntry.ref == entry.ref)
        # What the kiosk computes when it scans the passport is what the office stored.
        assert copy.document_hash == hash_document_number(PASSPORT, salt) == entry.document_hash
        assert copy.active

"""The host directory in the office web: roles, CSRF, search by pinyin, editing through the
change feed with the same ref, masked channels, CSV import and the test notification."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from conftest import SITE, KioskFactory, Office, WebOffice
from local_servers import free_port, webhook_server

from kiosk.office import directory
from kiosk.office.models import AuditEntry, ChangeLog, OfficeHost
from kiosk.office.staff import StaffDirectory
from kiosk.storage.models import Host

SECRET_MAIL = "mailtos://li.na:s3cret-Pa55@mail.example.com?to=li.na@example.com"


def _feed(web_office: WebOffice, ref: str) -> dict[str, Any]:
    with web_office.store.db.connection_context():
        row = ChangeLog.get((ChangeLog.entity == "host") & (ChangeLog.ref == ref))
        return dict(json.loads(row.data))


def _host_form(**values: Any) -> dict[str, Any]:
    form = {"name": "李娜", "department": "行政部", "email": "li.na@example.com",
            "phone": "+86 21 5555 0101", "availability": "in", "active": "1", "channels": ""}  # fmt: skip
    form.update(values)
    return form


def _add(web_office: WebOffice, client: Any, **values: Any) -> Any:
    return client.post(
        "/hosts/new", data={**_host_form(**values), "csrf_token": web_office.csrf(client)}
    )


def _audit(web_office: WebOffice, action: str) -> list[AuditEntry]:
    with web_office.store.db.connection_context():
        return list(AuditEntry.select().where(AuditEntry.action == action))


# ---------------------------------------------------------------- roles and CSRF


@pytest.mark.parametrize("role", ["reception", "admin"])
def test_reception_and_admin_open_every_hosts_page(web_office: WebOffice, role: str) -> None:
    ref = web_office.store.add_host(SITE, "Maria Schmidt", email="maria@example.com").ref
    client = web_office.as_role(role)
    for path in ("/hosts", "/hosts/new", "/hosts/import", f"/hosts/{ref}"):
        answer = client.get(path)
        assert answer.status_code == 200, path
    assert "Maria Schmidt" in client.get("/hosts").text


@pytest.mark.parametrize("role", ["security", "host"])
def test_other_roles_may_not_see_or_change_hosts(web_office: WebOffice, role: str) -> None:
    ref = web_office.store.add_host(SITE, "Maria Schmidt", email="maria@example.com").ref
    client = web_office.as_role(role)
    assert client.get("/hosts").status_code == 403
    assert client.get(f"/hosts/{ref}").status_code == 403
    assert _add(web_office, client).status_code == 403
    assert client.post(f"/hosts/{ref}/active", data={"active": "0"}).status_code == 403


def test_a_stranger_is_sent_to_sign_in(web_office: WebOffice) -> None:
    client = web_office.client()
    answer = client.get("/hosts")
    assert answer.status_code == 303 and answer.headers["location"] == "/login?next=/hosts"
    assert client.post("/hosts/new", data=_host_form()).status_code == 303


def test_changes_without_the_csrf_token_are_refused(web_office: WebOffice) -> None:
    ref = web_office.store.add_host(SITE, "Maria Schmidt", email="maria@example.com").ref
    client = web_office.as_role("reception")
    assert client.post("/hosts/new", data=_host_form()).status_code == 403
    bad = {**_host_form(name="Changed"), "csrf_token": "forged"}
    assert client.post(f"/hosts/{ref}", data=bad).status_code == 403
    assert client.post(f"/hosts/{ref}/active", data={"active": "0"}).status_code == 403
    assert client.post(f"/hosts/{ref}/test").status_code == 403
    files = {"file": ("hosts.csv", b"name\nEve\n", "text/csv")}
    assert client.post("/hosts/import", files=files).status_code == 403
    with web_office.store.db.connection_context():
        assert [host.name for host in OfficeHost.select()] == ["Maria Schmidt"]
        assert OfficeHost.get().active


# ---------------------------------------------------------------- add, search, edit


def test_a_new_host_goes_out_on_the_feed_and_is_audited(web_office: WebOffice) -> None:
    client = web_office.as_role("reception")
    answer = _add(web_office, client, channels=SECRET_MAIL, is_senior="1")
    assert answer.status_code == 303
    ref = answer.headers["location"].split("?")[0].rsplit("/", 1)[1]
    data = _feed(web_office, ref)
    assert data["name"] == "李娜" and data["department"] == "行政部"
    assert data["channels"] == [SECRET_MAIL] and data["is_senior"] and data["active"]
    [entry] = _audit(web_office, "host.add")
    assert entry.ref == ref and entry.actor.startswith("reception")
    assert "s3cret" not in entry.detail and "li.na:***@mail.example.com" in entry.detail


def test_search_finds_a_host_by_characters_pinyin_initials_and_department(
    web_office: WebOffice,
) -> None:
    web_office.store.add_host(SITE, "李娜", department="行政部", email="li.na@example.com")
    web_office.store.add_host(SITE, "Maria Schmidt", department="Finance")
    client = web_office.as_role("reception")

    def found(query: str) -> str:
        page = client.get("/hosts", params={"q": query}).text
        return page.split("<tbody>", 1)[1] if "<tbody>" in page else ""

    for query in ("李娜", "li na", "lina", "ln", "行政", "xingzheng", "li.na@"):
        rows = found(query)
        assert "李娜" in rows and "Maria Schmidt" not in rows, query
    rows = found("finance")
    assert "Maria Schmidt" in rows and "李娜" not in rows
    assert "No host matches" in client.get("/hosts", params={"q": "nobody"}).text


def test_editing_keeps_the_ref_and_the_masked_channel_keeps_its_secret(
    web_office: WebOffice,
) -> None:
    host = web_office.store.add_host(
        SITE, "李娜", email="li.na@example.com", channels=[SECRET_MAIL]
    )
    delegate = web_office.store.add_host(SITE, "Zhang Wei", email="zhang.wei@example.com")
    client = web_office.as_role("admin")  # webhooks are for admins to set
    form = client.get(f"/hosts/{host.ref}").text
    assert "s3cret" not in form
    masked = directory.mask_url(SECRET_MAIL)
    assert "li.na:***@mail.example.com" in masked and masked in form

    webhook = "json://hooks.example.com/notify"
    answer = client.post(
        f"/hosts/{host.ref}",
        data={**_host_form(name="李娜 (Lina)", availability="out", delegate_ref=delegate.ref,
                           walk_in_needs_approval="1", channels=f"{masked}\n{webhook}"),
              "csrf_token": web_office.csrf(client)},
    )  # fmt: skip
    assert answer.status_code == 303 and answer.headers["location"].startswith(f"/hosts/{host.ref}")
    data = _feed(web_office, host.ref)
    assert data["name"] == "李娜 (Lina)" and data["availability"] == "out"
    assert data["delegate_ref"] == delegate.ref and data["walk_in_needs_approval"]
    assert data["channels"] == [SECRET_MAIL, webhook]
    with web_office.store.db.connection_context():
        assert OfficeHost.select().count() == 2  # edited, not added
    [entry] = _audit(web_office, "host.update")
    detail = json.loads(entry.detail)
    assert detail["name"] == {"from": "李娜", "to": "李娜 (Lina)"}
    assert "s3cret" not in entry.detail

    # Deleting the masked line removes that channel.
    client.post(
        f"/hosts/{host.ref}",
        data={**_host_form(channels=webhook), "csrf_token": web_office.csrf(client)},
    )
    assert _feed(web_office, host.ref)["channels"] == [webhook]


def test_a_wrong_field_is_refused_with_its_reason_and_nothing_changes(
    web_office: WebOffice,
) -> None:
    host = web_office.store.add_host(SITE, "Maria Schmidt", email="maria@example.com")
    client = web_office.as_role("reception")
    cases = {
        "email": ({"email": "not-an-address"}, "not an e-mail address"),
        "name": ({"name": "  "}, "name: is required"),
        "channel": ({"channels": "nonsense-without-scheme"}, "is not a channel URL"),
        "delegate": ({"delegate_ref": host.ref}, "cannot be their own delegate"),
        "availability": ({"availability": "asleep"}, "availability"),
    }
    for case, (values, message) in cases.items():
        answer = client.post(
            f"/hosts/{host.ref}",
            data={**_host_form(**values), "csrf_token": web_office.csrf(client)},
        )
        assert answer.status_code == 400, case
        assert message in answer.text, case
    assert _feed(web_office, host.ref)["name"] == "Maria Schmidt"
    assert not _audit(web_office, "host.update")
    assert client.get("/hosts/no-such-host").status_code == 404


def test_deactivating_a_host_tells_the_kiosks_and_reactivating_brings_it_back(
    web_office: WebOffice,
) -> None:
    host = web_office.store.add_host(SITE, "Maria Schmidt", email="maria@example.com")
    client = web_office.as_role("admin")
    token = web_office.csrf(client)
    answer = client.post(f"/hosts/{host.ref}/active", data={"active": "0", "csrf_token": token})
    assert answer.status_code == 303
    assert _feed(web_office, host.ref)["active"] is False
    assert "inactive" in client.get("/hosts").text
    client.post(f"/hosts/{host.ref}/active", data={"active": "1", "csrf_token": token})
    assert _feed(web_office, host.ref)["active"] is True
    assert [e.action for e in _audit(web_office, "host.deactivate")] == ["host.deactivate"]
    assert len(_audit(web_office, "host.reactivate")) == 1


def test_an_edited_host_reaches_the_kiosks_with_the_same_ref(
    office: Office, kiosks: KioskFactory
) -> None:
    store = office.store
    staff = StaffDirectory(store.db, store.clock)
    site_id = store.site(SITE).id
    with store.db.connection_context():
        host = directory.save_host(
            store,
            staff,
            site_id,
            "reception1",
            directory.HostFields(name="李娜", department="行政部"),
        )
    kiosk, client = kiosks.new()
    client.run_once()
    with store.db.connection_context():
        directory.save_host(
            store, staff, site_id, "reception1",
            directory.HostFields(name="李娜", department="财务部", availability="out"), host.ref,
        )  # fmt: skip
        directory.set_host_active(store, staff, site_id, "reception1", host.ref, False)
    client.run_once()
    with kiosk.using():
        [copy] = list(Host.select().where(Host.name == "李娜"))
        assert copy.ref == host.ref
        assert (copy.department, copy.availability, copy.active) == ("财务部", "out", False)


# ---------------------------------------------------------------- masking


def test_channel_urls_are_masked_wherever_a_secret_can_hide() -> None:
    assert directory.mask_url("mailto://user:secret@host.example") == (
        "mailto://user:***@host.example"
    )
    assert directory.mask_url("mailto://li.na@example.com") == "mailto://li.na@example.com"
    assert directory.mask_url("json://hooks.example.com/notify?token=abc123") == (
        "json://hooks.example.com/notify?token=***"
    )
    slack = directory.mask_url("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#general")
    assert slack == "slack://***/***/***/#general"
    assert directory.mask_url("dingtalk://5ec4f00dtoken/") == "dingtalk://***/"
    assert "hunter2" not in directory.mask_url("ntfy://bob:hunter2@ntfy.example/alerts")
    current = ["mailto://a:pw1@mail.example", "mailto://a:pw2@mail.example"]
    masked = directory.mask_url(current[0])
    assert directory.restore_masked([masked, masked, "json://x.example/"], current) == [
        *current,
        "json://x.example/",
    ]


# ---------------------------------------------------------------- CSV import


def _upload(web_office: WebOffice, client: Any, content: bytes) -> Any:
    return client.post(
        "/hosts/import",
        data={"csrf_token": web_office.csrf(client)},
        files={"file": ("hosts.csv", content, "text/csv")},
    )


def test_a_good_csv_with_a_bom_imports_every_row_and_updates_hosts_by_email(
    web_office: WebOffice,
) -> None:
    existing = web_office.store.add_host(
        SITE, "Maria S.", email="Maria@example.com", channels=["json://hooks.example.com/m"]
    )
    content = (
        "\ufeffname,department,email,phone,delegate_email,channels\n"
        "李娜,行政部,li.na@example.com,+86 21 5555 0101,zhang.wei@example.com,"
        "mailto://li.na@example.com json://hooks.example.com/li\n"
        "张伟,IT,zhang.wei@example.com,,,\n"
        "Maria Schmidt,Finance,maria@example.com,+49 30 1234,,\n"
    ).encode()
    client = web_office.as_role("admin")  # the file adds a webhook
    answer = _upload(web_office, client, content)
    assert answer.status_code == 303, answer.text
    assert "Imported 2 new hosts and updated 1" in client.get(answer.headers["location"]).text
    with web_office.store.db.connection_context():
        hosts = {host.email: host for host in OfficeHost.select()}
    assert len(hosts) == 3
    li, zhang = hosts["li.na@example.com"], hosts["zhang.wei@example.com"]
    assert li.name == "李娜" and li.delegate_ref == zhang.ref
    assert json.loads(li.channels) == ["mailto://li.na@example.com", "json://hooks.example.com/li"]
    maria = _feed(web_office, existing.ref)  # the same host, updated
    assert maria["name"] == "Maria Schmidt" and maria["department"] == "Finance"
    assert maria["channels"] == ["json://hooks.example.com/m"]  # empty cell: kept
    assert _feed(web_office, zhang.ref)["name"] == "张伟"
    [entry] = _audit(web_office, "host.import")
    assert sorted(json.loads(entry.detail)["created"]) == sorted([li.ref, zhang.ref])


def test_a_csv_with_bad_rows_shows_every_problem_and_imports_nothing(
    web_office: WebOffice,
) -> None:
    content = (
        "name,department,email,phone,delegate_email,channels\n"
        "李娜,行政部,li.na@example.com,,,\n"
        ",IT,nobody@example.com,,,\n"
        "张伟,IT,not-an-address,,,\n"
        "Wang Fang,IT,wang@example.com,no digits,,\n"
        "Chen Jie,IT,chen@example.com,,ghost@example.com,\n"
        "Liu Yang,IT,liu@example.com,,,notaurl\n"
        "Li Na Again,IT,LI.NA@example.com,,,\n"
    ).encode()
    client = web_office.as_role("reception")
    answer = _upload(web_office, client, content)
    assert answer.status_code == 400
    page = answer.text
    assert "Nothing was imported" in page
    rows = re.findall(r"<tr><td>(\d+)</td><td>([^<]*)</td></tr>", page)
    assert [int(line) for line, _ in rows] == [3, 4, 5, 6, 7, 8]
    messages = dict(rows)
    assert "name: is required" in messages["3"]
    assert "not an e-mail address" in messages["4"]
    assert "phone: has no digits" in messages["5"]
    assert "no host has the address ghost@example.com" in messages["6"]
    assert "not a channel URL" in messages["7"]
    assert "also on line 2" in messages["8"]
    with web_office.store.db.connection_context():
        assert OfficeHost.select().count() == 0
        assert ChangeLog.select().where(ChangeLog.entity == "host").count() == 0


def test_a_csv_that_is_not_utf8_or_has_unknown_columns_is_refused(web_office: WebOffice) -> None:
    client = web_office.as_role("reception")
    gbk = "name,department\n李娜,行政部\n".encode("gbk")
    answer = _upload(web_office, client, gbk)
    assert answer.status_code == 400 and "is not UTF-8" in answer.text
    answer = _upload(web_office, client, b"name,mail\nEve,eve@example.com\n")
    assert answer.status_code == 400 and "unknown columns mail" in answer.text
    answer = _upload(web_office, client, b"name,department\n")
    assert answer.status_code == 400 and "has no hosts" in answer.text
    with web_office.store.db.connection_context():
        assert OfficeHost.select().count() == 0


# ---------------------------------------------------------------- test notification


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    with webhook_server() as hook:
        yield hook.url("hook"), hook.posts


def test_the_test_notification_reports_each_channel_masked(
    web_office: WebOffice, webhook: tuple[str, list[dict[str, Any]]]
) -> None:
    url, received = webhook
    refused = f"json://127.0.0.1:{free_port()}/hook?token=very-secret-token"
    host = web_office.store.add_host(SITE, "李娜", channels=[url, refused])
    # The receiver is on loopback, so this office allows channels on its own network.
    web_office.app.state.web.settings = replace(web_office.settings, allow_private_channels=True)
    client = web_office.as_role("reception")
    answer = client.post(f"/hosts/{host.ref}/test", data={"csrf_token": web_office.csrf(client)})
    assert answer.status_code == 200
    page = answer.text
    assert "very-secret-token" not in page
    items = re.findall(r"<li><code>([^<]*)</code>\s*<span class=\"badge (\w+)\">", page)
    assert items == [
        (directory.mask_url(url), "ok"),
        (directory.mask_url(refused).replace("&", "&amp;"), "bad"),
    ]
    [message] = received
    assert "李娜" in message["message"] and "Riverside Tower" in message["title"]
    [entry] = _audit(web_office, "host.test_notification")
    assert "very-secret-token" not in entry.detail


@pytest.mark.parametrize(
    ("role", "url", "refusal"),
    [
        ("reception", "json://hooks.example.com/notify", "only an admin may add a webhook"),
        ("reception", "form://hooks.example.com/notify", "only an admin may add a webhook"),
        ("admin", "json://127.0.0.1:8470/v1/events", "127.0.0.1 is not a public address"),
        ("admin", "json://169.254.169.254/latest", "169.254.169.254 is not a public address"),
        ("admin", "jsons://10.0.0.5/hook", "10.0.0.5 is not a public address"),
        ("admin", "json://[::1]/hook", "::1 is not a public address"),
        ("admin", "json://localhost/hook", "localhost is not a public address"),
        ("reception", "mailto://user:pw@192.168.1.10", "192.168.1.10 is not a public address"),
        ("reception", "ntfy://127.0.0.1/topic", "127.0.0.1 is not a public address"),
    ],
)
def test_a_channel_the_person_may_not_add_is_refused(
    web_office: WebOffice, role: str, url: str, refusal: str
) -> None:
    host = web_office.store.add_host(SITE, "Maria Schmidt", email="maria@example.com")
    client = web_office.as_role(role)

    answer = client.post(
        f"/hosts/{host.ref}",
        data={**_host_form(channels=url), "csrf_token": web_office.csrf(client)},
    )

    assert answer.status_code == 400 and refusal in answer.text
    assert url not in _feed(web_office, host.ref)["channels"]


def test_private_addresses_are_allowed_when_the_settings_say_so(web_office: WebOffice) -> None:
    web_office.app.state.web.settings = replace(web_office.settings, allow_private_channels=True)
    host = web_office.store.add_host(SITE, "Maria Schmidt", email="maria@example.com")
    client = web_office.as_role("admin")

    answer = client.post(
        f"/hosts/{host.ref}",
        data={**_host_form(channels="json://10.0.0.5/hook"), "csrf_token": web_office.csrf(client)},
    )

    assert answer.status_code == 303
    assert "json://10.0.0.5/hook" in _feed(web_office, host.ref)["channels"]


def test_reception_keeps_an_admins_webhook_when_editing_the_host(web_office: WebOffice) -> None:
    webhook = "json://hooks.example.com/notify"
    host = web_office.store.add_host(SITE, "Maria Schmidt", channels=[webhook])
    client = web_office.as_role("reception")
    form = client.get(f"/hosts/{host.ref}").text
    shown = re.search(r'<textarea[^>]*name="channels"[^>]*>([^<]*)</textarea>', form)
    assert shown is not None

    answer = client.post(
        f"/hosts/{host.ref}",
        data={**_host_form(name="Maria S.", channels=html.unescape(shown.group(1))),
              "csrf_token": web_office.csrf(client)},
    )  # fmt: skip

    assert answer.status_code == 303
    assert _feed(web_office, host.ref)["channels"] == [webhook]


def test_the_test_notification_is_not_sent_to_a_private_address(web_office: WebOffice) -> None:
    host = web_office.store.add_host(SITE, "李娜", channels=["json://127.0.0.1:9/hook"])
    client = web_office.as_role("reception")

    answer = client.post(f"/hosts/{host.ref}/test", data={"csrf_token": web_office.csrf(client)})

    assert "127.0.0.1 is not a public address" in answer.text

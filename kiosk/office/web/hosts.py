"""The host directory (reception and admin): search, add, edit, deactivate, import from
CSV, and a test notification to each of a host's channels. The logic is in
kiosk.office.directory; these handlers read forms and pick the page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from kiosk.domain.errors import InvalidInput, NotFound
from kiosk.domain.values import HostAvailability
from kiosk.notify.channels import AppriseSender
from kiosk.office import directory
from kiosk.office.models import OfficeHost
from kiosk.office.staff import Role, Staff
from kiosk.office.web import N_, PageRefused, channel_policy, require, web, words
from kiosk.office.web.labels import codes
from kiosk.office.web.notices import done, notice

router = APIRouter()
may_edit = require(Role.RECEPTION)


class HostForm(BaseModel):
    """The add and edit forms' fields (a checkbox sends "on", or nothing)."""

    name: str = Field("", max_length=400)
    department: str = Field("", max_length=400)
    email: str = Field("", max_length=400)
    phone: str = Field("", max_length=100)
    availability: str = Field("in", max_length=20)
    delegate_ref: str = Field("", max_length=64)
    is_senior: str = ""
    walk_in_needs_approval: str = ""
    active: str = ""
    channels: str = Field("", max_length=20_000)


def _notice(request: Request, staff: Staff) -> str:
    by_ref = {host.ref: host.name for host in directory.hosts_of(staff.site_id)}
    return notice(words(request, staff), request.query_params, by_ref.get)


def _form_page(
    request: Request,
    staff: Staff,
    host: OfficeHost | None,
    status: int = 200,
    values: dict[str, Any] | None = None,
    **context: Any,
) -> Response:
    """The add/edit form; `values` are what was typed, shown again after a refusal."""
    if values is None:
        values = {
            "name": host.name if host else "",
            "department": host.department if host else "",
            "email": host.email if host else "",
            "phone": host.phone if host else "",
            "availability": host.availability if host else HostAvailability.IN.value,
            "delegate_ref": host.delegate_ref if host else "",
            "is_senior": host.is_senior if host else False,
            "walk_in_needs_approval": host.walk_in_needs_approval if host else False,
            "active": host.active if host else True,
            "channels": "\n".join(directory.mask_url(url) for url in directory.host_channels(host))
            if host
            else "",
        }
    delegates = [
        other
        for other in directory.hosts_of(staff.site_id, include_inactive=False)
        if host is None or other.ref != host.ref
    ]
    return web(request).page(
        request,
        staff,
        "hosts_form.html",
        status,
        host=host,
        values=values,
        delegates=delegates,
        availabilities=codes("availability"),
        **context,
    )


@router.get("/hosts")
def hosts_list(request: Request, q: str = "", staff: Staff = Depends(may_edit)) -> Response:
    with web(request).db():
        hosts = directory.hosts_of(staff.site_id, q[:200])
        by_ref = {host.ref: host for host in directory.hosts_of(staff.site_id)}
        return web(request).page(
            request,
            staff,
            "hosts.html",
            hosts=hosts,
            by_ref=by_ref,
            query=q,
            notice=_notice(request, staff),
            availabilities=codes("availability"),
            channel_count=lambda host: len(directory.host_channels(host)),
        )


@router.get("/hosts/new")
def new_host_form(request: Request, staff: Staff = Depends(may_edit)) -> Response:
    with web(request).db():
        return _form_page(request, staff, None)


@router.post("/hosts/new")
def new_host(
    request: Request,
    form: Annotated[HostForm, Form()],
    staff: Staff = Depends(may_edit),
) -> Response:
    return _save(request, staff, None, form.model_dump())


@router.get("/hosts/import")
def import_form(request: Request, staff: Staff = Depends(may_edit)) -> Response:
    return web(request).page(
        request, staff, "hosts_import.html", columns=directory.HOST_CSV_COLUMNS
    )


@router.post("/hosts/import")
def import_hosts(
    request: Request, staff: Staff = Depends(may_edit), file: UploadFile = File(...)
) -> Response:
    data = file.file.read(directory.MAX_IMPORT_BYTES + 1)
    context = web(request)
    with context.db():
        result = directory.import_hosts(
            context.store, context.staff, staff.site_id, staff.username, data,
            channel_policy(request, staff),
        )  # fmt: skip
    _ = words(request, staff)
    if result.errors:
        return context.page(
            request,
            staff,
            "hosts_import.html",
            400,
            columns=directory.HOST_CSV_COLUMNS,
            errors=result.errors,
            filename=file.filename or "",
            error=_("Nothing was imported: correct these rows and upload the file again."),
        )
    return done("/hosts", "hosts_imported", created=result.created, updated=result.updated)


@router.get("/hosts/{ref}")
def edit_host_form(request: Request, ref: str, staff: Staff = Depends(may_edit)) -> Response:
    with web(request).db():
        return _form_page(request, staff, _host(staff, ref), notice=_notice(request, staff))


@router.post("/hosts/{ref}")
def edit_host(
    request: Request,
    ref: str,
    form: Annotated[HostForm, Form()],
    staff: Staff = Depends(may_edit),
) -> Response:
    return _save(request, staff, ref, form.model_dump())


def _save(request: Request, staff: Staff, ref: str | None, values: dict[str, Any]) -> Response:
    context = web(request)
    _ = words(request, staff)
    with context.db():
        host = _host(staff, ref) if ref else None
        for flag in ("is_senior", "walk_in_needs_approval", "active"):
            values[flag] = bool(values[flag])
        try:
            fields = directory.HostFields(
                name=values["name"].strip(),
                department=values["department"].strip(),
                email=values["email"].strip(),
                phone=values["phone"].strip(),
                availability=values["availability"],
                delegate_ref=values["delegate_ref"],
                is_senior=values["is_senior"],
                walk_in_needs_approval=values["walk_in_needs_approval"],
                active=values["active"],
                channels=directory.parse_channels(
                    values["channels"].splitlines(),
                    directory.host_channels(host) if host else (),
                    policy=channel_policy(request, staff),
                ),
            )
            saved = directory.save_host(
                context.store, context.staff, staff.site_id, staff.username, fields, ref
            )
        except InvalidInput as err:
            return _form_page(request, staff, host, 400, values, error=_.problem(str(err)))
    return done(f"/hosts/{saved.ref}", "saved")


@router.post("/hosts/{ref}/active")
def set_active(
    request: Request,
    ref: str,
    staff: Staff = Depends(may_edit),
    active: str = Form(""),
) -> Response:
    context = web(request)
    with context.db():
        host = directory.set_host_active(
            context.store, context.staff, staff.site_id, staff.username, _host(staff, ref).ref,
            active == "1",
        )  # fmt: skip
    return done("/hosts", "reactivated" if host.active else "deactivated", ref=host.ref)


@router.post("/hosts/{ref}/test")
def test_notification(request: Request, ref: str, staff: Staff = Depends(may_edit)) -> Response:
    context = web(request)
    with context.db():
        host = _host(staff, ref)
        outcomes = directory.send_test_notification(
            context.staff, staff.site_id, staff.username, host.ref, AppriseSender(),
            channel_policy(request, staff),
        )  # fmt: skip
        return _form_page(request, staff, host, outcomes=outcomes)


def _host(staff: Staff, ref: str) -> OfficeHost:
    try:
        return directory.host_of(staff.site_id, ref)
    except NotFound as err:
        raise PageRefused(404, N_("There is no such host at this site.")) from err

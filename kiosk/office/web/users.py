"""Staff accounts (admin only): add, deactivate, reactivate, and reset a password. A new
password is made up here and shown once, to be passed on; only its hash is kept."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from kiosk.domain.errors import InvalidInput, NotFound
from kiosk.office import directory, site_admin, staff_accounts
from kiosk.office.staff import Role, Staff
from kiosk.office.web import N_, PageRefused, require, web, words
from kiosk.office.web.notices import done, notice

router = APIRouter()
admin_only = require()


def _page(request: Request, staff: Staff, status: int = 200, **context: object) -> Response:
    hosts = directory.hosts_of(staff.site_id, include_inactive=False)
    return web(request).page(
        request,
        staff,
        "users.html",
        status,
        users=staff_accounts.users_of(staff.site_id),
        hosts=hosts,
        host_names={host.ref: host.name for host in directory.hosts_of(staff.site_id)},
        roles=[role.value for role in Role],
        zone=site_admin.site_timezone(staff.site_id),
        **context,
    )


@router.get("/users")
def users(request: Request, staff: Staff = Depends(admin_only)) -> Response:
    with web(request).db():
        names = {str(user.id): user.username for user in staff_accounts.users_of(staff.site_id)}
        shown = notice(words(request, staff), request.query_params, names.get)
        return _page(request, staff, notice=shown, values={})


@router.post("/users")
def add_user(
    request: Request,
    staff: Staff = Depends(admin_only),
    username: str = Form("", max_length=64),
    display_name: str = Form("", max_length=400),
    role: str = Form("", max_length=20),
    host_ref: str = Form("", max_length=64),
) -> Response:
    context = web(request)
    _ = words(request, staff)
    with context.db():
        try:
            user, password = staff_accounts.add_user(
                context.staff, staff.site_id, staff.username, username=username,
                display_name=display_name.strip(), role=role, host_ref=host_ref,
                language=staff.language,  # a new colleague reads what the admin reads
            )  # fmt: skip
        except (InvalidInput, NotFound) as err:
            message = str(err) if isinstance(err, InvalidInput) else "host: choose the host"
            message = _.problem(message)
            values = {"username": username, "display_name": display_name, "role": role,
                      "host_ref": host_ref}  # fmt: skip
            return _page(request, staff, 400, error=message, values=values)
        # Shown once, on this answer only: a redirect would have to carry it in the URL.
        return _page(request, staff, values={}, new_password=(user.username, password))


@router.post("/users/{user_id}/active")
def set_active(
    request: Request, user_id: int, staff: Staff = Depends(admin_only), active: str = Form("")
) -> Response:
    context = web(request)
    with context.db():
        try:
            user = staff_accounts.set_user_active(
                context.staff, staff.site_id, staff.username, user_id, active == "1"
            )
        except NotFound as err:
            raise PageRefused(404, N_("There is no such user at this site.")) from err
        except InvalidInput as err:
            return _page(
                request, staff, 400, error=words(request, staff).problem(str(err)), values={}
            )
    return done("/users", "reactivated" if user.active else "deactivated", ref=str(user.id))


@router.post("/users/{user_id}/password")
def reset_password(request: Request, user_id: int, staff: Staff = Depends(admin_only)) -> Response:
    context = web(request)
    with context.db():
        try:
            user, password = staff_accounts.reset_password(
                context.staff, staff.site_id, staff.username, user_id
            )
        except NotFound as err:
            raise PageRefused(404, N_("There is no such user at this site.")) from err
        return _page(request, staff, values={}, new_password=(user.username, password))

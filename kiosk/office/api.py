"""The office's HTTP API (FastAPI; the OpenAPI document is at /openapi.json).

    POST /v1/enrol     trade a one-time code for enrolment (unsigned: the code is the proof)
    POST /v1/events    a batch of the kiosk's events; a result per event
    GET  /v1/changes   the site's changes after a cursor
    GET  /v1/health    liveness, and the office's clock

Bodies are capped before they are read (413 above the limit), and a signed request's
headers are checked before its body is: nobody can make the office buffer a large body
without being an enrolled kiosk.

`build_office` is the office's composition root: it builds the store's companions once
(the staff directory, the visitors' mailer, the forwarder of kiosks' notifications), and
`create_app` serves them.

Every answer carries the office's time (`server_time`, and the `X-Office-Time` header) so a
kiosk can measure its clock skew. Database trouble is 503 with Retry-After, never a 500.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response
from peewee import OperationalError, PeeweeException
from playhouse.pool import MaxConnectionsExceeded
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from kiosk.domain.errors import InvalidInput, KioskError, NotFound
from kiosk.notify.channels import AppriseSender, Sender
from kiosk.office.cases.parts import CaseParts, build_case_parts
from kiosk.office.db import open_office_database
from kiosk.office.deliveries.reminders import ParcelReminders
from kiosk.office.fleet import Forbidden, Unauthorized
from kiosk.office.forwarding import OfficeForwarder
from kiosk.office.invitations import InvitationMailer
from kiosk.office.settings import OfficeSettings
from kiosk.office.staff import StaffDirectory
from kiosk.office.store import OfficeStore
from kiosk.office.web import WebContext
from kiosk.office.web.pages import mount_web
from kiosk.sync.wire import enrolment_mac, sign_answer

MIB = 1024 * 1024
MAX_BATCH = 5000
#: The most bytes of body the office reads (Starlette's body limit: 413 above it, refused on
#: Content-Length before a byte is read, else counted as it streams in): a batch of events,
#: an enrolment, and any other request (staff's forms and uploads: above the imports' own
#: 2 MB limits, so that a file a little too large gets the page that says so).
MAX_BODY = 16 * MIB
MAX_ENROL_BODY = 8 * 1024
MAX_FORM_BODY = 8 * MIB
T = TypeVar("T")


class EnrolRequest(BaseModel):
    # Either the code itself (older kiosks, over TLS) or its id, a nonce and the HMAC of
    # the request keyed with the code's key (kiosk.sync.wire): the code never crosses.
    code: str = Field(default="", max_length=64)
    code_id: str = Field(default="", max_length=64)
    nonce: str = Field(default="", max_length=64)
    proof: str = Field(default="", max_length=128)
    kiosk_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    name: str = Field(default="", max_length=200)
    auth_public_key: str = Field(min_length=64, max_length=64)
    badge_public_key: str = Field(min_length=64, max_length=64)


class EnrolResponse(BaseModel):
    kiosk_id: str
    site: str
    server_time: str
    # The site's salt for document-number hashes (hex): one salt for the office and every
    # kiosk of the site, so a watchlist entry's document hash made at the office matches.
    document_salt: str
    # The office's public keys, which sign its answers from now on, and the HMAC of this
    # answer keyed with the code's key (absent when the kiosk sent the code itself).
    office_keys: list[str] = []
    office_proof: str = ""


class EventResultModel(BaseModel):
    event_id: str
    status: str
    error: str = ""


class IngestResponse(BaseModel):
    results: list[EventResultModel]
    server_time: str


EVENT_BATCH_SCHEMA = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["events"],
                "properties": {
                    "events": {
                        "type": "array",
                        "maxItems": MAX_BATCH,
                        "items": {
                            "type": "object",
                            "required": ["event_id", "seq", "kind", "occurred_at", "payload"],
                            "properties": {
                                "event_id": {"type": "string"},
                                "seq": {"type": "integer"},
                                "kind": {"type": "string"},
                                "subject_ref": {"type": "string"},
                                "occurred_at": {"type": "string", "format": "date-time"},
                                "payload": {"type": "object"},
                            },
                        },
                    }
                },
            }
        }
    },
}
SIGNED_HEADERS = [
    {"name": name, "in": "header", "required": True, "schema": {"type": "string"}}
    for name in ("X-Kiosk-Id", "X-Kiosk-Time", "X-Kiosk-Nonce", "X-Kiosk-Signature")
]


@dataclass(frozen=True)
class Office:
    """Everything of the office, each part built once (`build_office`): the store over the
    database, the staff directory, the visitors' mailer and the forwarder of the
    notifications kiosks hand over. The web pages and the background loops share them."""

    store: OfficeStore
    settings: OfficeSettings
    staff: StaffDirectory
    mailer: InvitationMailer
    forwarder: OfficeForwarder
    #: Reminders of waiting parcels and the desk's daily list (kiosk.office.deliveries).
    parcel_reminders: ParcelReminders
    cases: CaseParts


def build_office(
    store: OfficeStore, settings: OfficeSettings | None = None, *, sender: Sender | None = None
) -> Office:
    """The office's composition root: the one place that builds its parts."""
    settings = settings or OfficeSettings.from_environment()
    sender = sender or AppriseSender()  # one sender: forwarded messages and overdue cases
    return Office(
        store=store,
        settings=settings,
        staff=StaffDirectory(store.db, store.clock, session_hours=settings.session_hours),
        mailer=InvitationMailer(store, settings),
        forwarder=OfficeForwarder(store.db, store.clock, sender=sender),
        parcel_reminders=ParcelReminders(store.db, store.clock, sender=sender),
        cases=build_case_parts(store.db, store.clock, store.feed, sender),
    )


def create_app(
    store: OfficeStore, settings: OfficeSettings | None = None, *, office: Office | None = None
) -> FastAPI:
    """The office: the kiosks' API under /v1 and the staff's web pages (kiosk.office.web),
    over the parts `build_office` makes (kept on `app.state.office`), or those given: `kiosk
    office serve` shares one set with its background threads."""
    office = office or build_office(store, settings)
    docs = office.settings.api_docs
    app = FastAPI(
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
        max_body_size=MAX_FORM_BODY,
        title="Lobby kiosk office",
        version="1",
        description="Kiosks push their events and pull what they need to decide offline.",
    )
    app.state.office = office
    mount_web(app, WebContext(store, office.settings, office.staff, office.mailer))
    kiosks = KioskRequests(store)
    _add_error_answers(app, kiosks)
    _add_enrolment(app, kiosks)
    _add_sync(app, kiosks)
    return app


class KioskRequests:
    """What the kiosks' routes share: the office's time on every answer, database work in
    the thread pool, signed requests checked and signed answers made."""

    def __init__(self, store: OfficeStore) -> None:
        self.store = store

    def server_time(self) -> str:
        return self.store.clock.now().isoformat()

    def answer(
        self, status: int, content: Any, headers: dict[str, str] | None = None
    ) -> JSONResponse:
        return JSONResponse(
            content, status, headers={"X-Office-Time": self.server_time(), **(headers or {})}
        )

    async def in_database(self, work: Callable[[], T]) -> T:
        def run() -> T:
            with self.store.db.connection_context():
                return work()

        return await run_in_threadpool(run)

    async def signed(self, request: Request) -> tuple[Any, bytes]:
        """The kiosk that signed the request, and its body."""
        # Who claims to send it is checked before the body is read (BodyLimit caps the
        # read), so that an unsigned sender cannot make the office buffer anything.
        store = self.store
        headers = {key.lower(): value for key, value in request.headers.items()}
        claimed = await self.in_database(lambda: store.check_signature_headers(headers))
        body = await request.body()
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        kiosk = await self.in_database(
            lambda: store.authenticate(request.method, path, headers, body, claimed)
        )
        return kiosk, body

    def signed_answer(self, request: Request, body: bytes) -> Response:
        """A 200 answer to a kiosk's signed request, signed with the office's keys over its
        status, the request's nonce, the office's time and the body (kiosk.sync.wire)."""
        office_time = self.server_time()
        nonce = request.headers.get("x-kiosk-nonce", "")
        keys = self.store.office_keys.signing(self.store.clock.now())
        headers = {"X-Office-Time": office_time, **sign_answer(keys, 200, nonce, office_time, body)}
        return Response(body, media_type="application/json", headers=headers)


def _add_error_answers(app: FastAPI, kiosks: KioskRequests) -> None:
    @app.exception_handler(KioskError)
    async def refused(_request: Request, err: KioskError) -> JSONResponse:
        status = {Unauthorized: 401, Forbidden: 403, NotFound: 404, InvalidInput: 400}.get(
            type(err), 400
        )
        return kiosks.answer(status, {"detail": str(err)})

    @app.exception_handler(RecursionError)
    async def too_deep(_request: Request, _err: RecursionError) -> JSONResponse:
        # JSON nested thousands deep, read by FastAPI for a typed body (/v1/enrol).
        return kiosks.answer(400, {"detail": "the body nests too deeply"})

    @app.exception_handler(MaxConnectionsExceeded)
    async def no_free_connection(_request: Request, _err: MaxConnectionsExceeded) -> JSONResponse:
        # Every connection of the pool stayed busy for POOL_WAIT_SECONDS (kiosk.office.db).
        detail = {"detail": "the office database is busy"}
        return kiosks.answer(503, detail, {"Retry-After": "5"})

    @app.exception_handler(PeeweeException)
    async def database_trouble(_request: Request, err: PeeweeException) -> JSONResponse:
        # The kiosk keeps its events and tries again; nothing is lost by waiting.
        reason = (
            "the office database is busy" if isinstance(err, OperationalError) else "database error"
        )
        return kiosks.answer(503, {"detail": reason}, {"Retry-After": "5"})


def _add_enrolment(app: FastAPI, kiosks: KioskRequests) -> None:
    store = kiosks.store

    @app.get("/v1/health")
    async def health() -> dict[str, str]:
        return {"status": "ok", "server_time": kiosks.server_time()}

    @app.post(
        "/v1/enrol",
        response_model=EnrolResponse,
        responses={403: {}, 400: {}, 413: {}},
        max_body_size=MAX_ENROL_BODY,
    )
    async def enrol(request: EnrolRequest) -> JSONResponse:
        fields = {
            "kiosk_id": request.kiosk_id,
            "name": request.name,
            "auth_public_key": request.auth_public_key,
            "badge_public_key": request.badge_public_key,
        }
        code_key: bytes | None = None
        if request.code_id:
            kiosk, code_key = await kiosks.in_database(
                lambda: store.enrol_with_proof(
                    request.code_id, request.proof, request.nonce, fields
                )
            )
        else:
            kiosk = await kiosks.in_database(lambda: store.enrol(request.code, **fields))
        site = await kiosks.in_database(lambda: kiosk.site.name)
        salt = await kiosks.in_database(lambda: store.document_salt(kiosk.site).hex())
        content: dict[str, Any] = {
            "kiosk_id": kiosk.kiosk_id,
            "site": site,
            "server_time": kiosks.server_time(),
            "document_salt": salt,
            "office_keys": await kiosks.in_database(
                lambda: store.office_keys.public(store.clock.now())
            ),
        }
        if code_key is not None:
            proven = {**content, **fields, "nonce": request.nonce}
            content["office_proof"] = enrolment_mac(code_key, "answer", proven)
        return kiosks.answer(200, content)


def _add_sync(app: FastAPI, kiosks: KioskRequests) -> None:
    store = kiosks.store

    @app.post(
        "/v1/events",
        response_model=IngestResponse,
        openapi_extra={"requestBody": EVENT_BATCH_SCHEMA, "parameters": SIGNED_HEADERS},
        responses={400: {}, 401: {}, 403: {}, 413: {}, 503: {}},
        max_body_size=MAX_BODY,
    )
    async def events(request: Request) -> Response:
        kiosk, body = await kiosks.signed(request)
        try:
            batch = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise InvalidInput("body", "is not JSON") from err
        except RecursionError as err:
            raise InvalidInput("body", "nests too deeply") from err
        if not isinstance(batch, dict) or not isinstance(batch.get("events"), list):
            raise InvalidInput("body", 'must be {"events": [...]}')
        if len(batch["events"]) > MAX_BATCH:
            raise InvalidInput("events", f"at most {MAX_BATCH} events a batch")
        report = await kiosks.in_database(lambda: store.ingest(kiosk, batch["events"]))
        body = json.dumps(
            {
                "results": [vars(result) for result in report.results],
                "server_time": kiosks.server_time(),
            }
        ).encode()
        return kiosks.signed_answer(request, body)

    @app.get(
        "/v1/changes",
        openapi_extra={"parameters": SIGNED_HEADERS},
        responses={200: {"content": {"application/json": {}}}, 401: {}, 403: {}, 503: {}},
    )
    async def changes(
        request: Request,
        cursor: int = Query(0, ge=0, le=2**62),
        limit: int = Query(1000, ge=1, le=10_000),
    ) -> Response:
        kiosk, _ = await kiosks.signed(request)
        rows, next_cursor, more = await kiosks.in_database(
            lambda: store.changes(kiosk, cursor, limit)
        )
        body = (
            f'{{"changes":{rows},"cursor":{next_cursor},"more":{json.dumps(more)},'
            f'"server_time":{json.dumps(kiosks.server_time())}}}'
        ).encode()
        return kiosks.signed_answer(request, body)


def app_from_environment() -> FastAPI:
    """The app for `uvicorn --factory` workers: settings from the environment
    (kiosk.office.settings), the database from $KIOSK_OFFICE_DB."""
    settings = OfficeSettings.from_environment()
    store = OfficeStore(open_office_database(settings.database_url or None))
    return create_app(store, settings)

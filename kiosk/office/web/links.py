"""The page behind a kiosk's notification links: public, no sign-in.

    GET  /l/{token}   says what the link will do, with a button; does nothing
    POST /l/{token}   does it, once across the office (OfficeStore.redeem_link)
    GET, POST /s/{code}  the same for a text message's short link (kiosk.notify.short_links)

A GET never acts: mail scanners and chat apps fetch links to preview them, and a host's
"I'm on my way" must not be pressed by a robot. The token itself is the capability (signed
by the kiosk, single use, expiring), so the form carries no session or CSRF token; the
page has no other action. Every refusal (not a link, forged, revoked kiosk, expired, used,
too late) has its own page and status, in the reader's language (Accept-Language, or the
`lang` the page's language links set): zh_Hans, zh_Hant or English.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from kiosk.notify.i18n import LANGUAGES, N_, pick_language, place_name
from kiosk.notify.links import LinkRefusal, LinkRefused
from kiosk.notify.short_links import is_code
from kiosk.office.short_links import token_for
from kiosk.office.store import LinkPreview
from kiosk.office.web import web
from kiosk.office.web.templating import ENDONYMS, HTML_LANG, environment

router = APIRouter()

#: The HTTP status of each refusal's page.
REFUSAL_STATUS = {
    LinkRefusal.MALFORMED: 404,
    LinkRefusal.FORGED: 403,
    LinkRefusal.REVOKED: 403,
    LinkRefusal.EXPIRED: 410,
    LinkRefusal.USED: 410,
    LinkRefusal.TOO_LATE: 409,
    LinkRefusal.NOT_YET: 409,
    LinkRefusal.FOREIGN: 403,
}
#: The layout's own words (base.html), translated here for the link pages.
LAYOUT_WORDS = (N_("Lobby kiosk office"), N_("Office"))


def _language(request: Request) -> str:
    chosen = request.query_params.get("lang", "")
    if chosen in LANGUAGES:
        return chosen
    return pick_language(request.headers.get("accept-language", ""))


def _render(
    request: Request, template: str, language: str, status: int = 200, **context: object
) -> HTMLResponse:
    html = (
        environment(language)
        .get_template(template)
        .render(
            request=request,
            staff=None,
            nav=[],
            csrf_token="",
            path=request.url.path,
            language=language,
            html_lang=HTML_LANG[language],
            languages=[(code, ENDONYMS[code]) for code in LANGUAGES],
            place=lambda link: place_name(link.site_name, link.kiosk_name, language),
            **context,
        )
    )
    response = HTMLResponse(html, status)
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _refused(request: Request, language: str, err: LinkRefused) -> HTMLResponse:
    return _render(
        request,
        "link_result.html",
        language,
        REFUSAL_STATUS.get(err.reason, 400),
        refusal=err.reason.value,
        link=None,
    )


@router.get("/l/{token}")
def link_page(request: Request, token: str) -> Response:
    language = _language(request)
    try:
        preview: LinkPreview = web(request).store.link_preview(token)
    except LinkRefused as err:
        return _refused(request, language, err)
    return _render(request, "link.html", language, link=preview, token=token)


def _named_by(request: Request, code: str, language: str) -> str | HTMLResponse:
    """The token a short link's code names (kiosk.office.short_links), else its refusal."""
    token = token_for(web(request).store.db, code)
    if token is not None:
        return token
    reason = LinkRefusal.NOT_YET if is_code(code) else LinkRefusal.MALFORMED
    return _refused(request, language, LinkRefused(reason, "no such short link yet"))


@router.get("/s/{code}")
def short_link_page(request: Request, code: str) -> Response:
    """A text message's short link: the same page as the link it names."""
    named = _named_by(request, code, _language(request))
    return named if isinstance(named, HTMLResponse) else link_page(request, named)


@router.post("/s/{code}")
def use_short_link(request: Request, code: str) -> Response:
    named = _named_by(request, code, _language(request))
    return named if isinstance(named, HTMLResponse) else use_link(request, named)


@router.post("/l/{token}")
def use_link(request: Request, token: str) -> Response:
    language = _language(request)
    try:
        done = web(request).store.redeem_link(token)
    except LinkRefused as err:
        return _refused(request, language, err)
    return _render(request, "link_result.html", language, link=done, refusal=None)

"""The notice a page shows after a form's answer (post, redirect, get).

The redirect carries a code from NOTICES, never text: a page shows only the office's own
sentences, so nobody can send staff a link whose page says what they like ("?done=Your
account is locked, call…"). A name in a notice comes from the database, looked up by the
ref in the query within the reader's site, and numbers are read as numbers only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from urllib.parse import urlencode

from fastapi.responses import RedirectResponse

from kiosk.office.web.templating import N_, Translator

#: Each notice's code and its sentence; %(name)s is the named thing's name.
NOTICES = {
    "saved": N_("Saved. Kiosks learn it on their next sync."),
    "settings_saved": N_("Settings saved."),
    "added": N_("%(name)s added."),
    "reactivated": N_("%(name)s reactivated."),
    "deactivated": N_("%(name)s deactivated."),
    "kiosk_revoked": N_("Kiosk %(name)s revoked."),
    "hosts_imported": N_("Imported %(created)s new hosts and updated %(updated)s."),
}
#: The numbers a notice may show.
NUMBERS = ("created", "updated")


def done(
    path: str, code: str, *, ref: str = "", fragment: str = "", **numbers: int
) -> RedirectResponse:
    """The redirect after a form: to `path`, with the notice `code` (and what it names)."""
    assert code in NOTICES, code
    query = {
        "done": code,
        **({"ref": ref} if ref else {}),
        **{k: str(v) for k, v in numbers.items()},
    }
    return RedirectResponse(f"{path}?{urlencode(query)}{'#' + fragment if fragment else ''}", 303)


def notice(_: Translator, query: Mapping[str, str], name_of: Callable[[str], str | None]) -> str:
    """The sentence for the query's notice code, in the reader's language; "" for an
    unknown code, or for a name that is not one of the site's."""
    code = query.get("done", "")
    if code not in NOTICES:
        return ""
    values: dict[str, object] = {}
    for name in NUMBERS:
        text = query.get(name, "")
        values[name] = int(text) if text.isdigit() and len(text) < 10 else 0
    if "%(name)s" in NOTICES[code]:
        named = name_of(query.get("ref", "")[:64])
        if named is None:
            return ""
        values["name"] = named
    return _(NOTICES[code], **values)

"""UI strings in the kiosk's languages, switched at run time.

Catalogues are gettext files, `locale/<language>/LC_MESSAGES/kiosk.po`, compiled to
`kiosk.mo` beside them (both committed; `make i18n` extracts, updates and compiles them
with Babel). Languages are named by script, not by country (`zh_Hans`, `zh_Hant`, `en`),
and each catalogue is read once, directly, without the process locale.

In `.kv` files a string is written `_("Expected today", app.language)`: naming
`app.language` makes Kivy re-evaluate the expression when the language changes, and
Babel extracts the first argument.
"""

from __future__ import annotations

import gettext
import logging
from functools import cache
from pathlib import Path

log = logging.getLogger(__name__)

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "kiosk"

#: What each language is called on the language switch: in itself, never translated.
ENDONYMS = {"zh_Hans": "简体", "zh_Hant": "繁體", "en": "English"}


def catalogue_path(language: str, suffix: str = ".mo") -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}{suffix}"


@cache
def catalogue(language: str) -> gettext.NullTranslations:
    """The compiled catalogue of `language`; English source strings if it has none."""
    try:
        with catalogue_path(language).open("rb") as file:
            return gettext.GNUTranslations(file)
    except OSError:
        if language != "en":
            log.warning("no compiled catalogue for %s: showing English", language)
        return gettext.NullTranslations()


def translate(message: str, language: str) -> str:
    """`message` (an English source string) in `language`."""
    return catalogue(language).gettext(message)


def endonym(language: str) -> str:
    return ENDONYMS.get(language, language)


#: The conventional name, for `.kv` files (`#:import _ kiosk.ui.i18n._`) and Babel.
_ = translate

"""Which screen goes by which name, and when each is built."""

from __future__ import annotations

from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.screens.cases import CasesScreen
from kiosk.ui.screens.checkout import CheckoutScreen, RatingScreen
from kiosk.ui.screens.deliveries import DELIVERY_SCREENS
from kiosk.ui.screens.forms import (
    AgreementScreen,
    DetailsScreen,
    HostScreen,
    IdNumberScreen,
    MatchesScreen,
    PhotoScreen,
    VisitorScreen,
)
from kiosk.ui.screens.notices import MessageScreen, NoticeScreen, PrintingScreen
from kiosk.ui.screens.staff import AdminScreen, GuardScreen, PinScreen, VerdictScreen
from kiosk.ui.screens.welcome import ScanScreen, WelcomeScreen

#: When each screen is built. A screen is some 20-70 widgets with their bindings and label
#: textures, and a lobby kiosk spends most of its day at rest between visitors, so only
#: what a touch on the welcome screen opens is kept; the rest is built when needed and let
#: go when the kiosk returns to the welcome screen (KioskApp.prebuild and home).
#:   KEPT_SCREENS   built once the welcome screen is drawn, one a frame, and kept
#:   VISIT_SCREENS  the steps after the first: built one a frame once a visitor has left
#:                  the welcome screen (while they read or type on the first one), so
#:                  that their touches still find the next screen ready
#:   the others     the staff's and the rarer paths: built when shown
KEPT_SCREENS = frozenset({"welcome", "scan", "visitor", "notice"})
VISIT_SCREENS = frozenset({"host", "details", "agreement", "photo", "printing"})

SCREENS: dict[str, type[KioskScreen]] = {
    "welcome": WelcomeScreen,
    "scan": ScanScreen,
    "notice": NoticeScreen,
    "visitor": VisitorScreen,
    "host": HostScreen,
    "details": DetailsScreen,
    "idnumber": IdNumberScreen,
    "matches": MatchesScreen,
    "agreement": AgreementScreen,
    "photo": PhotoScreen,
    "printing": PrintingScreen,
    "message": MessageScreen,
    "checkout": CheckoutScreen,
    "rating": RatingScreen,
    "pin": PinScreen,
    "guard": GuardScreen,
    "verdict": VerdictScreen,
    "admin": AdminScreen,
    **DELIVERY_SCREENS,
    "cases": CasesScreen,
}

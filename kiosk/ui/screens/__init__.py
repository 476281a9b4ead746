"""The screens. Each has its own `.kv` file of the same name; this package is their logic,
one module per group of screens, and this module only re-exports them.

- `base`: what every screen shares (`KioskScreen`, `FormScreen`, `SearchScreen`, helpers);
- `welcome`: the greeting and the camera's scan screen;
- `forms`: the visitor's details, the host's choice, the purpose, a typed identity number,
  several matching appointments, the agreement and the photo;
- `notices`: the notice screen, the printing screen (the check-in itself) and the message
  for an absent host;
- `checkout`: check-out by name and the rating;
- `staff`: the PIN, guard mode, a badge's verdict and administration;
- `registry`: which screen goes by which name (`SCREENS`) and when each is built.

Screens call the services (`self.services`, a `kiosk.ui.services.KioskServices`) and ask
the App to move on (`self.app.go(name)`). Results from device threads (codes seen by the
camera, a badge printed) come back through `later()`, on the UI thread.
"""

from __future__ import annotations

from kiosk.ui.screens.base import FormScreen, KioskScreen, SearchScreen, clock_time, make
from kiosk.ui.screens.checkout import CheckoutScreen, RatingScreen
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
from kiosk.ui.screens.registry import KEPT_SCREENS, SCREENS, VISIT_SCREENS
from kiosk.ui.screens.staff import AdminScreen, GuardScreen, PinScreen, VerdictScreen
from kiosk.ui.screens.welcome import ScanScreen, WelcomeScreen
from kiosk.ui.services import KioskServices

__all__ = [
    "KEPT_SCREENS",
    "SCREENS",
    "VISIT_SCREENS",
    "AdminScreen",
    "AgreementScreen",
    "CheckoutScreen",
    "DetailsScreen",
    "FormScreen",
    "GuardScreen",
    "HostScreen",
    "IdNumberScreen",
    "KioskScreen",
    "KioskServices",
    "MatchesScreen",
    "MessageScreen",
    "NoticeScreen",
    "PhotoScreen",
    "PinScreen",
    "PrintingScreen",
    "RatingScreen",
    "ScanScreen",
    "SearchScreen",
    "VerdictScreen",
    "VisitorScreen",
    "WelcomeScreen",
    "clock_time",
    "make",
]

"""The staff's screens: the PIN keypad, guard mode (who is on site, alerts, roll call), a
badge's verdict at the door, and administration (devices, reprints, settings).
"""

from __future__ import annotations

import logging
from typing import Any

from kivy.clock import Clock
from kivy.factory import Factory
from kivy.lang import global_idmap
from kivy.properties import (
    BooleanProperty,
    DictProperty,
    ListProperty,
    ObjectProperty,
    StringProperty,
)

from kiosk.domain.errors import KioskError
from kiosk.ui import flow
from kiosk.ui.flow import N_
from kiosk.ui.i18n import translate
from kiosk.ui.screens.base import NO_FIGURE, KioskScreen, clock_time
from kiosk.ui.theme import text_size
from kiosk.ui.widgets import later, texture_from_jpeg

log = logging.getLogger(__name__)

#: How often the guard's on-site list is read again while it is shown, in seconds.
GUARD_REFRESH_SECONDS = 3.0


class PinScreen(KioskScreen):
    """The guard's or the admin's PIN, on a keypad; locked after repeated failures."""

    role = StringProperty("guard")
    digits = StringProperty("")
    message_id = StringProperty("")
    message = StringProperty("")
    args = DictProperty({})

    def on_pre_enter(self, *_args: object) -> None:
        self.digits = ""
        self.set_message("")

    def set_message(self, message: str, **args: str) -> None:
        self.message_id, self.args = message, args
        self.on_language(self.app.language)

    def on_language(self, language: str) -> None:
        self.message = (
            translate(self.message_id, language).format(**self.args) if self.message_id else ""
        )

    def press(self, key: str) -> None:
        if key == "back":
            self.digits = self.digits[:-1]
        elif key == "ok":
            self.submit()
        elif len(self.digits) < 12:
            self.digits += key

    def submit(self) -> None:
        result = self.services.check_pin(self.role, self.digits)
        self.digits = ""
        if result.ok:
            self.app.go("guard" if self.role == "guard" else "admin")
        elif result.not_set:
            self.set_message(N_("No PIN has been set for this role on this kiosk."))
        elif result.locked_for_s:
            self.set_message(
                N_("Too many wrong PINs. Try again in {minutes} min."),
                minutes=str(max(1, round(result.locked_for_s / 60))),
            )
        else:
            self.set_message(N_("Wrong PIN. {left} tries left."), left=str(result.attempts_left))

    def reset(self) -> None:
        self.digits = ""
        self.set_message("")


class GuardScreen(KioskScreen):
    """Guard mode: scan badges, everyone on site (synced or not), roll call, alerts.

    The list is the one `kiosk onsite` prints and the roll call prints (the engine's
    `on_site`), read again every GUARD_REFRESH_SECONDS while the screen is shown: a
    check-in or check-out here or at another kiosk shows without a touch.
    """

    # Not `on_site`: Kivy takes a name starting with "on_" for an event, and a property
    # of that name never dispatches (the list was drawn only when something else redrew).
    visitors = ListProperty([])
    alerts = ListProperty([])
    status_id = StringProperty("")
    status = StringProperty("")
    _refreshing: Any = None

    def on_pre_enter(self, *_args: object) -> None:
        self.refresh()
        self._refreshing = Clock.schedule_interval(self.refresh, GUARD_REFRESH_SECONDS)

    def on_leave(self, *_args: object) -> None:
        if self._refreshing is not None:
            self._refreshing.cancel()
            self._refreshing = None

    def refresh(self, *_args: object) -> None:
        try:
            visitors, alerts = self.services.on_site(), self.services.recent_alerts()[:20]
        except KioskError:  # keep what is shown; the next round tries again
            log.exception("reading who is on site failed")
            return
        if visitors != self.visitors:
            self.visitors = visitors
        if alerts != self.alerts:
            self.alerts = alerts

    def on_visitors(self, *_args: object) -> None:
        box = self.ids.visitors
        box.clear_widgets()
        standalone = not self.services.syncs_with_office()
        for entry in self.visitors:
            row = Factory.Row()
            row.add_widget(Factory.Cell(text=entry.visitor_name or NO_FIGURE))
            row.add_widget(Factory.Cell(text=entry.host_name or NO_FIGURE))
            row.add_widget(Factory.Cell(text=clock_time(entry.arrived_at), size_hint_x=0.4))
            if not standalone:  # a kiosk without an office has nothing to sync
                flag = Factory.Cell(text="" if entry.synced else self.t(N_("not synced")))
                flag.size_hint_x, flag.color = 0.6, global_idmap["MUTED"]
                flag.synced_flag = True
                row.add_widget(flag)
            box.add_widget(row)

    def on_alerts(self, *_args: object) -> None:
        box = self.ids.alerts
        box.clear_widgets()
        for alert in self.alerts:
            row = Factory.Row()
            row.add_widget(Factory.Cell(text=clock_time(alert.at), size_hint_x=0.3))
            label = self.t(ALERT_LABELS.get(alert.kind, ALERT_LABELS["other"]))
            row.add_widget(Factory.Cell(text=label.format(subject=alert.subject or NO_FIGURE)))
            box.add_widget(row)

    def roll_call(self) -> None:
        printed = self.services.print_roll_call()
        self.status_id = N_("Roll call printed.") if printed else N_("The printer is not working.")
        self.on_language(self.app.language)
        self.refresh()

    def on_language(self, language: str) -> None:
        self.status = translate(self.status_id, language) if self.status_id else ""
        self.on_visitors()
        self.on_alerts()

    def reset(self) -> None:
        self.status_id = self.status = ""
        self.visitors, self.alerts = [], []


class VerdictScreen(KioskScreen):
    """A badge's verdict, full screen: VALID with who it is, or INVALID with why."""

    valid = BooleanProperty(False)
    reason_id = StringProperty("")
    visitor_name = StringProperty("")
    company = StringProperty("")
    host_name = StringProperty("")
    arrived = StringProperty("")
    expires = StringProperty("")
    escort = BooleanProperty(False)
    photo = ObjectProperty(None, allownone=True)

    def show_valid(self, badge: Any) -> None:
        self.valid, self.reason_id = True, ""
        self.visitor_name, self.company = badge.visitor_name, badge.company
        self.host_name = badge.host_name
        self.arrived, self.expires = clock_time(badge.arrived_at), clock_time(badge.expires_at)
        self.escort = badge.escort
        self.photo = texture_from_jpeg(badge.photo_jpeg)

    def show_invalid(self, reason: str) -> None:
        self.valid, self.reason_id = False, reason
        self.visitor_name = self.company = self.host_name = self.arrived = self.expires = ""
        self.photo = None

    def reset(self) -> None:
        self.show_invalid("")


class AdminScreen(KioskScreen):
    """Devices, a test print, reprints, today's visits, settings in force, leaving."""

    device = ObjectProperty(None, allownone=True)
    visits = ListProperty([])
    settings = ListProperty([])
    status_id = StringProperty("")
    status = StringProperty("")

    def on_pre_enter(self, *_args: object) -> None:
        self.refresh()

    def refresh(self) -> None:
        self.device = self.services.device_status()
        self.visits = self.services.todays_visits()[:30]
        self.settings = self.services.settings_summary()

    def on_settings(self, *_args: object) -> None:
        self.ids.settings.data = [{"text": flow.setting_words(s, self.t)} for s in self.settings]

    def on_device(self, *_args: object) -> None:
        """The devices' and the office link's state, one line each; a kiosk without an
        office has no link to report (the settings say it works on its own)."""
        grid, device = self.ids.device, self.device
        grid.clear_widgets()
        if device is None:
            return
        camera = {"ok": N_("working"), "lost": N_("not connected")}.get(device.camera, N_("idle"))
        printer = self.t(N_("ready") if device.printer == "ok" else N_("problem"))
        if device.paper_low:
            printer += " · " + self.t(N_("paper low"))
        lines = [
            (self.t(N_("Camera: {state}")).format(state=self.t(camera)), False),
            (self.t(N_("Printer: {state}")).format(state=printer), device.printer != "ok"),
            (self.t(N_("Failed prints: {count}")).format(count=device.failed_jobs), False),
        ]
        if device.office:
            link = (
                self.t(N_("error")) + " · " + device.sync_last_error
                if device.sync_last_error
                else self.t(N_("no errors"))
            )
            lines += [
                (
                    self.t(N_("Not yet sent to the office: {count}")).format(
                        count=device.unsent_events
                    ),
                    False,
                ),
                (
                    self.t(N_("Last sync with the office: {when}")).format(
                        when=device.sync_last_success or self.t(N_("not yet"))
                    ),
                    False,
                ),
                (
                    self.t(N_("Office link: {state}")).format(state=link),
                    bool(device.sync_last_error),
                ),
            ]
        for text, warn in lines:
            grid.add_widget(
                Factory.FieldLabel(text=text, color=global_idmap["WARN" if warn else "INK"])
            )

    def on_visits(self, *_args: object) -> None:
        box = self.ids.visits
        box.clear_widgets()
        for index, visit in enumerate(self.visits):
            row = Factory.Row()
            row.add_widget(Factory.Cell(text=visit.visitor_name))
            row.add_widget(Factory.Cell(text=visit.host_name))
            row.add_widget(Factory.Cell(text=clock_time(visit.arrived_at), size_hint_x=0.4))
            row.add_widget(Factory.Cell(text=self.t(STATE_LABELS.get(visit.state, visit.state))))
            if visit.has_badge:
                button = Factory.KButton(
                    text=self.t(N_("Reprint")), font_size=text_size("TEXT_SMALL")
                )
                button.size_hint, button.width, button.height = (None, None), 128, 48
                button.index = index
                button.bind(on_release=lambda b: self.reprint(b.index))
                row.add_widget(button)
            else:  # the same slot left empty, so every row's columns line up
                row.add_widget(Factory.Widget(size_hint=(None, None), width=128, height=48))
            box.add_widget(row)

    def test_print(self) -> None:
        ok = self.services.print_test_page()
        self.say(N_("Test page printed.") if ok else N_("The printer is not working."))

    def reprint(self, index: int) -> None:
        visit = self.visits[index]
        self.say(N_("Reprinting…"))
        self.services.print_badge(
            visit.visit_ref,
            lambda ok: later(
                lambda: self.say(
                    N_("Badge reprinted.") if ok else N_("The printer is not working.")
                )
            ),
        )

    def say(self, message: str) -> None:
        self.status_id = message
        self.on_language(self.app.language)
        self.device = self.services.device_status()

    def on_language(self, language: str) -> None:
        self.status = translate(self.status_id, language) if self.status_id else ""
        self.on_visits()
        self.on_device()
        self.on_settings()

    def reset(self) -> None:
        self.status_id = self.status = ""
        self.settings = []
        self.visits = []


ALERT_LABELS = {
    "watchlist": N_("Watchlist match: {subject}, sent to reception"),
    "badge_forged": N_("Forged badge refused at the door"),
    "badge_refused": N_("Badge refused at the door: {subject}"),
    "invitation_used_twice": N_("Invitation used twice: {subject}"),
    "nobody_to_notify": N_("Nobody could be told of {subject}'s arrival"),
    "office_forged": N_("Forged answer on the office's network"),
    "badge_not_printed": N_("Badge not printed: {subject}"),
    "printer": N_("Printer problem"),
    "camera": N_("Camera problem"),
    "other": N_("Security alert"),
}


STATE_LABELS = {
    "expected": N_("Expected"),
    "checked_in": N_("Checked in"),
    "awaiting_host": N_("Waiting for host"),
    "host_acknowledged": N_("Host answered"),
    "checked_out": N_("Left"),
    "denied": N_("Refused"),
    "no_show": N_("Did not come"),
}

"""Leaving: check-out without a badge (found by name among those on site) and the rating
of the visit.
"""

from __future__ import annotations

import logging
from typing import Any

from kivy.properties import NumericProperty

from kiosk.domain.errors import AlreadyCheckedOut, AlreadyRated, InvalidInput, KioskError
from kiosk.ui.flow import N_
from kiosk.ui.screens.base import FormScreen, SearchScreen, clock_time

log = logging.getLogger(__name__)


class CheckoutScreen(SearchScreen):
    """Check-out without a badge: find yourself by name among the people on site."""

    def search(self, query: str) -> None:
        query = query.strip()
        if len(query) < 2:
            self.results = []
            return
        try:
            self.results = self.services.find_on_site(query)[:6]
        except InvalidInput:
            self.results = []

    def describe(self, result: Any) -> tuple[str, str]:
        return result.visitor_name, f"{result.host_name} · {clock_time(result.arrived_at)}"

    def choose(self, index: int) -> None:
        entry = self.results[index]
        try:
            self.services.check_out(entry.visit_ref)
        except AlreadyCheckedOut as err:  # checked out meanwhile (a badge, another kiosk)
            self.app.already_checked_out(err)
            return
        self.journey.visit_ref = entry.visit_ref
        self.app.go("rating")


class RatingScreen(FormScreen):
    """How was the visit, 1 to 5, with an optional comment."""

    score = NumericProperty(0)

    def on_pre_enter(self, *_args: object) -> None:
        self.score = 0
        self.ids.comment.text = ""
        self.say("")

    def send(self) -> None:
        if self.score:
            try:
                self.services.rate_visit(
                    self.journey.visit_ref, int(self.score), self.ids.comment.text
                )
            except InvalidInput as err:
                self.field_problem(err)
                return
            except AlreadyRated:  # the first rating stands; thank them all the same
                log.info("visit already rated; the second rating was not stored")
            except KioskError:
                log.exception("the rating could not be recorded")
        self.thank()

    def thank(self) -> None:
        self.app.notice(
            "ok",
            N_("Thank you for your visit"),
            N_("You are checked out. Please leave your badge in the box. Goodbye!"),
            home=True,
            timeout=10,
        )

    def reset(self) -> None:
        super().reset()
        self.score = 0

"""The case screens (issue 19): "Report an issue" step by step, and a scanned receipt's case.

One screen, `CasesScreen` (cases.kv), shows one step at a time: the kind, the place, the
description (the kiosk's keyboard, pinyin included), the category for a repair, whether a
photo may be taken, the contact (skippable for a suggestion only) and the confirmation;
then the slip is printed and the case number said. A scanned receipt shows the case's
number, kind, state and times, and once resolved asks "Were you satisfied?".

The form's id is made once when the report starts, so a double tap on "Send" gives the
engine the same id twice: one case. The engine's refusals (InvalidInput) are said in words
on the step they concern; a printer failure is said on a screen of its own, case kept.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

from kivy.clock import Clock
from kivy.factory import Factory
from kivy.properties import BooleanProperty, StringProperty

from kiosk.domain.errors import IllegalTransition, InvalidInput, KioskError, NotFound
from kiosk.ui.case_services import CASE_KINDS, CaseForm, CaseOpenedView, CaseStatusView
from kiosk.ui.flow import N_, Phrase
from kiosk.ui.screens.base import PREVIEW_FPS, FormScreen, make
from kiosk.ui.widgets import KeyboardDock, later

log = logging.getLogger(__name__)

KIND_LABELS = {
    "complaint": N_("Complaint"),
    "repair": N_("Repair request"),
    "suggestion": N_("Suggestion"),
    "inquiry": N_("Inquiry"),
}
CATEGORY_LABELS = {
    "water": N_("Water"),
    "electricity": N_("Electricity"),
    "lift": N_("Lift"),
    "air_conditioning": N_("Air conditioning"),
    "doors_locks": N_("Doors and locks"),
    "cleaning": N_("Cleaning"),
    "other": N_("Other"),
}
STATE_LABELS = {
    "received": N_("Received"),
    "assigned": N_("Assigned"),
    "in_progress": N_("In progress"),
    "resolved": N_("Resolved"),
    "followed_up": N_("Followed up"),
    "closed": N_("Closed"),
    "reopened": N_("Reopened"),
}
STEP_TITLES = {
    "kind": N_("What would you like to report?"),
    "place": N_("Where is it?"),
    "description": N_("What happened?"),
    "category": N_("What needs repairing?"),
    "photo": N_("A photo of the problem?"),
    "camera": N_("A photo of the problem?"),
    "contact": N_("How can we reach you?"),
    "confirm": N_("Please check and send"),
}
#: The engine's field (before any dot) -> the step to show again and what to say there.
FIELD_STEPS = {
    "description": (
        "description",
        N_("Please check the description: up to 4,000 characters, no tabs."),
    ),
    "place": ("place", N_("Please check the building, floor and unit.")),
    "category": ("category", N_("Please choose what needs repairing.")),
    "photo": ("photo", N_("The photo could not be kept. Please try again or go on without.")),
    "reporter": ("contact", N_("Please type your name and phone number so we can respond.")),
    "reporter.name": ("contact", N_("Please check your name.")),
    "reporter.unit": ("contact", N_("Please check your unit.")),
    "reporter.phone": ("contact", N_("Please check your phone number.")),
}


#: Said on the first step when reception is closed (kiosk.services.cases.deadlines).
AFTER_HOURS_NOTE = N_(
    "Reception is closed now. You can report it here at any hour; we will start on it "
    "when reception opens at {opens}."
)

#: How many of the site's units are offered under the unit field at once.
UNITS_OFFERED = 6


def when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "–"


class CasesScreen(FormScreen):
    """Report an issue, or see a case from its receipt (`mode`: "report" | "status")."""

    mode = StringProperty("report")
    step = StringProperty("kind")
    title = StringProperty("")
    #: The step types text: the keyboard is shown.
    typing = BooleanProperty(False)
    can_go_back = BooleanProperty(False)
    next_label = StringProperty("")
    busy = BooleanProperty(False)
    form: CaseForm = CaseForm("")
    status: CaseStatusView | None = None
    _preview: Any = None
    _fields: dict[str, Any]
    _unit_grid: Any = None

    # ----------------------------------------------------------------- starting

    def start_report(self) -> None:
        """A new report: a new form id, nothing of a previous one."""
        self.mode, self.status, self.busy = "report", None, False
        self.form = CaseForm(submission_key=uuid.uuid4().hex, language=self.app.language)
        self.show_step("kind")

    def start_status(self, scanned: str) -> bool:
        """The case of a scanned receipt; False (and said on a notice) when it cannot be shown."""
        try:
            self.status = self.services.show_case_receipt(scanned)
        except NotFound:
            self.app.notice(
                "info",
                N_("We do not know this case here yet"),
                N_("It will be shown here after the kiosk next hears from the office."),
            )
            return False
        except KioskError:  # forged, expired or not a receipt
            log.info("a case receipt was refused", exc_info=True)
            return False
        self.mode, self.busy = "status", False
        self.show_step("status")
        return True

    def steps(self) -> list[str]:
        steps = ["kind", "place", "description"]
        if self.form.kind == "repair":
            steps.append("category")
        return [*steps, "photo", "contact", "confirm"]

    # ----------------------------------------------------------------- navigation

    def show_step(self, step: str, problem: str = "") -> None:
        self._stop_camera()
        self.step = step
        self.say(problem)
        self._fields = {}
        body = self.ids.body
        body.clear_widgets()
        getattr(self, f"_build_{step}")(body)
        body.parent.scroll_y = 1  # each step from its top (its first line says what it is)
        optional = step == "status" or (step == "contact" and self.form.kind == "suggestion")
        # What may be skipped is not focused, and its keyboard opens only when a field is
        # touched: up at once, it left a 480-pixel screen a strip for the step's lines.
        self.typing = bool(self._fields) and not optional
        for field in self._fields.values() if optional else ():
            field.bind(focus=self._keyboard_for_focus)
        self.can_go_back = self.mode == "report" and step not in ("kind", "status")
        self.on_language(self.app.language)
        if self._fields and not optional:
            first = next(iter(self._fields.values()))
            Clock.schedule_once(lambda _dt: setattr(first, "focus", True), 0)

    def _keyboard_for_focus(self, _field: Any, focused: bool) -> None:
        if focused:
            self.typing = True

    def back(self) -> None:
        self._keep_typed()
        if self.step == "camera":
            self.show_step("photo")
            return
        steps = self.steps()
        index = steps.index(self.step) if self.step in steps else 1
        self.show_step(steps[max(0, index - 1)])

    def next(self) -> None:
        self._keep_typed()
        problem = self._problem_of(self.step)
        if problem:
            self.say(problem)
            return
        if self.step == "confirm":
            self.send()
            return
        if self.step == "status":
            self.answer()
            return
        if self.step == "camera":
            self.take_photo()
            return
        if self.step == "contact" and self.next_label == N_("Skip"):
            self.skip_contact()
            return
        steps = self.steps()
        self.show_step(steps[steps.index(self.step) + 1])

    def _problem_of(self, step: str) -> str:
        form = self.form
        if step == "description" and not form.description.strip():
            return N_("Please describe what happened.")
        named = form.name.strip() and form.phone.strip()
        if step == "contact" and form.kind != "suggestion" and not named:
            return N_("Please type your name and phone number so we can respond.")
        return ""

    def choose_kind(self, kind: str) -> None:
        if kind != self.form.kind:
            self.form.category = ""
        self.form.kind = kind
        self.show_step("place")

    def choose_category(self, category: str) -> None:
        self.form.category = category
        self.show_step("photo")

    def photo_answer(self, agreed: bool) -> None:
        self.form.photo_agreed = agreed
        self.form.photo_jpeg = None
        self.show_step("camera" if agreed else "contact")

    def take_photo(self) -> None:
        self.form.photo_jpeg = self.services.take_photo()
        if self.form.photo_jpeg is None:
            self.say(N_("The camera has no picture. Please try again or go on without."))
            return
        self.show_step("contact")

    def skip_contact(self) -> None:
        self.form.name = self.form.contact_unit = self.form.phone = ""
        self.show_step("confirm")

    def _keep_typed(self) -> None:
        keyboard = self.ids.get("keyboard")
        if keyboard is not None:
            keyboard.commit_composing()
        for name, field in self._fields.items():
            setattr(self.form, name, field.text)

    # ----------------------------------------------------------------- sending

    def send(self) -> None:
        if self.busy:  # a second tap while the first is being sent: nothing more
            return
        self.busy = True
        self.form.language = self.app.language
        try:
            opened = self.services.open_case(self.form)
        except InvalidInput as err:
            self.busy = False
            step, words = FIELD_STEPS.get(err.field) or FIELD_STEPS.get(
                err.field.partition(".")[0], ("confirm", N_("Please check what you typed."))
            )
            self.show_step(step if step in self.steps() else "confirm", words)
            return
        except KioskError:
            self.busy = False
            log.exception("the case could not be recorded")
            self.say(N_("Your report could not be recorded. Please see reception."))
            return
        if not opened.new:
            return
        language = self.app.language
        self.app.notice(
            "info",
            N_("Printing your slip…"),
            N_("Your case number is {number}"),
            args={"number": opened.number},
            home=False,
        )
        self.services.print_case_receipt(
            opened.ref, lambda printed: later(lambda: self.printed(opened, printed)), language
        )

    def printed(self, opened: CaseOpenedView, printed: bool) -> None:
        args = {"number": opened.number, "time": opened.respond_by, "opens": opened.opens}
        if printed:
            body = N_("We will respond by {time}. Please take your slip.")
            if opened.opens:  # after hours: nobody at the desk before it opens
                body = N_(
                    "Reception is closed now and opens at {opens}. We will respond by "
                    "{time}. Please take your slip."
                )
            self.app.notice("ok", N_("Your case number is {number}"), body, args=args, timeout=30)
        else:
            self.app.notice(
                "warn",
                N_("Your case number is {number}"),
                N_(
                    "Your report is recorded, but the slip could not be printed. Please note "
                    "the number. We will respond by {time}."
                ),
                args=args,
                timeout=60,
            )

    def answer(self) -> None:
        """The reporter's follow-up, from the status step's choice and note."""
        status, outcome = self.status, getattr(self, "_outcome", "")
        if status is None:
            return
        if not outcome:
            self.say(N_("Please choose satisfied or not satisfied."))
            return
        note = self._fields["note"].text if "note" in self._fields else ""
        try:
            self.status = self.services.follow_up_case(status.ref, outcome, note)
        except InvalidInput:
            self.say(N_("Please check your note (up to 1,000 characters)."))
            return
        except IllegalTransition:
            self.say(N_("This case cannot be answered now."))
            return
        self.app.notice(
            "ok",
            N_("Thank you for your answer"),
            N_("It has been recorded for case {number}."),
            args={"number": status.number},
            timeout=15,
        )

    # ----------------------------------------------------------------- the steps

    def _add(self, kind: str, **properties: Any) -> Any:
        """A widget of `kind` in the step's body; a `value` that is a Phrase is UI text,
        translated with the rest when the language changes."""
        value = properties.get("value")
        if isinstance(value, Phrase):
            properties["value_id"] = str(value)
        widget = make(kind, **properties)
        self.ids.body.add_widget(widget)
        return widget

    def _field(self, name: str, label: str, layout: str, **properties: Any) -> None:
        self._add("FieldLabel", text=label, source_text=label)
        field = Factory.KField(keyboard=self.ids.keyboard, layout=layout, **properties)
        field.text = getattr(self.form, name)
        self.ids.body.add_widget(field)
        self._fields[name] = field

    def _choices(self, options: list[tuple[str, str]], chosen: str, then: Any) -> None:
        grid = make("ChoiceGrid")
        for value, label in options:
            choice = Factory.Choice(height=self._choice_height())
            choice.source_text, choice.value, choice.chosen = label, value, value == chosen
            choice.bind(on_release=lambda button: then(button.value))
            grid.add_widget(choice)
        self.ids.body.add_widget(grid)

    def _choice_height(self) -> float:
        from kivy.metrics import dp

        return dp(72)

    def _build_kind(self, _body: Any) -> None:
        self.next_label = ""
        opens = self.services.case_reception_opens()
        if opens:  # a case is recorded at any hour; the response waits for the desk
            line = self._add("CaseLine", source_text=AFTER_HOURS_NOTE, strong=True)
            line.source_args = {"opens": opens}
        self._choices([(k, KIND_LABELS[k]) for k in CASE_KINDS], self.form.kind, self.choose_kind)

    def _build_place(self, _body: Any) -> None:
        self.next_label = N_("Next")
        self._field("building", N_("Building"), "latin")
        self._field("floor", N_("Floor"), "digits")
        self._field("unit", N_("Unit (type it even if it is not listed)"), "digits")
        self._unit_grid = make("ChoiceGrid", cols=3)
        self.ids.body.add_widget(self._unit_grid)
        self._fields["unit"].bind(text=lambda _field, typed: self._offer_units(typed))
        self._offer_units(self.form.unit)

    def _offer_units(self, typed: str) -> None:
        """The site's units that start with what is typed (a few), to pick instead."""
        wanted = typed.strip().casefold()
        units = [u for u in self.services.case_units() if u.casefold().startswith(wanted)]
        grid = self._unit_grid
        grid.clear_widgets()
        if units[:1] == [typed.strip()]:
            return  # picked (or typed in full) already
        for unit in units[:UNITS_OFFERED]:
            choice = Factory.Choice(text=unit)
            choice.bind(
                on_release=lambda button: setattr(self._fields["unit"], "text", button.text)
            )
            grid.add_widget(choice)

    def _build_description(self, _body: Any) -> None:
        self.next_label = N_("Next")
        self._field("description", N_("Describe what happened"), "pinyin", multiline=True)
        self._fields["description"].height = self._choice_height() * 2

    def _build_category(self, _body: Any) -> None:
        self.next_label = ""
        options = [(c, CATEGORY_LABELS.get(c, c)) for c in self.services.case_categories()]
        self._choices(options, self.form.category, self.choose_category)

    def _build_photo(self, _body: Any) -> None:
        self.next_label = ""
        self._add("CaseLine", source_text=N_("May the kiosk's camera take a photo of it?"))
        options = [("yes", N_("Yes, take a photo")), ("no", N_("No photo"))]
        self._choices(options, "", lambda value: self.photo_answer(value == "yes"))

    def _build_camera(self, body: Any) -> None:
        self.next_label = N_("Take the photo")
        view = Factory.CameraView(size_hint_y=None, height=self._choice_height() * 5)
        body.add_widget(view)
        self.services.start_camera(lambda _code: None)
        self._preview = Clock.schedule_interval(
            lambda _dt: view.show(self.services.preview_frame()), 1 / PREVIEW_FPS
        )

    def _build_contact(self, _body: Any) -> None:
        self.next_label = N_("Next")
        optional = self.form.kind == "suggestion"
        if optional:
            self._add("CaseLine", source_text=N_("Optional for a suggestion."))
        self._field("name", N_("Your name"), "pinyin", names=True)
        self._field("contact_unit", N_("Your unit"), "digits")
        self._field("phone", N_("Phone"), "digits")
        if optional:
            # "Skip" is the bar's own button, not a line of the step: with the keyboard up
            # on 800x480 the step shows one field, and a Skip above it was out of reach.
            for field in self._fields.values():
                field.bind(text=lambda *_args: self._offer_skip())
            self._offer_skip()

    def _offer_skip(self) -> None:
        """The optional contact's primary button: "Skip" while nothing is typed."""
        typed = any(field.text.strip() for field in self._fields.values())
        self.next_label = N_("Next") if typed else N_("Skip")

    def _build_confirm(self, _body: Any) -> None:
        self.next_label = N_("Send")
        form = self.form
        place = " ".join(p for p in (form.building, form.floor, form.unit) if p.strip())
        lines: list[tuple[str, str]] = [(N_("Kind"), Phrase(KIND_LABELS[form.kind]))]
        if form.kind == "repair":
            category = CATEGORY_LABELS.get(form.category)
            lines.append((N_("Category"), Phrase(category) if category else form.category))
        lines += [
            (N_("Place"), place or "–"),
            (N_("What happened"), form.description.strip()),
            (N_("Photo"), Phrase(N_("Yes") if form.photo_jpeg else N_("No"))),
            (N_("Contact"), " ".join(p for p in (form.name, form.phone) if p.strip()) or "–"),
        ]
        for label, value in lines:
            self._add("CaseLine", source_text=label, value=value)

    def _build_status(self, _body: Any) -> None:
        status = self.status
        assert status is not None
        self.next_label = N_("Send my answer") if status.can_follow_up else ""
        self._outcome = ""
        lines = [
            (N_("Case number"), status.number),
            (N_("Kind"), Phrase(KIND_LABELS.get(status.kind, status.kind))),
            (N_("State"), Phrase(STATE_LABELS.get(status.state, status.state))),
            (N_("Reported"), when(status.opened_at)),
            (N_("Response due"), when(status.response_due_at)),
        ]
        if status.resolved_at:
            lines.append((N_("Resolved"), when(status.resolved_at)))
        for label, value in lines:
            self._add("CaseLine", source_text=label, value=value)
        if status.can_follow_up:
            self._add("CaseLine", source_text=N_("Were you satisfied?"), strong=True)
            options = [("satisfied", N_("Satisfied")), ("not_satisfied", N_("Not satisfied"))]
            self._choices(options, "", self._choose_outcome)
            self._field_note()
        elif status.followed_up:
            self._add("CaseLine", source_text=N_("Thank you, your answer has been recorded."))
        elif not status.resolved_at:
            self._add("CaseLine", source_text=N_("This case is not resolved yet"), strong=True)

    def _field_note(self) -> None:
        self._add("FieldLabel", source_text=N_("A note (optional)"))
        field = Factory.KField(keyboard=self.ids.keyboard, layout="pinyin")
        self.ids.body.add_widget(field)
        self._fields["note"] = field

    def _choose_outcome(self, outcome: str) -> None:
        self._outcome = outcome
        for widget in self.ids.body.walk(restrict=False):
            if hasattr(widget, "chosen") and hasattr(widget, "value"):
                widget.chosen = widget.value == outcome

    # ----------------------------------------------------------------- upkeep

    def on_language(self, language: str) -> None:
        super().on_language(language)
        title = N_("Your case") if self.mode == "status" else STEP_TITLES.get(self.step, "")
        self.title = self.t(title) if title else ""
        for widget in self.ids.body.walk(restrict=False):
            source = getattr(widget, "source_text", "")
            if source:
                values = getattr(widget, "source_args", None)
                widget.text = self.t(source).format(**values) if values else self.t(source)
            value_id = getattr(widget, "value_id", "")
            if value_id:
                widget.value = self.t(value_id)

    def on_typing(self, *_args: object) -> None:
        self._dock_keyboard()

    def on_enter(self, *_args: object) -> None:
        self._dock_keyboard()  # the app gave this screen the keyboard: kept only to type

    def _dock_keyboard(self) -> None:
        """The shared keyboard on this screen's dock only while a step types; otherwise it
        is taken off, so that its keys neither show nor catch touches under the buttons."""
        dock = self.ids.keyboard
        if self.typing:
            dock.adopt()
        elif dock.keyboard is not None:
            KeyboardDock.detach_shared()

    def _stop_camera(self) -> None:
        if self._preview is not None:
            self._preview.cancel()
            self._preview = None
            self.services.stop_camera()

    def on_leave(self, *_args: object) -> None:
        super().on_leave()
        self._stop_camera()

    def reset(self) -> None:
        self._stop_camera()
        super().reset()
        self.form, self.status, self.busy = CaseForm(""), None, False
        self._fields = {}
        self.ids.body.clear_widgets()

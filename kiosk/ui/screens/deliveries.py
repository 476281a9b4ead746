"""The delivery screens (issue 20): a courier logs a parcel (recipient, kind, carrier,
items, then its label is printed), and a recipient collects one (the pickup code typed
on a number pad, or the pickup QR scanned where invitations are; who collects it; a
signature where the site asks). Their rules are in one file, deliveries.kv (`kv_file`).

The engine's work is on the services (kiosk.delivery_screen_services); these screens
only say, in the visitor's language, what happened. A parcel is committed before its
label prints, so a printer failure loses nothing: the screen says so and staff reprint.
"""

from __future__ import annotations

import logging
from typing import Any

from kivy.factory import Factory
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty

from kiosk.domain.errors import InvalidInput, KioskError
from kiosk.ui.deliveries import (
    DeliveryOrder,
    ParcelCodeShared,
    ParcelLine,
    ParcelRefused,
    PickupAttempt,
)
from kiosk.ui.flow import N_
from kiosk.ui.screens.base import FormScreen, KioskScreen, SearchScreen, make
from kiosk.ui.screens.delivery_steps import (
    DeliveryPhotoScreen,
    DeliveryWaybillScreen,
    GuardCollectScreen,
)
from kiosk.ui.screens.delivery_words import (
    CARRIER_LABELS,
    CODE_LENGTH,
    KIND_LABELS,
    carrier_label,
    hand_over_problem,
    refusal_words,
    refuse_pickup,
)
from kiosk.ui.services import ScannedCode
from kiosk.ui.widgets import later

log = logging.getLogger(__name__)


class DeliveryRecipientScreen(SearchScreen):
    """Whom the parcel is for: a person found by name, pinyin or department, or a
    company typed in the same box."""

    kv_file = "deliveries"
    query_text = StringProperty("")

    def on_pre_enter(self, *_args: object) -> None:
        from kiosk.ui.app import load_kv  # the results' rows are the host search's

        load_kv("host")
        super().on_pre_enter()
        self.query_text = ""

    def search(self, query: str) -> None:
        self.query_text = query.strip()
        try:
            self.results = self.services.search_hosts(self.query_text) if self.query_text else []
        except KioskError:
            log.exception("host search failed")
            self.results = []

    def describe(self, result: Any) -> tuple[str, str]:
        return result.name, result.department

    def choose(self, index: int) -> None:
        host = self.results[index]
        self.journey.delivery = DeliveryOrder(host_ref=host.ref, recipient=host.name)
        self.app.go("delivery_kind")

    def for_company(self) -> None:
        company = self.query_text
        if not company:
            self.say(N_("Type the company's name first."))
            return
        self.journey.delivery = DeliveryOrder(company=company, recipient=company)
        self.app.go("delivery_kind")


class DeliveryChoiceScreen(KioskScreen):
    """A grid of choices, one tap each: the parcel's kind, or its carrier."""

    kv_file = "deliveries"
    heading = StringProperty("")
    choices = ListProperty([])  # keys
    next_screen = ""

    def labels(self) -> dict[str, str]:
        raise NotImplementedError

    def pick(self, key: str) -> None:
        raise NotImplementedError

    def on_choices(self, *_args: object) -> None:
        grid = self.ids.grid
        grid.clear_widgets()
        labels = self.labels()
        for key in self.choices:
            choice = Factory.Choice(text=self.t(labels.get(key, key)))
            choice.key = key
            choice.bind(on_release=lambda button: self.pick(button.key))
            grid.add_widget(choice)

    def on_language(self, language: str) -> None:
        self.on_choices()


class DeliveryKindScreen(DeliveryChoiceScreen):
    def on_pre_enter(self, *_args: object) -> None:
        self.heading = N_("What are you delivering?")
        self.choices = list(self.services.delivery_choices().kinds)

    def labels(self) -> dict[str, str]:
        return KIND_LABELS

    def pick(self, key: str) -> None:
        self.journey.delivery.kind = key
        self.app.go("delivery_carrier")


class DeliveryCarrierScreen(DeliveryChoiceScreen):
    def on_pre_enter(self, *_args: object) -> None:
        self.heading = N_("Which company are you delivering for?")
        self.choices = list(self.services.delivery_choices().carriers)

    def labels(self) -> dict[str, str]:
        return CARRIER_LABELS

    def pick(self, key: str) -> None:
        self.journey.delivery.carrier = key
        self.app.go("delivery_items")


class DeliveryItemsScreen(KioskScreen):
    """How many items (1 to 99), what will be logged, and the label printed on a tap."""

    kv_file = "deliveries"
    items = NumericProperty(1)
    recipient = StringProperty("")
    kind_id = StringProperty("")
    carrier_id = StringProperty("")
    busy = BooleanProperty(False)
    waybill = StringProperty("")  # the optional steps' results, as the order holds them
    has_photo = BooleanProperty(False)

    def on_pre_enter(self, *_args: object) -> None:
        order = self.journey.delivery
        self.items, self.recipient, self.busy = order.items, order.recipient, False
        self.kind_id = KIND_LABELS.get(order.kind, order.kind)
        self.carrier_id = carrier_label(order.carrier)
        self.waybill, self.has_photo = order.waybill, order.photo_jpeg is not None

    def change(self, step: int) -> None:
        self.items = min(99, max(1, int(self.items) + step))

    def optional_step(self, screen: str) -> None:
        """The waybill's scan or the parcel's photo, coming back here with the count kept."""
        self.journey.delivery.items = int(self.items)
        self.app.go(screen)

    def confirm(self) -> None:
        if self.busy:  # a second tap while the first is being logged
            return
        self.busy = True
        order = self.journey.delivery
        order.items = int(self.items)
        logged: list[ParcelLine] = []  # filled once log_delivery returns
        try:
            line = self.services.log_delivery(
                kind=order.kind,
                carrier=order.carrier,
                items=order.items,
                host_ref=order.host_ref,
                company=order.company,
                waybill=order.waybill,
                photo_jpeg=order.photo_jpeg,
                on_printed=lambda ok: later(lambda: self.printed(logged, ok)),
            )
        except InvalidInput as err:
            self.busy = False
            log.warning("parcel refused: %s", err)
            self.app.notice(
                "warn",
                N_("This parcel could not be logged"),
                N_("Its waybill number cannot be kept: please scan it again, or skip it.")
                if err.field == "waybill"
                else N_("Please ask reception."),
            )
            return
        logged.append(line)
        self.app.notice("info", N_("Printing the label…"), N_("Please wait a moment."), home=False)

    def printed(self, lines: list[ParcelLine], ok: bool) -> None:
        if not lines:  # the printer answered before the log call returned
            later(lambda: self.printed(lines, ok), 0.05)
            return
        line = lines[0]
        args = {"recipient": line.recipient, "shelf": line.shelf or "–"}
        if not ok:
            self.app.notice(
                "warn",
                N_("The label could not be printed"),
                N_(
                    "The parcel for {recipient} is logged and kept. Please hand it to "
                    "reception: staff will print its label."
                ),
                args=args,
            )
            return
        host_told = not line.recipient_left and self.journey.delivery.host_ref
        self.app.notice(
            "ok",
            N_("Label printed: stick it on the parcel."),
            N_("{recipient} has been told. Please put the parcel on shelf {shelf}.")
            if host_told
            else N_("Reception has been told. Please put the parcel on shelf {shelf}."),
            args=args,
        )

    def reset(self) -> None:
        self.items, self.busy = 1, False


class ParcelCodeScreen(KioskScreen):
    """The six-digit pickup code on a number pad, or the QR at the scan screen."""

    kv_file = "deliveries"
    digits = StringProperty("")
    message = StringProperty("")  # a message id, shown in the current language

    def on_pre_enter(self, *_args: object) -> None:
        self.digits, self.message = "", ""

    def press(self, key: str) -> None:
        if key == "back":
            self.digits = self.digits[:-1]
        elif key == "ok":
            self.look_up()
        elif len(self.digits) < CODE_LENGTH:
            self.digits += key
        self.message = "" if key != "ok" else self.message

    def look_up(self) -> None:
        if len(self.digits) != CODE_LENGTH:
            self.message = N_("The pickup code has six digits.")
            return
        try:
            parcels = self.services.parcels_for_pickup_code(self.digits)
        except ParcelRefused as err:
            refuse_pickup(self, err)
            return
        except InvalidInput:
            self.message = N_("The pickup code has six digits.")
            return
        self.app.journey.pickup = PickupAttempt(code=self.digits)
        self.app.screen("parcel").show(parcels)
        self.app.go("parcel")

    def reset(self) -> None:
        self.digits = self.message = ""


class ParcelScreen(FormScreen):
    """The parcel found (recipient, shelf, kind), who collects it, a signature where the
    site asks for one, and the collection recorded; nothing is printed."""

    kv_file = "deliveries"
    recipient = StringProperty("")
    shelf = StringProperty("")
    kind_id = StringProperty("")
    carrier_id = StringProperty("")
    items = NumericProperty(1)
    logged_at = StringProperty("")
    signature = BooleanProperty(False)
    #: Several waiting parcels share the typed code: (parcel, recipient) to pick from.
    options = ListProperty([])

    def show(self, parcels: list[ParcelLine]) -> None:
        self.options = list(parcels) if len(parcels) > 1 else []
        self.signature = bool(self.services.delivery_choices().signature)
        self.choose(parcels[0])

    def choose(self, parcel: ParcelLine) -> None:
        self.journey.pickup.parcel = parcel
        self.recipient, self.shelf = parcel.recipient, parcel.shelf or "–"
        self.kind_id = KIND_LABELS.get(parcel.kind, parcel.kind)
        self.carrier_id = carrier_label(parcel.carrier)
        self.items, self.logged_at = parcel.items, parcel.logged_at
        self.ids.collector.text = parcel.recipient
        self.ids.signature.clear()
        self.say("")

    def on_options(self, *_args: object) -> None:
        box = self.ids.options
        box.clear_widgets()
        for parcel in self.options:
            choice = Factory.Choice(text=parcel.recipient)
            choice.bind(on_release=lambda _button, p=parcel: self.choose(p))
            box.add_widget(choice)

    def collect(self) -> None:
        pickup = self.journey.pickup
        parcel = pickup.parcel
        name = self.ids.collector.text.strip()
        if parcel is None:
            return
        pad = self.ids.signature
        problem = hand_over_problem(name, self.signature, pad.signed)
        if problem:
            self.say(problem)
            return
        try:
            done = self.services.collect_parcel(
                collected_by=name,
                token=pickup.token,
                code=pickup.code,
                parcel_ref="" if pickup.token else parcel.parcel_ref,
                signature_png=pad.png() if self.signature else None,
            )
        except ParcelRefused as err:
            refuse_pickup(self, err)
            return
        except ParcelCodeShared:  # not with parcel_ref given; said, not raised
            self.say(N_("Please choose the recipient."))
            return
        except InvalidInput as err:
            self.field_problem(err)
            return
        self.app.notice(
            "ok",
            N_("Thank you, {who}"),
            N_("The parcel for {recipient} is recorded as collected. Please take it from {shelf}."),
            args={"who": done.collected_by, "recipient": done.recipient, "shelf": self.shelf},
        )

    def stroke_drawn(self) -> None:
        if self.error_id == N_("Please sign in the box."):  # signed now: said no more
            self.say("")

    def reset(self) -> None:
        super().reset()
        self.options = []
        self.ids.signature.clear()


def parcel_scanned(screen: KioskScreen, code: ScannedCode) -> None:
    """A pickup QR shown at the scan screen: the parcel it names, or why not."""
    try:
        parcel = screen.services.parcel_for_pickup_token(code.text)
    except ParcelRefused as err:
        refuse_pickup(screen, err)
        return
    screen.app.journey.pickup = PickupAttempt(token=code.text)
    screen.app.screen("parcel").show([parcel])
    screen.app.go("parcel")


class GuardParcelsScreen(KioskScreen):
    """Guard mode's parcels still on the shelf: a label reprinted (a printer failed, a
    label came off), or a parcel marked as returned to its sender."""

    kv_file = "deliveries"
    parcels = ListProperty([])  # the waiting parcels that match the search
    status_id = StringProperty("")  # a message id, shown in the current language
    query = StringProperty("")

    #: Set by the hand-over screen: back from it, the guard's search stays as it was.
    back_from_collect = False

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._waiting: list[ParcelLine] = []

    def on_pre_enter(self, *_args: object) -> None:
        if not self.back_from_collect:
            self.ids.query.text = ""  # a new look at the shelf
        self.back_from_collect = False
        self.refresh()

    def on_leave(self, *_args: object) -> None:
        self.status_id = ""
        # Focused on return, a tap would not attach the field to the keyboard again.
        self.ids.query.focus = False

    def refresh(self) -> None:
        try:
            self._waiting = list(self.services.waiting_parcels())
        except KioskError:
            log.exception("reading the waiting parcels failed")
        self.search(self.ids.query.text)

    def search(self, text: str) -> None:
        """The waiting parcels whose recipient's name holds `text`, or whose pickup code
        starts with it (a recipient at the desk without their message says the name)."""
        self.query = text.strip()
        wanted = self.query.casefold()
        self.parcels = [
            parcel
            for parcel in self._waiting
            if not wanted
            or wanted in parcel.recipient.casefold()
            or parcel.pickup_code.startswith(wanted)
        ]

    def collect(self, parcel_ref: str) -> None:
        parcel = next((p for p in self._waiting if p.parcel_ref == parcel_ref), None)
        if parcel is None:
            return
        self.app.screen("guard_collect").show(parcel)
        self.app.go("guard_collect")

    def on_parcels(self, *_args: object) -> None:
        box = self.ids.parcels
        box.clear_widgets()
        for parcel in self.parcels:
            kind = self.t(KIND_LABELS.get(parcel.kind, parcel.kind))
            details = f"{kind} × {parcel.items} · {self.t(carrier_label(parcel.carrier))}"
            box.add_widget(
                make(
                    "GuardParcelRow",
                    parcel_ref=parcel.parcel_ref,
                    recipient=parcel.recipient,
                    details=f"{parcel.pickup_code} · {details} · {parcel.shelf or '–'}"
                    f" · {parcel.logged_at}",
                )
            )

    def on_language(self, language: str) -> None:
        self.on_parcels()

    def reprint(self, parcel_ref: str) -> None:
        self.status_id = N_("Printing the label…")
        words = {True: N_("Label printed."), False: N_("The label could not be printed")}
        self.services.reprint_parcel_label(
            parcel_ref, lambda ok: later(lambda: setattr(self, "status_id", words[ok]))
        )

    def returned(self, parcel_ref: str) -> None:
        try:
            self.services.return_parcel(parcel_ref)
        except ParcelRefused as err:
            self.status_id = refusal_words(err)[0]
        else:
            self.status_id = N_("Marked as returned to the sender.")
        self.refresh()


DELIVERY_SCREENS: dict[str, type[KioskScreen]] = {
    "delivery_recipient": DeliveryRecipientScreen,
    "delivery_kind": DeliveryKindScreen,
    "delivery_carrier": DeliveryCarrierScreen,
    "delivery_items": DeliveryItemsScreen,
    "parcel_code": ParcelCodeScreen,
    "parcel": ParcelScreen,
    "guard_parcels": GuardParcelsScreen,
    "delivery_waybill": DeliveryWaybillScreen,
    "delivery_photo": DeliveryPhotoScreen,
    "guard_collect": GuardCollectScreen,
}

"""The delivery screens' optional steps and the guard's hand-over (issue 20):

- DeliveryWaybillScreen: the courier holds the waybill's barcode (Code 128) or QR to the
  camera, or types its number; a number the engine would refuse (a control character,
  too long) is said on the screen, in words, and not kept.
- DeliveryPhotoScreen: a photo of the parcel with the camera (the parcel only: the
  screen asks that no face be in it); it stays on the kiosk with the parcel's row.
- GuardCollectScreen: in guard mode, a waiting parcel handed over: who collected it, a
  signature where the site asks for one, recorded as collected "by guard".

Their rules are in deliveries.kv; kiosk.ui.screens.deliveries registers them.
"""

from __future__ import annotations

import logging
from typing import Any

from kivy.clock import Clock
from kivy.properties import BooleanProperty, DictProperty, NumericProperty, StringProperty

from kiosk.domain.errors import InvalidInput, KioskError
from kiosk.ui.deliveries import ParcelLine, ParcelRefused
from kiosk.ui.flow import N_
from kiosk.ui.screens.base import PREVIEW_FPS, FormScreen, KioskScreen
from kiosk.ui.screens.delivery_words import (
    KIND_LABELS,
    WAYBILL_PROBLEMS,
    carrier_label,
    hand_over_problem,
    refusal_words,
)
from kiosk.ui.widgets import later, texture_from_jpeg

log = logging.getLogger(__name__)


class DeliveryWaybillScreen(FormScreen):
    """The waybill's number, scanned (Code 128 or QR) or typed; back to the items."""

    kv_file = "deliveries"
    #: The problem's arguments ({count}, {limit}), kept to say it again in another language.
    problem_args = DictProperty({})
    _preview: Any = None

    def on_pre_enter(self, *_args: object) -> None:
        self.say("")
        self.ids.waybill.text = self.journey.delivery.waybill
        self.services.start_waybill_scan(lambda text: later(lambda: self.scanned(text)))
        self._preview = Clock.schedule_interval(self.update_preview, 1 / PREVIEW_FPS)

    def on_leave(self, *_args: object) -> None:
        super().on_leave()
        if self._preview is not None:
            self._preview.cancel()
            self._preview = None
        self.services.stop_waybill_scan()
        self.ids.camera.texture = None

    def update_preview(self, *_args: object) -> None:
        self.ids.camera.show(self.services.preview_frame())

    def scanned(self, text: str) -> None:
        if self.manager is None or self.manager.current != self.name:
            return
        self.app.touched()  # a code shown is the courier doing something
        if self.keep(text):
            self.app.go("delivery_items")

    def use_typed(self) -> None:
        if self.keep(self.ids.waybill.text.strip()):
            self.app.go("delivery_items")

    def skip(self) -> None:
        self.journey.delivery.waybill = ""
        self.app.go("delivery_items")

    def keep(self, text: str) -> bool:
        """The number kept on the order, or the reason it is not said on the screen."""
        problem, limit = self.services.waybill_problem(text)
        if problem:
            self.problem_args = {"count": str(len(text)), "limit": str(limit)}
            self.say(WAYBILL_PROBLEMS.get(problem, WAYBILL_PROBLEMS["unprintable"]))
            return False
        self.journey.delivery.waybill = text
        return True

    def say(self, message: str) -> None:
        super().say(message)
        if message:
            self.error = self.t(message).format(**self.problem_args)

    def on_language(self, language: str) -> None:
        super().on_language(language)
        if self.error_id:
            self.error = self.t(self.error_id).format(**self.problem_args)


class DeliveryPhotoScreen(KioskScreen):
    """A photo of the parcel: the camera's picture, taken on a tap, kept or taken again."""

    kv_file = "deliveries"
    taken = BooleanProperty(False)
    failed = BooleanProperty(False)
    _preview: Any = None
    _jpeg: bytes | None = None

    def on_pre_enter(self, *_args: object) -> None:
        self.retake()
        self.services.start_camera(lambda _code: None)  # codes in view mean nothing here
        self._preview = Clock.schedule_interval(self.update_preview, 1 / PREVIEW_FPS)

    def on_leave(self, *_args: object) -> None:
        if self._preview is not None:
            self._preview.cancel()
            self._preview = None
        self.services.stop_camera()
        self.ids.camera.texture = None
        self.ids.photo.texture = None

    def update_preview(self, *_args: object) -> None:
        if not self.taken:
            self.ids.camera.show(self.services.preview_frame())

    def take(self) -> None:
        self._jpeg = self.services.take_photo()
        self.failed = self._jpeg is None
        texture = texture_from_jpeg(self._jpeg)
        if texture is not None:
            self.ids.photo.texture = texture
        self.taken = self._jpeg is not None

    def retake(self) -> None:
        self.taken, self.failed, self._jpeg = False, False, None
        self.ids.photo.texture = None

    def use(self) -> None:
        if self._jpeg is not None:
            self.journey.delivery.photo_jpeg = self._jpeg
            self.app.go("delivery_items")

    def no_photo(self) -> None:
        self.journey.delivery.photo_jpeg = None
        self.app.go("delivery_items")

    def reset(self) -> None:
        self.retake()


class GuardCollectScreen(FormScreen):
    """A guard hands a waiting parcel over: who takes it, a signature where the site asks."""

    kv_file = "deliveries"
    recipient = StringProperty("")
    shelf = StringProperty("")
    kind_id = StringProperty("")
    carrier_id = StringProperty("")
    items = NumericProperty(1)
    logged_at = StringProperty("")
    pickup_code = StringProperty("")
    signature = BooleanProperty(False)
    parcel_ref = ""

    def show(self, parcel: ParcelLine) -> None:
        self.parcel_ref = parcel.parcel_ref
        self.recipient, self.shelf = parcel.recipient, parcel.shelf or "–"
        self.kind_id = KIND_LABELS.get(parcel.kind, parcel.kind)
        self.carrier_id = carrier_label(parcel.carrier)
        self.items, self.logged_at = parcel.items, parcel.logged_at
        self.pickup_code = parcel.pickup_code
        self.signature = bool(self.services.delivery_choices().signature)
        self.ids.collector.text = ""  # the guard types who stands at the desk
        self.ids.signature.clear()
        self.say("")

    def on_enter(self, *_args: object) -> None:
        self.focus_first("collector")

    def on_leave(self, *_args: object) -> None:
        super().on_leave()
        self.ids.collector.focus = False  # the next parcel's name attaches anew

    def record(self) -> None:
        name = self.ids.collector.text.strip()
        pad = self.ids.signature
        problem = hand_over_problem(name, self.signature, pad.signed)
        if problem:
            self.say(problem)
            return
        try:
            self.services.guard_collect_parcel(
                self.parcel_ref, name, pad.png() if self.signature else None
            )
        except ParcelRefused as err:
            self.say(refusal_words(err)[0])
            return
        except InvalidInput as err:
            self.field_problem(err)
            return
        except KioskError:
            log.exception("recording a collection failed")
            self.say(N_("This could not be recorded. Please try again."))
            return
        guard_list = self.app.screen("guard_parcels")
        guard_list.status_id = N_("Recorded as collected.")
        guard_list.back_from_collect = True
        self.app.go("guard_parcels")

    def back(self) -> None:
        self.app.screen("guard_parcels").back_from_collect = True
        self.app.go("guard_parcels")

    def stroke_drawn(self) -> None:
        if self.error_id == N_("Please sign in the box."):  # signed now: said no more
            self.say("")

    def reset(self) -> None:
        super().reset()
        self.ids.signature.clear()

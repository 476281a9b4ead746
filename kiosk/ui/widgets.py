"""Widgets shared by the screens: text fields for the on-screen keyboard, the language
switch, the camera view with its guide frame, the signature pad and the keyboard itself.

Their look is in `widgets.kv`; nothing here calls a service.
"""

from __future__ import annotations

import io
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.image import Image as CoreImage
from kivy.graphics import Color, Line
from kivy.graphics.texture import Texture
from kivy.metrics import dp
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.screenmanager import Screen
from kivy.uix.scrollview import ScrollView
from kivy.uix.textinput import TextInput
from kivy.uix.widget import Widget

from kiosk.ui.services import Frame


class LanguageButton(Button):
    """One language of the switch, labelled in that language; selected when shown."""

    language = StringProperty("")
    selected = BooleanProperty(False)


class LanguageSwitch(BoxLayout):
    """A row of LanguageButtons, one per language the App offers."""

    choices = ListProperty([])

    def on_choices(self, _switch: object, choices: list[tuple[str, str]]) -> None:
        self.clear_widgets()
        for language, label in choices:
            self.add_widget(LanguageButton(language=language, text=label))


class KField(TextInput):
    """A one-line field typed on the kiosk's own keyboard, never the system's.

    It keeps its focus when a key of the on-screen keyboard is touched, and tells the
    keyboard of its screen (`keyboard`) that it is the one being typed into.
    """

    keyboard = ObjectProperty(None, allownone=True)
    #: "latin", "pinyin" or "digits": the layout the keyboard opens with for this field.
    layout = StringProperty("latin")
    #: A person's name is typed here: pinyin offers whole names first.
    names = BooleanProperty(False)

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("keyboard_mode", "managed")
        kwargs.setdefault("unfocus_on_touch", False)
        kwargs.setdefault("write_tab", False)
        # No Cut/Copy/Paste bubble nor selection handles on a long touch.
        kwargs.setdefault("use_bubble", False)
        kwargs.setdefault("use_handles", False)
        super().__init__(**kwargs)

    # No clipboard and no X cut buffer: what a visitor typed must not be left for the next
    # visitor to paste, and Kivy's X cut buffer needs xclip or xsel, whose absence it
    # reported at start-up as CRITICAL, with a traceback.
    def _ensure_clipboard(self) -> None:
        pass

    def _update_cutbuffer(self, *_args: Any) -> None:
        pass

    def copy(self, data: str = "") -> None:
        pass

    def cut(self) -> None:
        pass

    def paste(self) -> None:
        pass

    def on_focus(self, _field: object, focused: bool) -> None:
        if focused and self.keyboard is not None:
            self.keyboard.attach(self)
        form = self.scrolling_form()
        if form is None:
            return
        # Whenever the form's frame changes while the field is focused (the keyboard
        # opening under it, the window turned or resized), the field is scrolled back
        # into view: a timer alone raced the keyboard's layout and left the field half
        # under it on a slow or busy kiosk.
        if focused:
            form.bind(height=self._frame_changed)
            Clock.schedule_once(self.into_view, 0)
            Clock.schedule_once(self.into_view, 0.1)  # after the keyboard's own layout
        else:
            form.unbind(height=self._frame_changed)

    def _frame_changed(self, *_args: object) -> None:
        Clock.schedule_once(self.into_view, 0)  # once the frame's children are laid out

    def _reset_cursor_blink(self, *args: Any) -> None:
        # Kivy restarts the cursor's blink from a trigger that can fire just after the
        # field has lost its focus (typed into, then the screen left): the field without
        # focus then blinks for ever, a clock event twice a second that also keeps its
        # screen alive after the app has let go of it.
        if self.focus:
            super()._reset_cursor_blink(*args)
        else:
            self._do_blink_cursor_ev.cancel()

    def scrolling_form(self) -> ScrollView | None:
        """The ScrollView this field is in, if it is in one before its screen."""
        holder = self.parent
        while holder is not None and not isinstance(holder, ScrollView | Screen):
            holder = holder.parent  # a screen's parent is the manager, the window's itself
        return holder if isinstance(holder, ScrollView) else None

    def into_view(self, *_args: object) -> None:
        """Scroll the form this field is in so the field shows above the keyboard."""
        form = self.scrolling_form()
        if form is None or not self.focus:
            return
        content = form.children[0] if form.children else None
        if content is not None and content.height <= form.height:
            # Nothing to scroll: Kivy's scroll_to would still move a short form (its
            # distance to scroll divides by a height difference of zero or less), and the
            # fields would slide away from under the visitor's finger.
            form.scroll_y = 1
            return
        # Room for the field's label above it (28 dp) where the frame has it.
        room = max(0.0, (form.height - self.height) / 2)
        form.scroll_to(self, padding=min(dp(36), room) / dp(1), animate=False)


class KeyButton(Button):
    """One key; `key` is what it types or does (`backspace`, `shift`, `pinyin`...)."""

    key = StringProperty("")
    label = StringProperty("")
    wide = NumericProperty(1.0)


class CandidateButton(Button):
    index = NumericProperty(0)


#: Key rows per layout; a key of more than one letter is an action.
LETTER_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
DIGIT_ROWS = ("1234567890", "+-()@._/,X")


class OnScreenKeyboard(BoxLayout):
    """Latin letters, digits, and pinyin with a row of Chinese candidates.

    In pinyin mode letters gather in `composing`; `candidates` are what they may spell
    (words first, then characters, from the services' pinyin dictionaries); touching one
    types it and keeps the rest of the pinyin. Space types the first candidate; the enter
    key types the pinyin as Latin letters.
    """

    target = ObjectProperty(None, allownone=True)
    mode = StringProperty("latin")  # latin | pinyin | digits
    composing = StringProperty("")
    candidates = ListProperty([])
    shift = BooleanProperty(False)
    script = StringProperty("simplified")

    def __init__(self, **kwargs: Any) -> None:
        #: The key rows of each layout built so far, by mode.
        self._layouts: dict[str, list[BoxLayout]] = {}
        super().__init__(**kwargs)

    def on_kv_post(self, _base: object) -> None:
        self.build_keys()

    def on_mode(self, *_args: object) -> None:
        self.build_keys()

    def on_shift(self, *_args: object) -> None:
        for key in self.ids.key_rows.walk(restrict=True):
            if isinstance(key, KeyButton) and len(key.key) == 1 and key.key.isalpha():
                key.label = key.key.upper() if self.shift else key.key

    def on_candidates(self, *_args: object) -> None:
        bar = self.ids.candidates
        bar.clear_widgets()
        for index, (text, _consumed) in enumerate(self.candidates[:10]):
            bar.add_widget(CandidateButton(text=text, index=index))

    def build_keys(self) -> None:
        """The rows of the current layout, as KeyButtons (their look is in widgets.kv).

        Each layout is built once and kept: the keyboard moves between screens whose
        fields want different layouts, and building 40 keys took ~150 ms of a touch."""
        rows = self.ids.key_rows
        rows.clear_widgets()
        layouts = self._layouts
        if self.mode in layouts:
            for line in layouts[self.mode]:
                rows.add_widget(line)
            self.on_shift()
            return
        letters = self.mode != "digits"
        layout = [list(r) for r in (LETTER_ROWS if letters else DIGIT_ROWS)]
        if letters:
            layout[2] = ["shift", *layout[2], "backspace"]
            bottom = ["digits", "pinyin" if self.mode == "latin" else "latin", "space"]
            bottom += ["'", "-", "@", ".", "enter"] if self.mode == "latin" else ["'", "enter"]
        else:
            layout.append(["backspace"])
            bottom = ["latin", "space", "enter"]
        for row in [*layout, bottom]:
            line = BoxLayout(spacing=self.spacing)
            for key in row:
                wide = {"space": 4.0, "enter": 1.8, "backspace": 1.6, "shift": 1.4}.get(key, 1.0)
                if key in ("digits", "pinyin", "latin"):
                    wide = 1.4
                label = key.upper() if self.shift and len(key) == 1 else key
                line.add_widget(KeyButton(key=key, wide=wide, label=label if len(key) == 1 else ""))
            rows.add_widget(line)
        layouts[self.mode] = list(reversed(rows.children))

    def attach(self, field: KField) -> None:
        self.commit_composing()
        self.target = field
        self.mode = field.layout if field.layout != "pinyin" else self.preferred_text_mode()

    def preferred_text_mode(self) -> str:
        app = App.get_running_app()
        return "pinyin" if app and str(app.language).startswith("zh") else "latin"

    def on_composing(self, _keyboard: object, typed: str) -> None:
        if not typed:
            self.candidates = []
            return
        script = "traditional" if self.script == "traditional" else "simplified"
        names = bool(self.target is not None and self.target.names)
        self.candidates = App.get_running_app().services.pinyin_candidates(
            typed, script, 12, names=names
        )

    def press(self, key: str) -> None:
        field = self.target
        if field is None:
            return
        if key == "backspace":
            if self.composing:
                self.composing = self.composing[:-1]
            else:
                field.do_backspace()
        elif key == "space":
            if self.composing and self.candidates:
                self.choose(0)
            else:
                field.insert_text(" ")
        elif key == "enter":
            self.commit_composing()
        elif key == "shift":
            self.shift = not self.shift
        elif key in ("latin", "pinyin", "digits"):
            self.commit_composing()
            self.mode = key
        elif self.mode == "pinyin" and ((key.isalpha() and key.isascii()) or key == "'"):
            self.composing += key.lower()
        else:
            field.insert_text(key.upper() if self.shift else key)
            self.shift = False

    def choose(self, index: int) -> None:
        if self.target is None or index >= len(self.candidates):
            return
        text, consumed = self.candidates[index]
        self.target.insert_text(text)
        self.composing = self.composing[consumed:].lstrip("'")

    def commit_composing(self) -> None:
        if self.composing and self.target is not None:
            self.target.insert_text(self.composing)
        self.composing = ""

    def reset(self) -> None:
        self.composing = ""
        self.shift = False
        self.target = None


class KeyboardDock(BoxLayout):
    """Where a form screen shows the kiosk's one OnScreenKeyboard.

    A keyboard is some 45 widgets (every key a Button with its own label texture), and
    seven form screens each had one. They share one instead: the dock of the screen being
    shown holds it (`adopt`, when the app shows the screen), and a screen and its fields
    talk to their dock as they would to the keyboard.
    """

    #: The shared keyboard while this dock holds it, else None.
    keyboard = ObjectProperty(None, allownone=True)
    script = StringProperty("simplified")

    _shared: OnScreenKeyboard | None = None

    @classmethod
    def forget_shared(cls) -> None:
        """Build the keyboard anew on its next use (a theme switch changes its colours)."""
        cls._shared = None

    @classmethod
    def shared(cls) -> OnScreenKeyboard:
        """The keyboard, built on first use (or ahead of it, by the app's `prebuild`)."""
        if cls._shared is None:
            cls._shared = OnScreenKeyboard()
        return cls._shared

    @classmethod
    def detach_shared(cls) -> None:
        """Take the keyboard off its dock, dropping any pinyin being composed (the visit is
        over): the next form shown adopts it again, and a screen let go is not kept alive
        by the keyboard's link to its parent."""
        keyboard = cls._shared
        if keyboard is None or keyboard.parent is None:
            return
        keyboard.reset()
        dock = keyboard.parent
        dock.remove_widget(keyboard)
        if isinstance(dock, KeyboardDock):
            dock.keyboard = None

    def adopt(self) -> OnScreenKeyboard:
        keyboard = KeyboardDock.shared()
        previous = keyboard.parent
        if previous is not self:
            keyboard.commit_composing()  # the pinyin typed on the screen left, into its field
            keyboard.reset()
            if previous is not None:
                previous.remove_widget(keyboard)
                if isinstance(previous, KeyboardDock):
                    previous.keyboard = None
            self.add_widget(keyboard)
        keyboard.script = self.script
        self.keyboard = keyboard
        return keyboard

    def on_script(self, _dock: object, script: str) -> None:
        if self.keyboard is not None:
            self.keyboard.script = script

    def attach(self, field: KField) -> None:
        self.adopt().attach(field)

    def commit_composing(self) -> None:
        if self.keyboard is not None:
            self.keyboard.commit_composing()

    def reset(self) -> None:
        if self.keyboard is not None:
            self.keyboard.reset()


class CameraView(Widget):
    """The camera's picture with a guide frame; `show(frame)` replaces the picture."""

    texture = ObjectProperty(None, allownone=True)
    #: The guide's share of the shorter side; 0 hides it.
    guide = NumericProperty(0.7)
    mirrored = BooleanProperty(True)

    def show(self, frame: Frame | None) -> None:
        if frame is None:
            return
        texture = self.texture
        if texture is None or tuple(texture.size) != (frame.width, frame.height):
            texture = Texture.create(size=(frame.width, frame.height), colorfmt="rgb")
            texture.flip_vertical()
            if self.mirrored:
                texture.flip_horizontal()
        texture.blit_buffer(frame.pixels, colorfmt=frame.colorfmt, bufferfmt="ubyte")
        if texture is not self.texture:
            self.texture = texture
        else:
            self.canvas.ask_update()


class SignaturePad(Widget):
    """Strokes drawn with a finger; `png()` is the signature, black on white."""

    strokes = ListProperty([])
    ink = ListProperty([0.05, 0.08, 0.12, 1])

    def on_touch_down(self, touch: Any) -> bool:
        if not self.collide_point(*touch.pos):
            return False
        touch.grab(self)
        with self.canvas:
            Color(*self.ink)
            touch.ud["line"] = Line(points=list(touch.pos), width=2.2)
        self.strokes = [*self.strokes, [self._relative(touch.pos)]]
        return True

    def on_touch_move(self, touch: Any) -> bool:
        if touch.grab_current is not self:
            return False
        if self.collide_point(*touch.pos) and "line" in touch.ud:
            touch.ud["line"].points += list(touch.pos)
            self.strokes[-1].append(self._relative(touch.pos))
        return True

    def on_touch_up(self, touch: Any) -> bool:
        if touch.grab_current is not self:
            return False
        touch.ungrab(self)
        self.property("strokes").dispatch(self)  # tell the screen a stroke ended
        return True

    def _relative(self, pos: tuple[float, float]) -> tuple[float, float]:
        return ((pos[0] - self.x) / max(self.width, 1), (pos[1] - self.y) / max(self.height, 1))

    @property
    def signed(self) -> bool:
        return any(len(stroke) > 1 for stroke in self.strokes) or len(self.strokes) > 2

    def clear(self) -> None:
        self.strokes = []
        self.canvas.clear()

    def png(self, size: tuple[int, int] = (600, 200)) -> bytes:
        from PIL import Image, ImageDraw

        image = Image.new("L", size, 255)
        draw = ImageDraw.Draw(image)
        width, height = size
        for stroke in self.strokes:
            points = [(x * width, (1 - y) * height) for x, y in stroke]
            if len(points) == 1:
                points = points * 2
            draw.line(points, fill=0, width=4, joint="curve")
        out = io.BytesIO()
        image.save(out, format="PNG")
        return out.getvalue()


def texture_from_jpeg(jpeg: bytes | None) -> Texture | None:
    if not jpeg:
        return None
    try:
        return CoreImage(io.BytesIO(jpeg), ext="jpg").texture
    except Exception:  # a damaged picture shows no photo, nothing worse
        return None


def later(callback: Any, delay: float = 0) -> None:
    """Run `callback()` on the UI thread: how device threads hand results over."""
    Clock.schedule_once(lambda _dt: callback(), delay)

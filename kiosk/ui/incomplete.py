"""The "installation incomplete" screen: what the touchscreen shows, instead of a half-set-up
kiosk, when first-boot provisioning stopped (a typo or a missing key in kiosk-site.conf).

`kiosk-provision.service` (provisioning/install.sh --site-only) writes its error, with the
site file's line number and key, to PROVISION_FAILED, in /run: it holds for this boot only,
and the next boot, after the file on the boot partition was fixed, tries again. `kiosk run`
(kiosk.service, ordered after it) finds the note and shows this screen rather than the
welcome screen. The screen tells systemd it is up (READY=1, with the status "installation
incomplete") and keeps the watchdog fed, so the kiosk does not restart in a loop. No
visitor can do anything here; the three languages are shown at once, since nobody has
chosen one yet.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kiosk.ui.fonts import UiFont

log = logging.getLogger(__name__)

#: Written by provisioning/install.sh (site mode) when it stops; removed when it succeeds.
PROVISION_FAILED = Path("/run/kiosk/provision-failed")
#: The environment variable that names another note (the tests).
PROVISION_FAILED_ENV = "KIOSK_PROVISION_FAILED"
STATUS = "installation incomplete"
HEADLINES = (
    ("zh_Hans", "安装未完成"),
    ("zh_Hant", "安裝未完成"),
    ("en", "Installation incomplete"),
)
ADVICE = (
    ("zh_Hans", "请管理员修正 SD 卡启动分区上的 kiosk-site.conf，然后重新启动。"),
    ("zh_Hant", "請管理員修正 SD 卡開機分割區上的 kiosk-site.conf，然後重新啟動。"),
    ("en", "An administrator must correct kiosk-site.conf on the SD card's boot partition, "
     "then restart the kiosk."),
)  # fmt: skip


def provision_failure() -> str | None:
    """The provisioning error of this boot, or None when provisioning did not stop."""
    note = Path(os.environ.get(PROVISION_FAILED_ENV) or PROVISION_FAILED)
    try:
        text = note.read_text(encoding="utf-8", errors="replace").strip()
    except FileNotFoundError:
        return None
    except OSError as err:  # unreadable: still not a kiosk to show visitors
        return f"{note}: {err}"
    return text or "provisioning stopped"


def run_incomplete_screen(
    error: str,
    *,
    size: tuple[int, int] | None = None,
    fullscreen: bool = False,
    font_path: str | Path | None = None,
) -> None:
    """Show the screen until the window is closed or the service is stopped."""
    from kiosk.ui.app import configure_window
    from kiosk.ui.fonts import resolve_fonts

    fonts = resolve_fonts([language for language, _text in HEADLINES], font_path)
    configure_window(size, fullscreen)
    log.error("Kiosk: %s: %s", STATUS, error)
    _incomplete_app(fonts, error).run()


def _incomplete_app(fonts: dict[str, UiFont], error: str) -> Any:
    from kivy.app import App
    from kivy.clock import Clock
    from kivy.core.text import LabelBase
    from kivy.uix.boxlayout import BoxLayout
    from kivy.uix.label import Label

    from kiosk.watchdog import Watchdog

    class IncompleteApp(App):
        title = STATUS

        def build(self) -> BoxLayout:
            for language, font in fonts.items():
                LabelBase.register(f"incomplete-{language}", font.regular, fn_bold=font.bold)
            page = BoxLayout(orientation="vertical", padding=48, spacing=16)
            for language, headline in HEADLINES:
                page.add_widget(
                    Label(text=headline, font_name=f"incomplete-{language}", font_size="40sp",
                          bold=True, color=(0.85, 0.2, 0.15, 1))
                )  # fmt: skip
            for language, advice in ADVICE:
                page.add_widget(_wrapped(Label, advice, f"incomplete-{language}", "20sp"))
            page.add_widget(_wrapped(Label, error, "incomplete-en", "16sp"))
            return page

        def on_start(self) -> None:
            self.watchdog = Watchdog.from_environment()
            self.watchdog.ready(STATUS)
            if self.watchdog.watchdog_enabled:
                ping = self.watchdog.ping
                Clock.schedule_interval(lambda _dt: ping(), self.watchdog.ping_interval)

        def on_stop(self) -> None:
            self.watchdog.stopping()

    return IncompleteApp()


def _wrapped(label: Any, text: str, font: str, size: str) -> Any:
    widget = label(text=text, font_name=font, font_size=size, halign="center", valign="middle")
    widget.bind(width=lambda item, width: setattr(item, "text_size", (width, None)))
    return widget


__all__ = ["PROVISION_FAILED", "STATUS", "provision_failure", "run_incomplete_screen"]

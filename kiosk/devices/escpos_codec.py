"""What the kiosk says to an ESC/POS printer, as bytes; how they travel is `printers`.

SECURITY CONTRACT: no text typed or scanned by a visitor ever reaches the printer as
command bytes. Badges, roll calls and test pages are sent as raster graphics only
(`GS v 0`, through python-escpos's `Escpos.image`), so a name containing ESC, GS or DLE is
just pixels. A job is: `ESC @` (initialise), one `GS v 0` block per fragment of at most
`FRAGMENT_ROWS` rows, then feed and cut. The one text path, `text_line`, strips every
C0 and C1 control character and DEL before encoding, and only ASCII survives it.

Status (`interpret_status`) maps the real-time status bytes to ok / problem / unknown:
python-escpos's own `paper_status()` says "plenty of paper" when the printer does not
answer at all, which a kiosk must never believe.
"""

from __future__ import annotations

import re
import unicodedata

from escpos.printer import Dummy
from PIL import Image

from kiosk.devices.protocols import PrinterStatus

ESC, GS, DLE = b"\x1b", b"\x1d", b"\x10"
INIT = ESC + b"@"
#: Real-time status requests (DLE EOT n): 1 printer (online), 4 paper roll sensor.
STATUS_ONLINE_REQUEST = DLE + b"\x04\x01"
STATUS_PAPER_REQUEST = DLE + b"\x04\x04"
#: Rows per GS v 0 block; small blocks suit printers with small receive buffers.
FRAGMENT_ROWS = 256
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def dot_width(profile: str, override: int | None = None) -> int:
    """Printable dots per line from the python-escpos profile (or the configured override)."""
    if override:
        return override
    from escpos.capabilities import get_profile

    pixels = get_profile(profile).profile_data["media"]["width"].get("pixels")
    if not isinstance(pixels, int):
        raise ValueError(f"profile {profile!r} does not state its dot width; set width_pixels")
    return pixels


def profile_dpi(profile: str) -> int:
    """The printer's dot density from the python-escpos profile; 203 when it does not say."""
    from escpos.capabilities import get_profile

    dpi = get_profile(profile).profile_data["media"].get("dpi")
    return dpi if isinstance(dpi, int) else 203


def image_job(image: Image.Image, profile: str, *, cut: bool = True) -> bytes:
    """The complete job printing `image` (1-bit, at most the profile's width) as raster.

    Layout: ESC @, GS v 0 fragments (python-escpos `bitImageRaster`), ESC d 6, GS V 0.
    """
    encoder = Dummy(profile=profile)
    encoder._raw(INIT)
    encoder.image(
        image.convert("1"),
        impl="bitImageRaster",
        high_density_horizontal=True,
        high_density_vertical=True,
        fragment_height=FRAGMENT_ROWS,
        center=False,
    )
    if cut:
        encoder.cut(mode="FULL", feed=True)
    else:
        encoder.print_and_feed(6)
    return encoder.output


def strip_controls(text: str) -> str:
    """`text` without C0, DEL and C1 controls (and other Unicode 'Cc'/'Cf' characters)."""
    text = _CONTROL.sub("", text)
    return "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf"))


def text_line(text: str) -> bytes:
    """A line for the printer's own font: controls stripped, non-ASCII as '?', then LF.

    Only used for fixed strings (the test page's font check); visitor text goes as raster.
    """
    return strip_controls(text).encode("ascii", errors="replace") + b"\n"


def _valid_status_byte(value: int) -> bool:
    # Every DLE EOT answer has bit 1 and bit 4 set, bit 0 and bit 7 clear.
    return value & 0b1001_0011 == 0b0001_0010


def interpret_status(online_reply: bytes | None, paper_reply: bytes | None) -> PrinterStatus:
    """Three honest answers from the DLE EOT 1 and DLE EOT 4 replies (None: no reply).

    No reply, or a reply that is not a status byte, is UNKNOWN: the printer may be fine,
    unplugged, or a transport that cannot read (CUPS, a file). Paper end or offline is a
    PROBLEM. Paper near end is OK with `paper_low`.
    """
    if not online_reply or not paper_reply:
        return PrinterStatus.unknown("the printer did not answer a status request")
    online, paper = online_reply[0], paper_reply[0]
    if not (_valid_status_byte(online) and _valid_status_byte(paper)):
        return PrinterStatus.unknown(f"unexpected status bytes {online:#04x} {paper:#04x}")
    if paper & 0b0110_0000:
        return PrinterStatus.problem("out of paper")
    if online & 0b0000_1000:
        return PrinterStatus.problem("offline: cover open, paper out or an error")
    if paper & 0b0000_1100:
        return PrinterStatus.ok("paper low", paper_low=True)
    return PrinterStatus.ok()

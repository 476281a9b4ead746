"""The printer-font path (opt-in): no string can make a control byte leave the encoder."""

from __future__ import annotations

import pytest
from devices_helpers import make_badge
from escpos_reader import read_job
from hypothesis import given, settings
from hypothesis import strategies as st
from test_escpos_compact import HOSTILE_NAMES

from kiosk.devices.commands import badge_job
from kiosk.devices.config import PrinterConfig
from kiosk.devices.escpos_text import printable_gb18030, text_line

# Every code point, surrogates included, with the dangerous ones made likely.
ANY_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(codec=None, exclude_categories=()),
        st.sampled_from([chr(c) for c in [*range(0x20), 0x7F, *range(0x80, 0xA0)]]),
        st.sampled_from(["\u200f", "\u202e", "\u2028", "\ufeff", "\U00020000", "\ud800"]),
    ),
    max_size=80,
)


@settings(max_examples=400, deadline=None)
@given(ANY_TEXT)
def test_no_control_byte_leaves_the_encoder(text: str) -> None:
    data = printable_gb18030(text)
    assert all(byte >= 0x20 and byte != 0x7F for byte in data)
    line = text_line(text, 576, 2)
    fixed = b"\x1ba\x01\x1d!\x11\x1c&"
    assert line.startswith(fixed) and line.endswith(b"\n\x1c.")
    assert all(byte >= 0x20 and byte != 0x7F for byte in line[len(fixed) : -3])


def test_gb18030_keeps_what_can_be_printed() -> None:
    assert printable_gb18030("张伟 Zhang\x1b@ Wei\u200f") == "张伟 Zhang@ Wei".encode("gb18030")
    four = printable_gb18030("\U00020000")
    assert len(four) == 4 and 0x30 <= four[1] <= 0x39  # a GB18030 four-byte sequence


@pytest.mark.parametrize("profile", ["POS-5890", "TM-T20II"])
@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=["controls", "escpos", "gb4", "rtl", "4000"])
def test_hostile_names_in_the_printer_font(signer, profile: str, name: str) -> None:  # type: ignore[no-untyped-def]
    content = make_badge(signer, name=name, company=name[:50], host_name=name[-30:])
    job = badge_job(content, PrinterConfig(profile=profile, native_text=True))
    printed = read_job(job, 576 if profile == "TM-T20II" else 384)  # strict reader
    for line in printed.text_lines:
        assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in line)
        assert "\u202e" not in line and "\u200f" not in line

"""TD2 (2x36) MRZs, and OCR's 0/O, 1/I, 5/S, 8/B confusions undone only where the check
digits confirm it; a misread that no check confirms is never turned into a document."""

from __future__ import annotations

from datetime import date

import pytest

from kiosk.devices.identity import DocumentKind, find_mrz_text, parse_mrz
from kiosk.devices.mrz_ocr import read_mrz_from_frame
from kiosk.devices.mrz_repair import repair_mrz
from kiosk.domain.errors import InvalidInput

SALT = b"test-salt"
# ICAO 9303 part 6's specimen.
TD2 = "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\nD231458907UTO7408122F1204159<<<<<<<6"
TD3 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"
TD1 = (
    "I<UTOD231458907<<<<<<<<<<<<<<<\n7408122F1204159UTO<<<<<<<<<<<6\nERIKSSON<<ANNA<MARIA<<<<<<<<<<"
)


def test_td2_specimen() -> None:
    doc = parse_mrz(TD2, SALT, today=date(2025, 1, 1))
    assert doc.kind is DocumentKind.ID_TD2
    assert (doc.family_name, doc.given_names) == ("Eriksson", "Anna Maria")
    assert doc.document_number_last4 == "5890" and doc.birth_date == date(1974, 8, 12)
    assert doc.expiry == date(2012, 4, 15) and doc.sex == "F" and doc.nationality == "UTO"
    assert find_mrz_text("VISA\n" + TD2 + "\n") == TD2


@pytest.mark.parametrize("position", [9, 19, 27, 35])
def test_td2_altered_check_digit_is_refused(position: int) -> None:
    one, two = TD2.splitlines()
    wrong = str((int(two[position]) + 1) % 10)
    with pytest.raises(InvalidInput):
        parse_mrz(one + "\n" + two[:position] + wrong + two[position + 1 :], SALT)


def confuse(text: str, line: int, at: int, char: str) -> str:
    lines = text.splitlines()
    lines[line] = lines[line][:at] + char + lines[line][at + 1 :]
    return "\n".join(lines)


@pytest.mark.parametrize(
    ("text", "line", "at"),
    [
        (TD3, 1, 15),  # birth date 740812: its 0 read as O
        (TD3, 1, 21),  # expiry 120415: its 1 read as I
        (TD3, 1, 43),  # the composite check digit 0 read as O
        (TD2, 1, 16),  # TD2 birth date: its 8 read as B
        (TD2, 1, 25),  # TD2 expiry 120415: its 1 read as I
        (TD1, 1, 4),  # TD1 birth date 740812: its 1 read as I
        (TD1, 1, 13),  # TD1 expiry 120415: its 5 read as S
    ],
)
def test_confusions_in_digit_fields_are_undone_and_confirmed(text: str, line: int, at: int) -> None:
    original = text.splitlines()[line][at]
    misread = confuse(text, line, at, {"0": "O", "1": "I", "5": "S", "8": "B"}[original])
    with pytest.raises(InvalidInput):
        parse_mrz(misread, SALT)  # as read
    assert repair_mrz(misread) == text
    assert parse_mrz(repair_mrz(misread), SALT) == parse_mrz(text, SALT)


@pytest.mark.parametrize(
    ("text", "line", "at", "char"),
    [
        (TD3, 1, 13, "Z"),  # not one of the four confusions
        (TD3, 1, 3, "B"),  # in the document number: left to its check digit
        (TD3, 1, 6, "3"),  # a digit misread as another digit
        (TD1, 0, 11, "B"),  # TD1's number
        (TD2, 1, 14, "1"),  # the birth date 740812 read 710812: its check digit refuses it
    ],
)
def test_other_misreads_are_never_made_into_a_document(
    text: str, line: int, at: int, char: str
) -> None:
    misread = confuse(text, line, at, char)
    with pytest.raises(InvalidInput):
        parse_mrz(repair_mrz(misread), SALT)


def test_the_frame_reader_repairs_what_the_ocr_confused() -> None:
    import numpy as np

    frame = np.full((300, 600), 255, dtype=np.uint8)
    misread = confuse(TD3, 1, 15, "O")
    doc = read_mrz_from_frame(frame, SALT, ocr=lambda _image: misread)
    assert doc is not None and doc.kind is DocumentKind.PASSPORT_TD3

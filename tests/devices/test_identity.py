from __future__ import annotations

from datetime import date

import pytest
from devices_helpers import CALIFORNIA_ELEMENTS, aamva_payload

from kiosk.devices.identity import (
    DocumentKind,
    find_mrz_text,
    gb11643_check_char,
    hash_document_number,
    is_expired,
    mrz_check_digit,
    parse_aamva,
    parse_cn_resident_id,
    parse_mrz,
)
from kiosk.devices.mrz_ocr import read_mrz_from_frame
from kiosk.domain.errors import InvalidInput

SALT = b"site-salt-0123456789"
TD3 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"
TD1 = (
    "I<UTOD231458907<<<<<<<<<<<<<<<\n7408122F1204159UTO<<<<<<<<<<<6\nERIKSSON<<ANNA<MARIA<<<<<<<<<<"
)


def test_aamva_2020_licence_fields(california_dl: bytes) -> None:
    doc = parse_aamva(california_dl, SALT)
    assert doc.kind is DocumentKind.AAMVA
    assert (doc.family_name, doc.given_names) == ("Montgomery", "Jane Elizabeth")
    assert doc.expiry == date(2029, 8, 31)
    assert doc.birth_date == date(1990, 8, 31)
    assert doc.issuer == "CA"  # from IIN 636014
    assert doc.sex == "F"
    assert doc.document_type == "DL"
    assert doc.document_number_last4 == "4567"
    assert doc.document_number_hash == hash_document_number("D1234567", SALT)
    assert "D1234567" not in repr(doc) and "D1234567" not in str(doc.as_dict())


def test_aamva_raw_separators_are_kept_by_the_payload(california_dl: bytes) -> None:
    # The header's LF RS CR and the element LFs are bytes a text conversion would mangle.
    assert california_dl[:4] == b"@\n\x1e\r"
    assert california_dl.count(b"\n") == len(CALIFORNIA_ELEMENTS)  # one after "@", n-1 between
    assert california_dl.endswith(b"\r")


def test_aamva_canadian_dates_and_unknown_iin_uses_daj() -> None:
    elements = [
        ("DCS", "TREMBLAY"),
        ("DAC", "ÉLODIE"),
        ("DBA", "20300115"),
        ("DBB", "19850704"),
        ("DAJ", "QC"),
        ("DAQ", "T1234-567890-12"),
        ("DCG", "CAN"),
        ("DBC", "2"),
    ]
    doc = parse_aamva(aamva_payload(elements, iin="604428", version="09"), SALT)
    assert doc.issuer == "QC"
    assert doc.expiry == date(2030, 1, 15) and doc.birth_date == date(1985, 7, 4)
    assert doc.given_names == "Élodie"
    assert doc.document_number_last4 == "9012"
    assert doc.document_number_hash == hash_document_number("T1234567890 12", SALT)


def test_aamva_version_3_uses_dct_given_names() -> None:
    elements = [("DCS", "SMITH"), ("DCT", "JOHN,PAUL"), ("DBA", "01022027"), ("DAQ", "S12345678")]
    doc = parse_aamva(aamva_payload(elements, iin="636026", version="03"), SALT)
    assert (doc.family_name, doc.given_names, doc.issuer) == ("Smith", "John Paul", "AZ")
    assert doc.expiry == date(2027, 1, 2)


def test_aamva_id_card_subfile() -> None:
    doc = parse_aamva(
        aamva_payload([("DCS", "LEE"), ("DAC", "ANN"), ("DAQ", "X9")], subfile="ID"), SALT
    )
    assert doc.document_type == "ID" and doc.expiry is None


@pytest.mark.parametrize("raw", [b"", b"hello", b"@\n\x1e\rANSI 63601410000101", TD3.encode()])
def test_aamva_rejects_non_licences(raw: bytes) -> None:
    with pytest.raises(InvalidInput):
        parse_aamva(raw, SALT)


def test_icao_specimen_passport_td3() -> None:
    doc = parse_mrz(TD3, SALT, today=date(2025, 1, 1))
    assert doc.kind is DocumentKind.PASSPORT_TD3
    assert (doc.family_name, doc.given_names) == ("Eriksson", "Anna Maria")
    assert doc.birth_date == date(1974, 8, 12) and doc.expiry == date(2012, 4, 15)
    assert (doc.issuer, doc.nationality, doc.sex) == ("UTO", "UTO", "F")
    assert doc.document_number_last4 == "02C3"
    assert doc.document_number_hash == hash_document_number("L898902C3", SALT)
    assert is_expired(doc, date(2025, 1, 1))
    assert not is_expired(doc, date(2012, 4, 15))  # valid through its expiry day


def test_icao_specimen_id_card_td1() -> None:
    doc = parse_mrz(TD1, SALT, today=date(2025, 1, 1))
    assert doc.kind is DocumentKind.ID_TD1
    assert doc.document_number_last4 == "5890"
    assert doc.full_name == "Anna Maria Eriksson"
    assert doc.expiry == date(2012, 4, 15)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("D23145890", 7),
        ("740812", 2),
        ("120415", 9),
        ("L898902C3", 6),
        ("ZE184226B<<<<<", 1),
    ],
)
def test_mrz_check_digits_of_the_specimen(text: str, field: int) -> None:
    assert mrz_check_digit(text) == field


@pytest.mark.parametrize("position", [9, 19, 27, 43])  # number, birth, expiry, composite digits
def test_mrz_altered_check_digit_is_refused(position: int) -> None:
    one, two = TD3.splitlines()
    wrong = str((int(two[position]) + 1) % 10)
    with pytest.raises(InvalidInput, match="check digit"):
        parse_mrz(one + "\n" + two[:position] + wrong + two[position + 1 :], SALT)


def test_mrz_altered_name_is_accepted_but_altered_number_is_not() -> None:
    # Names carry no check digit in ICAO 9303; the number does.
    one, two = TD3.splitlines()
    with pytest.raises(InvalidInput):
        parse_mrz(one + "\n" + "L898902C4" + two[9:], SALT)


def test_find_mrz_in_noisy_ocr_output() -> None:
    ocr = "PASSPORT  PASSEPORT\nUtopia\n" + TD3.replace("\n", " \n") + "\n"
    assert find_mrz_text(ocr) == TD3


def test_read_mrz_from_frame_with_injected_ocr() -> None:
    import numpy as np

    frame = np.full((480, 640), 200, np.uint8)
    doc = read_mrz_from_frame(frame, SALT, ocr=lambda image: "garbage\n" + TD3)
    assert doc is not None and doc.family_name == "Eriksson"
    assert read_mrz_from_frame(frame, SALT, ocr=lambda image: "no mrz here") is None


@pytest.mark.parametrize("number", ["11010519491231002X", "440308199901011234"])
def test_gb11643_valid(number: str) -> None:
    doc = parse_cn_resident_id(number, SALT, today=date(2025, 1, 1))
    assert doc.kind is DocumentKind.CN_RESIDENT_ID
    assert doc.document_number_last4 == number[-4:]
    assert doc.document_number_hash == hash_document_number(number.lower(), SALT)
    assert doc.expiry is None and not is_expired(doc, date(2100, 1, 1))


def test_gb11643_details() -> None:
    doc = parse_cn_resident_id("11010519491231002X", SALT)
    assert doc.birth_date == date(1949, 12, 31) and doc.sex == "F"
    assert doc.details["region_code"] == "110105"
    assert gb11643_check_char("11010519491231002") == "X"


@pytest.mark.parametrize(
    "number",
    [
        "110105194912310021",
        "11010519491231002",
        "1101051949123100XX",
        "110105194913310029",
        "110105210012310028",
    ],
)
def test_gb11643_invalid(number: str) -> None:
    with pytest.raises(InvalidInput):
        parse_cn_resident_id(number, SALT, today=date(2025, 1, 1))


def test_hash_document_number_normalises_and_needs_salt() -> None:
    assert hash_document_number("l898 902-c3", SALT) == hash_document_number("L898902C3", SALT)
    assert hash_document_number("L898902C3", b"other") != hash_document_number("L898902C3", SALT)
    assert len(hash_document_number("X", SALT)) == 64
    with pytest.raises(ValueError):
        hash_document_number("X", b"")

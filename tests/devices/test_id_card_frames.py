"""The SAM protocol and the card text, read from bytes built by the specification alone
(idcard_spec), and the fake reader's bytes checked against the same construction."""

from __future__ import annotations

import os
import select
import time
from datetime import date

import pytest
from idcard_spec import (
    base_info_reply,
    command_frame,
    permanent_text,
    permit_text,
    reply_frame,
    resident_text,
    ucs2,
)

from kiosk.devices import sam_protocol as sam
from kiosk.devices.fake_id_reader import DEMO_CARDS, FakeIdReader
from kiosk.domain.card_words import (
    ethnicity_codes,
    ethnicity_words,
    nationality_words,
    sex_words,
)
from kiosk.domain.resident_card import CardKind, CardProblem, CardRejected, parse_card_text

TODAY = date(2026, 12, 7)
PHOTO = bytes((7 * i) % 256 for i in range(1024))
RESIDENT = resident_text(
    "刘洋",
    "1",
    "01",
    "19880512",
    "上海市浦东新区世纪大道100号",
    "310115198805120018",
    "上海市公安局浦东分局",
    "20180601",
    "20380601",
)


def read_frames(frame: bytes) -> sam.Reply:
    reader = sam.FrameReader()
    frames = [f for i in range(len(frame)) for f in reader.feed(frame[i : i + 1])]  # byte by byte
    assert len(frames) == 1
    return sam.parse_reply(frames[0])


def test_command_frames_are_the_published_bytes() -> None:
    assert sam.encode_command(sam.FIND_CARD).hex(" ") == "aa aa aa 96 69 00 03 20 01 22"
    assert sam.encode_command(sam.SELECT_CARD).hex(" ") == "aa aa aa 96 69 00 03 20 02 21"
    assert sam.encode_command(sam.READ_BASE_INFO).hex(" ") == "aa aa aa 96 69 00 03 30 01 32"
    assert sam.encode_command(sam.SAM_ID) == command_frame(0x12, 0xFF)
    assert sam.encode_command(sam.SAM_STATUS) == command_frame(0x11, 0xFF)
    assert sam.encode_command(sam.SAM_RESET) == command_frame(0x10, 0xFF)


def test_a_base_information_reply_built_byte_by_byte_is_read() -> None:
    frame = base_info_reply(RESIDENT, PHOTO)
    assert len(frame) == 1295  # as the issue says: ~0.11 s on the wire at 115,200 baud
    reply = read_frames(frame)
    assert reply.known_status is sam.Status.SUCCESS
    info = sam.split_base_info(reply.data)
    assert info.text == RESIDENT and info.photo_length == 1024
    assert not hasattr(info, "photo")  # skipped over, never kept
    card = parse_card_text(info.text, TODAY)
    assert card.kind is CardKind.RESIDENT
    assert (card.name, card.sex_code, card.ethnicity_code) == ("刘洋", "1", "01")
    assert card.birth_date == date(1988, 5, 12) and card.valid_until == date(2038, 6, 1)
    assert card.number == "310115198805120018" and card.last_four == "0018"
    assert card.authority == "上海市公安局浦东分局"
    assert "address" not in card.__dataclass_fields__


def test_foreign_permanent_resident_card() -> None:
    text = permanent_text(
        "ERIKSSON, ANNA", "2", "SWE318503040017", "SWE", "安娜", "20200101", "20300101", "19850304"
    )
    card = parse_card_text(read_frames(base_info_reply(text, PHOTO)).data[4:260], TODAY)
    assert card.kind is CardKind.PERMANENT_RESIDENT
    assert card.display_name == "Anna Eriksson" and card.name == "安娜"
    assert card.nationality_code == "SWE" and card.birth_date == date(1985, 3, 4)
    assert nationality_words("SWE", "zh_Hans") == "瑞典"
    assert nationality_words("SWE", "en") == "Sweden"


def test_hong_kong_macao_taiwan_residence_permit() -> None:
    text = permit_text(
        "陳家明",
        "1",
        "19900101",
        "香港九龍彌敦道1號",
        "810000199001010035",
        "公安部出入境管理局",
        "20210101",
        "20260101",
        "H01234567",
        "01",
    )
    card = parse_card_text(text, TODAY)
    assert card.kind is CardKind.RESIDENCE_PERMIT
    assert (card.name, card.pass_number, card.issues) == ("陳家明", "H01234567", 1)
    assert card.expired(TODAY) and not card.expired(date(2026, 1, 1))


def test_long_term_validity() -> None:
    text = RESIDENT[:204] + bytes(ucs2("长期", 16)) + RESIDENT[220:]
    card = parse_card_text(text, TODAY)
    assert card.valid_until is None and not card.expired(date(2099, 1, 1))


def _with(field_at: int, width: int, value: str) -> bytes:
    return RESIDENT[:field_at] + bytes(ucs2(value, width)) + RESIDENT[field_at + width :]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (RESIDENT[:2] + b"\x00\xd8" + RESIDENT[4:], CardProblem.NOT_TEXT),  # lone surrogate
        (RESIDENT[:255], CardProblem.NOT_TEXT),  # short
        (_with(0, 30, "刘\x07洋"), CardProblem.CONTROL_CHARACTERS),
        (_with(36, 16, "19880230"), CardProblem.IMPOSSIBLE_DATE),
        (_with(188, 16, "2018-6-1"), CardProblem.IMPOSSIBLE_DATE),
        (_with(122, 36, "310115198805120019"), CardProblem.CHECK_CHARACTER),
        (_with(36, 16, "19880513"), CardProblem.BIRTH_DATE_MISMATCH),
        (_with(0, 30, ""), CardProblem.MISSING_FIELD),
        (RESIDENT[:248] + bytes(ucs2("Y", 2)) + RESIDENT[250:], CardProblem.UNKNOWN_KIND),
    ],
)
def test_bad_card_text_is_refused_without_its_contents(text: bytes, problem: CardProblem) -> None:
    with pytest.raises(CardRejected) as caught:
        parse_card_text(text, TODAY)
    assert caught.value.problem is problem
    assert "刘" not in str(caught.value) and "3101" not in str(caught.value)


def test_frames_that_are_wrong_are_refused() -> None:
    good = base_info_reply(RESIDENT, PHOTO)
    with pytest.raises(sam.FrameError, match="check byte"):
        sam.FrameReader().feed(good[:-1] + bytes([good[-1] ^ 1]))
    with pytest.raises(sam.FrameError):
        sam.FrameReader().feed(bytes(range(100)))
    short = reply_frame(0x90, bytes([0x01, 0x00, 0x04, 0x00]) + RESIDENT)  # photo missing
    with pytest.raises(sam.FrameError, match="announce"):
        sam.split_base_info(read_frames(short).data)
    assert read_frames(reply_frame(0x77, b"")).known_status is None


def test_words_for_codes_in_three_languages() -> None:
    assert len(ethnicity_codes()) == 56
    assert [ethnicity_words("01", lang) for lang in ("zh_Hans", "zh_Hant", "en")] == [
        "汉族",
        "漢族",
        "Han",
    ]
    assert ethnicity_words("56", "en") == "Jino" and ethnicity_words("05", "zh_Hant") == "維吾爾族"
    assert all(ethnicity_words(code, "en") != code for code in ethnicity_codes())
    assert [sex_words("2", lang) for lang in ("zh_Hans", "zh_Hant", "en")] == ["女", "女", "Female"]
    assert nationality_words("USA", "zh_Hant") == "美國"
    assert nationality_words("XXX", "en") == "XXX"  # unknown: the code itself, never blank


def test_the_fake_reader_sends_the_specification_s_bytes() -> None:
    """The fake's reply to 30 01 for the demo resident card is, byte for byte, the frame
    built from the specification; its photo is 1,024 bytes that are never decoded."""
    fake = FakeIdReader(read_delay_s=0.0)
    port = fake.start()
    try:
        fd = os.open(port, os.O_RDWR | os.O_NOCTTY)
        fake.lay("resident")
        os.write(fd, command_frame(0x30, 0x01))
        received = b""
        deadline = time.monotonic() + 5
        while len(received) < 1295 and time.monotonic() < deadline:
            if select.select([fd], [], [], 0.5)[0]:
                received += os.read(fd, 4096)
        os.close(fd)
    finally:
        fake.stop()
    card = DEMO_CARDS["resident"]
    text = resident_text(
        card.name,
        card.sex,
        card.ethnicity,
        card.birth_date,
        card.address,
        card.number,
        card.authority,
        card.valid_from,
        card.valid_until,
    )
    expected = base_info_reply(text, received[14 + 256 : 14 + 256 + 1024])
    assert received == expected

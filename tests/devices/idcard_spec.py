"""Resident-ID card bytes built from the specification alone, never from kiosk's code.

Each card's 256-byte text is written field by field at the offsets the SAM interface
specification lists (the issue restates them), each field UCS-2LE and padded with spaces;
frames are assembled byte by byte: preamble AA AA AA 96 69, length (big-endian, counts
what follows it), status 00 00 SW3 (replies) or CMD PARA (commands), data, and the XOR of
everything from the length on.
"""

from __future__ import annotations

PREAMBLE = [0xAA, 0xAA, 0xAA, 0x96, 0x69]


def ucs2(text: str, width: int) -> list[int]:
    """`text` as UCS-2 little-endian, padded with spaces (20 00) to `width` bytes."""
    out: list[int] = []
    for char in text:
        code = ord(char)
        out += [code & 0xFF, code >> 8]
    assert len(out) <= width, (text, width)
    while len(out) < width:
        out += [0x20, 0x00]
    return out


def resident_text(
    name: str,
    sex: str,
    ethnicity: str,
    birth: str,
    address: str,
    number: str,
    authority: str,
    valid_from: str,
    valid_until: str,
) -> bytes:
    # name 30, sex 2, ethnicity 4, birth 16, address 70, number 36, authority 30,
    # valid from 16, valid until 16, reserved 36 (spaces: a resident card)
    out = (
        ucs2(name, 30)
        + ucs2(sex, 2)
        + ucs2(ethnicity, 4)
        + ucs2(birth, 16)
        + ucs2(address, 70)
        + ucs2(number, 36)
        + ucs2(authority, 30)
        + ucs2(valid_from, 16)
        + ucs2(valid_until, 16)
        + ucs2("", 36)
    )
    assert len(out) == 256
    return bytes(out)


def permanent_text(
    english_name: str,
    sex: str,
    number: str,
    nationality: str,
    chinese_name: str,
    valid_from: str,
    valid_until: str,
    birth: str,
) -> bytes:
    # English name 120, sex 2, card number 30, nationality 6, Chinese name 30, valid from
    # 16, valid until 16, birth 16, version 4, authority code 8, card type 2 ("I"),
    # reserved 6
    out = (
        ucs2(english_name, 120)
        + ucs2(sex, 2)
        + ucs2(number, 30)
        + ucs2(nationality, 6)
        + ucs2(chinese_name, 30)
        + ucs2(valid_from, 16)
        + ucs2(valid_until, 16)
        + ucs2(birth, 16)
        + ucs2("01", 4)
        + ucs2("1500", 8)
        + ucs2("I", 2)
        + ucs2("", 6)
    )
    assert len(out) == 256
    return bytes(out)


def permit_text(
    name: str,
    sex: str,
    birth: str,
    address: str,
    number: str,
    authority: str,
    valid_from: str,
    valid_until: str,
    pass_number: str,
    issues: str,
) -> bytes:
    # as the resident card with reserved 4 for ethnicity, then pass number 18, issues 4,
    # reserved 6, card type 2 ("J"), reserved 6
    out = (
        ucs2(name, 30)
        + ucs2(sex, 2)
        + ucs2("", 4)
        + ucs2(birth, 16)
        + ucs2(address, 70)
        + ucs2(number, 36)
        + ucs2(authority, 30)
        + ucs2(valid_from, 16)
        + ucs2(valid_until, 16)
        + ucs2(pass_number, 18)
        + ucs2(issues, 4)
        + ucs2("", 6)
        + ucs2("J", 2)
        + ucs2("", 6)
    )
    assert len(out) == 256
    return bytes(out)


def xor(values: list[int]) -> int:
    check = 0
    for value in values:
        check ^= value
    return check


def reply_frame(sw3: int, data: bytes) -> bytes:
    length = 3 + len(data) + 1
    body = [length >> 8, length & 0xFF, 0x00, 0x00, sw3, *data]
    return bytes(PREAMBLE + body + [xor(body)])


def command_frame(command: int, parameter: int) -> bytes:
    body = [0x00, 0x03, command, parameter]
    return bytes(PREAMBLE + body + [xor(body)])


def base_info_reply(text: bytes, photo: bytes) -> bytes:
    """Reply to 30 01: text length (2, big-endian), photo length (2), text, photo."""
    data = bytes([len(text) >> 8, len(text) & 0xFF, len(photo) >> 8, len(photo) & 0xFF])
    return reply_frame(0x90, data + text + photo)

"""The bytes of the resident-ID card reader's security module (SAM), GA 467: no I/O here.

Every certified reader (the "SAM module" readers of visitor terminals, hotel desks and banks)
speaks the same framed protocol on its serial line (115,200 baud, 8N1)::

    command  AA AA AA 96 69 | LEN1 LEN2 | CMD PARA | data ... | CHK
    reply    AA AA AA 96 69 | LEN1 LEN2 | SW1 SW2 SW3 | data ... | CHK

LEN (big-endian) counts the bytes after it, the check byte included. CHK is the XOR of
every byte from LEN1 to the last data byte (the preamble is not in it). SW1 SW2 are 00 00
and SW3 says what happened (`Status`). `FrameReader` takes bytes as they arrive and hands
back whole replies; a wrong check byte, a length no reader sends or bytes that are not a
frame raise `FrameError` (the caller drops the line's input and asks again).

The base information (`READ_BASE_INFO`, 30 01) answers with: text length (2 bytes,
big-endian), photo length (2), then the text (256 bytes of UCS-2LE, parsed by
`kiosk.domain.resident_card`) and the photo (1,024 bytes in a licensed wavelet format,
which the kiosk never decodes: `BaseInfo` drops it unread). `READ_BASE_INFO_FINGERPRINT`
(30 10) adds a fingerprint length (2) and 1,024 bytes of fingerprint, dropped too.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import NamedTuple

PREAMBLE = bytes.fromhex("AAAAAA9669")
#: The longest reply a reader sends: base information with fingerprints, 2,321 bytes.
MAX_LENGTH = 4096


class Command(NamedTuple):
    """A command byte and its parameter byte."""

    code: int
    parameter: int


SAM_RESET = Command(0x10, 0xFF)
SAM_STATUS = Command(0x11, 0xFF)
SAM_ID = Command(0x12, 0xFF)
FIND_CARD = Command(0x20, 0x01)
SELECT_CARD = Command(0x20, 0x02)
READ_BASE_INFO = Command(0x30, 0x01)
READ_BASE_INFO_FINGERPRINT = Command(0x30, 0x10)


class Status(IntEnum):
    """SW3 of a reply (SW1 SW2 are 00 00), as the SAM's interface specification lists them."""

    SUCCESS = 0x90
    CARD_FOUND = 0x9F
    NO_CONTENT = 0x91
    NO_CARD = 0x80  # find card: nothing on the reader
    SELECT_FAILED = 0x81
    READ_FAILED = 0x41  # the card left, or moved, during the read
    CHECK_ERROR = 0x10  # the SAM received a frame with a wrong check byte
    LENGTH_ERROR = 0x11
    COMMAND_ERROR = 0x21
    UNAUTHORISED = 0x23
    UNKNOWN_ERROR = 0x24
    CARD_AUTH_FAILED = 0x31
    SAM_AUTH_FAILED = 0x32
    INFO_CHECK_FAILED = 0x33
    UNKNOWN_CARD_TYPE = 0x40
    SAM_SELF_TEST_FAILED = 0x60
    SAM_NOT_AUTHORISED = 0x66


#: Statuses that mean the SAM itself is at fault (a reset may help, a person cannot).
SAM_FAULTS = frozenset(
    {Status.SAM_SELF_TEST_FAILED, Status.SAM_NOT_AUTHORISED, Status.UNAUTHORISED}
)


class FrameError(ValueError):
    """Bytes on the line that are not a well-formed reply (the card's data is not in it)."""


def checksum(body: bytes) -> int:
    """XOR of `body` (LEN1 through the last data byte)."""
    value = 0
    for byte in body:
        value ^= byte
    return value


def encode_command(command: Command, data: bytes = b"") -> bytes:
    """One command frame."""
    length = len(data) + 3  # CMD, PARA and the check byte
    body = struct.pack(">H", length) + bytes(command) + data
    return PREAMBLE + body + bytes([checksum(body)])


def encode_reply(status: int, data: bytes = b"") -> bytes:
    """One reply frame, as a reader sends it (for the fake reader and the tests)."""
    length = len(data) + 4  # SW1, SW2, SW3 and the check byte
    body = struct.pack(">H", length) + bytes([0, 0, status]) + data
    return PREAMBLE + body + bytes([checksum(body)])


@dataclass(frozen=True)
class Reply:
    """A reply frame, checked: `status` is SW3 (a `Status` value, or another byte)."""

    status: int
    data: bytes

    @property
    def known_status(self) -> Status | None:
        try:
            return Status(self.status)
        except ValueError:
            return None


class FrameReader:
    """Whole frames out of bytes that arrive in pieces (either direction of the line).

    `feed(chunk)` returns the frames completed by the chunk, as (header, payload) where the
    payload is what follows LEN and precedes CHK. Bytes before a preamble are skipped, up
    to a limit: a line that says nothing like a frame raises FrameError.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()

    def clear(self) -> None:
        self._buffer.clear()

    @property
    def pending(self) -> int:
        return len(self._buffer)

    def feed(self, chunk: bytes) -> list[bytes]:
        self._buffer += chunk
        frames: list[bytes] = []
        while True:
            start = self._buffer.find(PREAMBLE)
            if start < 0:
                if len(self._buffer) > 64:
                    self._buffer.clear()
                    raise FrameError("bytes on the line that are not a frame")
                return frames
            if start > 0:
                del self._buffer[:start]
                raise FrameError(f"{start} stray bytes before a frame")
            if len(self._buffer) < 7:
                return frames
            (length,) = struct.unpack(">H", self._buffer[5:7])
            if not 3 <= length <= MAX_LENGTH:
                del self._buffer[:5]
                raise FrameError(f"a frame length of {length} bytes, which no reader sends")
            end = 7 + length
            if len(self._buffer) < end:
                return frames
            body, check = bytes(self._buffer[5 : end - 1]), self._buffer[end - 1]
            del self._buffer[:end]
            if checksum(body) != check:
                raise FrameError("a frame whose check byte does not match its contents")
            frames.append(body[2:])


def parse_reply(payload: bytes) -> Reply:
    """A reply from a frame's payload (what follows LEN, before CHK)."""
    if len(payload) < 3:
        raise FrameError("a reply without its three status bytes")
    if payload[0] != 0 or payload[1] != 0:
        raise FrameError(f"status bytes {payload[:3].hex(' ')} are not a SAM reply")
    return Reply(payload[2], payload[3:])


def parse_command(payload: bytes) -> tuple[Command, bytes]:
    """(command, data) from a command frame's payload; for the fake reader."""
    if len(payload) < 2:
        raise FrameError("a command without its command and parameter bytes")
    return Command(payload[0], payload[1]), payload[2:]


@dataclass(frozen=True)
class BaseInfo:
    """The base information's text (256 bytes of UCS-2LE). The photo and fingerprint
    that followed it were skipped over, unread and not kept."""

    text: bytes
    photo_length: int


def split_base_info(data: bytes, *, with_fingerprint: bool = False) -> BaseInfo:
    """The text of a READ_BASE_INFO(_FINGERPRINT) reply's data; FrameError if the lengths
    it announces do not add up (a short read)."""
    head = 6 if with_fingerprint else 4
    if len(data) < head:
        raise FrameError("base information shorter than its length fields")
    text_length, photo_length = struct.unpack(">HH", data[:4])
    fingerprint_length = struct.unpack(">H", data[4:6])[0] if with_fingerprint else 0
    if head + text_length + photo_length + fingerprint_length != len(data):
        raise FrameError(
            f"base information of {len(data)} bytes where its lengths announce "
            f"{head + text_length + photo_length + fingerprint_length}"
        )
    return BaseInfo(bytes(data[head : head + text_length]), photo_length)


def format_sam_id(data: bytes) -> str:
    """The SAM's 16-byte id as printed on the module's label: 05.01-20101012-0000000001-...

    Two little-endian 16-bit numbers, then three little-endian 32-bit numbers."""
    if len(data) != 16:
        raise FrameError(f"a SAM id of {len(data)} bytes, not 16")
    first, second, third, fourth, fifth = struct.unpack("<HHIII", data)
    return f"{first:02d}.{second:02d}-{third:08d}-{fourth:010d}-{fifth:010d}"

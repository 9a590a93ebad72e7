"""The one edit monerosim makes to a block template: its timestamp.

A serialised Monero block starts with its header: ``major_version``,
``minor_version`` and ``timestamp`` as varints (7 bits a byte, least significant
first, high bit set on every byte but the last), then the 32-byte previous block
id and the 4-byte nonce. Rewriting the timestamp can change its varint's length,
so the blob is re-assembled around it; nothing after the header moves.

With ``--fixed-difficulty 1`` every proof-of-work hash meets the target, so the
block needs no nonce search after the edit.
"""

from __future__ import annotations


class BlobError(ValueError):
    """Bytes that do not start like a serialised block."""


def read_varint(data: bytes, offset: int) -> tuple[int, int]:
    """The varint at ``offset`` and the offset just past it."""
    value = shift = 0
    for position in range(offset, min(len(data), offset + 10)):
        byte = data[position]
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, position + 1
        shift += 7
    raise BlobError(f"no complete varint at byte {offset}")


def write_varint(value: int) -> bytes:
    if value < 0:
        raise ValueError("varints are unsigned")
    out = bytearray()
    while True:
        low = value & 0x7F
        value >>= 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def block_timestamp(blob: bytes) -> int:
    """The timestamp in a block blob's header."""
    _major, offset = read_varint(blob, 0)
    _minor, offset = read_varint(blob, offset)
    timestamp, _ = read_varint(blob, offset)
    return timestamp


def with_timestamp(blob: bytes, timestamp: int) -> bytes:
    """``blob`` with its header timestamp replaced by ``timestamp`` (Unix seconds)."""
    _major, offset = read_varint(blob, 0)
    _minor, start = read_varint(blob, offset)
    _old, end = read_varint(blob, start)
    if len(blob) < end + 36:
        raise BlobError("blob too short for a block header")
    return blob[:start] + write_varint(timestamp) + blob[end:]

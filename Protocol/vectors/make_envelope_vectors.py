#!/usr/bin/env python3
"""Writes Protocol/vectors/envelope.json: golden envelope vectors, from an implementation of
Protocol/README.md written apart from the Swift one (Python standard library only).

Run from the repository root:  python3 Protocol/vectors/make_envelope_vectors.py
The Swift tests read the JSON; they never run this script.
"""
import json
import struct
import zlib

MAGIC = b"FLCS"
LEVEL = 6  # Protocol/README.md: zlib level 6, so equal bodies give equal bytes
with open("Protocol/dictionary/v1.bin", "rb") as f:
    DICTIONARY = f.read()  # the preset dictionary, version 1 (Protocol/README.md §3)


BLOCK_CUT_BODY_MIN = 4096  # Protocol/README.md §3: bodies from this size end a deflate block per column
COLUMNS_FIELD = {1: 8, 4: 3}  # the action columns of a change set and of a pull page


def varint_at(data, at, end):
    value, shift = 0, 0
    while at < end and shift < 64:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, at
        shift += 7
    raise ValueError("not a varint")


def fields(data, start, end):
    """(number, start, contents start, end) of each field between start and end."""
    at, out = start, []
    while at < end:
        first = at
        key, at = varint_at(data, at, end)
        wire = key & 7
        contents = at
        if wire == 0:
            _, at = varint_at(data, at, end)
        elif wire in (1, 5):
            at += 8 if wire == 1 else 4
        elif wire == 2:
            length, contents = varint_at(data, at, end)
            at = contents + length
        else:
            raise ValueError("wire type %d" % wire)
        if at > end:
            raise ValueError("field past the end")
        out.append((key >> 3, first, contents, at))
    return out


def block_cuts(msg_type, body):
    """Offsets before which an encoder ends a deflate block: each top-level field whose number
    differs from the one before it, and each field inside the action columns whose number differs
    from the one before it; none for a small body or one that does not parse."""
    if len(body) < BLOCK_CUT_BODY_MIN:
        return []
    cuts = []
    try:
        previous = None
        for number, first, contents, end in fields(body, 0, len(body)):
            if previous is not None and number != previous:
                cuts.append(first)
            previous = number
            if number == COLUMNS_FIELD.get(msg_type) and body[first] & 7 == 2:
                inner_previous = None
                for inner, inner_first, _, _ in fields(body, contents, end):
                    if inner_previous is not None and inner != inner_previous:
                        cuts.append(inner_first)
                    inner_previous = inner
    except ValueError:
        return []
    return cuts


def deflated(body, msg_type=None, dictionary=None):
    """The zlib stream of body as encoders write it: level 6, window 15, memory 8, the default
    strategy, primed with a preset dictionary if given, a block ended (Z_BLOCK) at each cut."""
    c = zlib.compressobj(LEVEL, zlib.DEFLATED, 15, 8, zlib.Z_DEFAULT_STRATEGY, **({"zdict": dictionary} if dictionary else {}))
    out, start = b"", 0
    for cut in block_cuts(msg_type, body) if msg_type is not None else []:
        out += c.compress(body[start:cut]) + c.flush(zlib.Z_BLOCK)
        start = cut
    return out + c.compress(body[start:]) + c.flush()


def primed(body, dictionary=DICTIONARY, msg_type=None):
    """The zlib stream of body primed with a preset dictionary."""
    return deflated(body, msg_type, dictionary)


def envelope(msg_type, body, compressed, version=1, flags=None, reserved=0, body_len=None,
             crc=None, payload=None, payload_len=None, tail=b"", dictionary=False):
    if payload is None:
        payload = deflated(body, msg_type, DICTIONARY if dictionary else None) if compressed else body
    if flags is None:
        flags = (3 if dictionary else 1) if compressed else 0
    declared = len(body) if body_len is None else body_len
    covered = bytes([version, msg_type, flags, reserved]) + struct.pack(">I", declared)
    if crc is None:
        crc = zlib.crc32(covered + body)  # the checksum covers header bytes 4-11, then the body
    header = MAGIC + covered + struct.pack(">II", crc, len(payload) if payload_len is None else payload_len)
    return header + payload + tail


def ok(name, what, msg_type, body, compressed, dictionary=False):
    return {"name": name, "what": what, "hex": envelope(msg_type, body, compressed, dictionary=dictionary).hex(),
            "expect": {"type": msg_type, "compressed": compressed, "dictionary": dictionary, "body": body.hex()}}


def bad(name, what, data, code):
    return {"name": name, "what": what, "hex": data.hex(), "error": code}


def main():
    body = b"push: 3 actions from one replica " * 4
    page = b"".join(b"entry %05d recordPayment 1250.00 USD card;" % i for i in range(200))
    def pb_varint(n):
        out = bytearray()
        while n >= 0x80:
            out.append((n & 0x7F) | 0x80)
            n >>= 7
        out.append(n)
        return bytes(out)


    def pb_field(number, data):
        return pb_varint(number << 3 | 2) + pb_varint(len(data)) + data


    # A body shaped like a pull page (Protocol/README.md §8-9) and over the block-cut size: a first
    # sequence, interned replicas, action columns (dot replicas, clock steps, payment codes, payloads)
    # and an outcome per entry. The envelope never parses it; the encoder's block cuts do.
    entries = 600
    columns = (pb_field(1, bytes((i * 7) % 13 for i in range(entries)))
               + pb_field(17, pb_field(3, bytes((i * 37 + i // 3) % 251 for i in range(entries * 2))))
               + pb_field(26, bytes((i * 5) % 9 for i in range(entries)))
               + b"".join(pb_field(12, pb_field(9, pb_field(3, b"Final Payment" if i % 2 else b"Balance"))) for i in range(entries // 4)))
    shaped_page = (pb_varint(1 << 3) + pb_varint(30001)
                   + pb_field(2, b"".join(pb_field(1, bytes([r]) * 16) for r in range(13)))
                   + pb_field(3, columns)
                   + b"".join(pb_field(4, pb_varint(1 << 3) + pb_varint(i % 4)) for i in range(entries)))
    assert len(shaped_page) >= BLOCK_CUT_BODY_MIN and len(block_cuts(4, shaped_page)) == 6

    good = envelope(1, body, False)
    packed = envelope(4, page, True)
    bomb = bytes(16 << 20)          # 16 MiB of zeros: compresses about a thousandfold
    small_bomb = bytes(1 << 20)

    vectors = [
        ok("push-raw", "an uncompressed push request", 1, body, False),
        ok("page-compressed", "a compressed pull page", 4, page, True),
        ok("pull-empty", "a pull request with an empty body", 3, b"", False),
        ok("page-dictionary", "a pull page compressed with the preset dictionary (flags 3)", 4, page, True, dictionary=True),
        ok("page-blocks", "a pull page body over 4 KiB: a deflate block ends at each column (Protocol/README.md §3)",
           4, shaped_page, True, dictionary=True),
        ok("page-blocks-plain", "the same body in plain zlib (flags 1): the same block ends", 4, shaped_page, True),
        bad("dictionary-unannounced", "flags 1 (plain zlib) on a stream that asks for the preset dictionary",
            envelope(4, page, True, flags=1, payload=primed(page)), "decompression_failed"),
        bad("dictionary-unused", "flags 3 (preset dictionary) on a plain zlib stream",
            envelope(4, page, True, flags=3, payload=zlib.compress(page, LEVEL)), "decompression_failed"),
        bad("wrong-dictionary", "flags 3 on a stream primed with another dictionary (its Adler-32 differs)",
            envelope(4, page, True, flags=3, payload=primed(page, b"another dictionary " * 40)), "decompression_failed"),
        bad("dictionary-without-zlib", "flag bit 1 (dictionary) without bit 0 (zlib)", envelope(1, body, False, flags=2), "bad_flags"),
        bad("truncated-header", "ten bytes: less than the header", good[:10], "truncated"),
        bad("truncated-payload", "the last payload byte is missing", packed[:-1], "truncated"),
        bad("bad-magic", "the first byte is wrong", b"X" + good[1:], "bad_magic"),
        bad("unknown-version", "envelope version 2", envelope(1, body, False, version=2), "unsupported_version"),
        bad("unknown-type", "message type 9", envelope(9, body, False), "unknown_message_type"),
        bad("unknown-flag", "flag bit 2 set", envelope(1, body, True, flags=5), "bad_flags"),
        bad("reserved-set", "the reserved byte is not zero", envelope(1, body, False, reserved=1), "bad_flags"),
        bad("bad-checksum", "the header's CRC-32 is off by one", envelope(1, body, False, crc=zlib.crc32(bytes([1, 1, 0, 0]) + struct.pack(">I", len(body)) + body) ^ 1), "checksum_mismatch"),
        bad("type-flipped", "a pull page whose type byte was flipped to 'error' in transit",
            envelope(4, page, True)[:5] + bytes([5]) + envelope(4, page, True)[6:], "checksum_mismatch"),
        bad("corrupt-body", "one body byte flipped in transit", good[:-1] + bytes([good[-1] ^ 0x20]), "checksum_mismatch"),
        bad("decompression-bomb", "16 MiB of zeros in about 16 KiB, declared truthfully",
            envelope(4, bomb, True), "compression_ratio_exceeded"),
        bad("lying-bomb", "1 MiB of zeros declared as 1,000 bytes",
            envelope(4, small_bomb, True, body_len=1000), "length_mismatch"),
        bad("body-too-large", "a declared body of 17 MiB", envelope(1, b"x", False, body_len=17 << 20), "body_too_large"),
        bad("payload-too-large", "a declared payload of 5 MiB", envelope(1, b"x", False, payload_len=5 << 20), "payload_too_large"),
        bad("trailing-garbage", "one byte after the payload", envelope(1, body, False, tail=b"\x00"), "trailing_bytes"),
        bad("garbage-in-stream", "bytes after the zlib stream inside the payload",
            envelope(4, page, True, payload=zlib.compress(page, LEVEL) + b"junk"), "trailing_bytes"),
        bad("not-zlib", "the compressed flag on bytes that are not a zlib stream",
            envelope(4, body, True, payload=b"this is not zlib at all"), "decompression_failed"),
        bad("short-raw", "an uncompressed payload shorter than the declared body",
            envelope(1, body, False, payload=body[:-3]), "length_mismatch"),
    ]

    with open("Protocol/vectors/envelope.json", "w") as out:
        json.dump({"generator": "Protocol/vectors/make_envelope_vectors.py", "zlib": zlib.ZLIB_VERSION,
                   "vectors": vectors}, out, indent=1)
        out.write("\n")
    print("wrote %d vectors" % len(vectors))


if __name__ == "__main__":
    main()

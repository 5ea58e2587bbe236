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


def primed(body, dictionary=DICTIONARY):
    """The zlib stream of body primed with a preset dictionary: level 6, window 15, memory 8."""
    c = zlib.compressobj(LEVEL, zlib.DEFLATED, 15, 8, zlib.Z_DEFAULT_STRATEGY, zdict=dictionary)
    return c.compress(body) + c.flush()


def envelope(msg_type, body, compressed, version=1, flags=None, reserved=0, body_len=None,
             crc=None, payload=None, payload_len=None, tail=b"", dictionary=False):
    if payload is None:
        payload = (primed(body) if dictionary else zlib.compress(body, LEVEL)) if compressed else body
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


body = b"push: 3 actions from one replica " * 4
page = b"".join(b"entry %05d recordPayment 1250.00 USD card;" % i for i in range(200))
good = envelope(1, body, False)
packed = envelope(4, page, True)
bomb = bytes(16 << 20)          # 16 MiB of zeros: compresses about a thousandfold
small_bomb = bytes(1 << 20)

vectors = [
    ok("push-raw", "an uncompressed push request", 1, body, False),
    ok("page-compressed", "a compressed pull page", 4, page, True),
    ok("pull-empty", "a pull request with an empty body", 3, b"", False),
    ok("page-dictionary", "a pull page compressed with the preset dictionary (flags 3)", 4, page, True, dictionary=True),
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

#!/usr/bin/env python3
"""Where a backlog's bytes go: reads the pull pages `client-bench --only backlog --pages DIR`
wrote, and prints for each field of the page and of its action columns what the compressed
pages would lose without it (its marginal cost), in bytes per entry.

    python3 Benchmarks/wire-breakdown.py DIR

Standard library only; a field is cut from the protobuf body by hand, then the body is
compressed again as encoders do (Protocol/README.md §3: zlib level 6, the preset dictionary, a
deflate block ended at each column), with the envelope vectors' Python encoder.
"""
import collections
import glob
import importlib.util
import os
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
DICTIONARY = open(os.path.join(HERE, "..", "Protocol", "dictionary", "v1.bin"), "rb").read()
_spec = importlib.util.spec_from_file_location("envelope_vectors", os.path.join(HERE, "..", "Protocol", "vectors", "make_envelope_vectors.py"))
_cwd = os.getcwd()
os.chdir(os.path.join(HERE, ".."))  # the vector script reads the dictionary from the repository root
ENVELOPE = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ENVELOPE)
os.chdir(_cwd)
PAGE_FIELDS = {1: "first_sequence", 2: "interned", 3: "actions", 4: "outcomes", 5: "checkpoint"}
ACTION_FIELDS = {1: "dot_replica", 15: "dot_counter_step", 16: "first_wall", 17: "wall_steps", 18: "job_counter",
                 19: "payment_amount", 20: "payment_currency", 26: "payment_code", 27: "payment_reference_number",
                 28: "payment_reference_text", 4: "logical", 5: "actor", 6: "job_replica", 8: "day_delta",
                 12: "payloads", 14: "seen_sequence_delta"}


def varint(data, at):
    value, shift = 0, 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, at


def fields(data):
    """(number, raw bytes of the whole field) for each field of a message, in order."""
    at, out = 0, []
    while at < len(data):
        start = at
        key, at = varint(data, at)
        wire = key & 7
        if wire == 0:
            _, at = varint(data, at)
        elif wire == 2:
            length, at = varint(data, at)
            at += length
        elif wire == 1:
            at += 8
        elif wire == 5:
            at += 4
        else:
            raise ValueError("wire type %d" % wire)
        out.append((key >> 3, data[start:at]))
    return out


def inner(raw):
    """The contents of a length-delimited field."""
    _, at = varint(raw, 0)
    _, at = varint(raw, at)
    return raw[at:]


def delimited(number, data):
    out, length = bytearray([(number << 3) | 2]), len(data)
    while length >= 0x80:
        out.append((length & 0x7F) | 0x80)
        length >>= 7
    out.append(length)
    return bytes(out) + data


def compressed(body):
    return len(ENVELOPE.deflated(body, 4, DICTIONARY))


def without(body, page_field=None, action_field=None):
    out = b""
    for number, raw in fields(body):
        if number == page_field:
            continue
        if number == 3 and action_field is not None:
            raw = delimited(3, b"".join(r for n, r in fields(inner(raw)) if n != action_field))
        out += raw
    return out


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: wire-breakdown.py DIR (the pages of client-bench --only backlog --pages DIR)")
    bodies = []
    for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.bin"))):
        wire = open(path, "rb").read()
        if wire[:4] != b"FLCS" or wire[5] != 4:
            sys.exit("%s: not a pull page" % path)
        bodies.append(zlib.decompressobj(zdict=DICTIONARY).decompress(wire[20:]) if wire[6] & 1 else wire[20:])
    if not bodies:
        sys.exit("no pages in " + sys.argv[1])
    entries = 0
    for body in bodies:
        for number, raw in fields(body):
            entries += number == 4
    total = sum(compressed(b) for b in bodies)
    print("%d pages, %d entries: %d bytes compressed (%.2f B/entry), %d uncompressed" % (len(bodies), entries, total, total / entries, sum(map(len, bodies))))
    print("marginal cost of each field, bytes per entry:")
    for number, name in PAGE_FIELDS.items():
        print("  %-26s %6.2f" % (name, (total - sum(compressed(without(b, page_field=number)) for b in bodies)) / entries))
        if number == 3:
            for action_number, action_name in ACTION_FIELDS.items():
                cost = total - sum(compressed(without(b, action_field=action_number)) for b in bodies)
                print("    %-24s %6.2f" % (action_name, cost / entries))
    kinds = collections.Counter()
    for body in bodies:
        for number, raw in fields(body):
            if number == 4:
                kind = [varint(r, 1)[0] for n, r in fields(inner(raw)) if n == 1]
                kinds[kind[0] if kind else 0] += 1
    names = ["applied", "exists", "applied with exception", "parked for review", "rejected"]
    print("outcomes: " + ", ".join("%s %d" % (names[k], n) for k, n in sorted(kinds.items())))


if __name__ == "__main__":
    main()

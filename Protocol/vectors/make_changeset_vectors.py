#!/usr/bin/env python3
"""Writes Protocol/vectors/changesets.json: golden change-set bodies (message type 1), encoded
by a hand-written Protocol Buffers writer that follows Protocol/schema/fieldledger_sync.proto,
apart from the Swift implementation (Python standard library only).

Run from the repository root:  python3 Protocol/vectors/make_changeset_vectors.py
"""
import json
import struct
import zlib


def varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def zigzag(n):
    return (n << 1) ^ (n >> 63)


def key(field, wire_type):
    return varint(field << 3 | wire_type)


def f_varint(field, n, keep_zero=False):
    return b"" if n == 0 and not keep_zero else key(field, 0) + varint(n)


def f_bytes(field, data, keep_empty=False):
    return b"" if not data and not keep_empty else key(field, 2) + varint(len(data)) + data


def f_string(field, text, keep_empty=False):
    return f_bytes(field, text.encode(), keep_empty)


def f_msg(field, body):
    return key(field, 2) + varint(len(body)) + body  # set sub-messages are written even when empty


def f_packed(field, values, encode=varint):
    if not values:
        return b""
    body = b"".join(encode(v) for v in values)
    return key(field, 2) + varint(len(body)) + body


def ref(replica, counter):
    return f_varint(1, replica) + f_varint(2, counter)


def job_ref(step):
    """Body schema 2: a reference on the action's job's own replica, as its counter minus the
    job's (optional sint64 field 3: written even when 0)."""
    return key(3, 0) + varint(zigzag(step))


REPLICA = bytes.fromhex("6f1c2b3a0d4e4f5a9b6c7d8e9fa0b1c2")
JUNE_1 = 20605  # days from 1970-01-01 to 2026-06-01


def deltas(values):
    """Each value minus the one before it (the first minus zero)."""
    return [v - p for v, p in zip(values, [0] + values[:-1])]


def packed(values):
    """A PackedColumn: base = the smallest value, then each value − base in `width` bits, laid
    end to end from the lowest bit of the first byte; no values: an empty message."""
    if not values:
        return b""
    base = min(values)
    width = (max(values) - base).bit_length()
    stream = 0
    for i, v in enumerate(values):
        stream |= (v - base) << (i * width)
    bits = stream.to_bytes((len(values) * width + 7) // 8, "little")
    return f_varint(1, zigzag(base)) + f_varint(2, width) + f_bytes(3, bits)


def f_column(field, values):
    """A PackedColumn field, left out when there are no values."""
    return f_msg(field, packed(values)) if values else b""


def scaled(amount):
    """A payment amount in its column: hundreds × 2 for a multiple of 100, else minor units × 2 + 1."""
    return amount // 100 * 2 if amount % 100 == 0 else amount * 2 + 1


def reference_form(reference):
    """0 none, 1 a decimal number of 1-18 digits without a leading zero, 2 text."""
    if reference is None:
        return 0
    numeric = reference.isascii() and reference.isdigit() and 1 <= len(reference) <= 18 and (reference[0] != "0" or reference == "0")
    return 1 if numeric else 2


def payment_code(row, schema=1):
    """1 + method + 5 x pending + 10 x reference form; in schema 2, + 30 for an amount in minor units."""
    _, amount, _, method, pending, reference = row
    minor_units = 30 if schema >= 2 and amount % 100 != 0 else 0
    return 1 + method + 5 * int(pending) + 10 * reference_form(reference) + minor_units


def column_amount(amount, schema=1):
    """A payment amount in its column: schema 1 scales it (see `scaled`); schema 2 writes hundreds
    for a multiple of 100, else minor units, the payment code saying which."""
    if schema == 1:
        return scaled(amount)
    return amount // 100 if amount % 100 == 0 else amount


def actors(codes):
    """Actor column of one replica's actions: 0 repeats the previous action's, else code + 1."""
    return [0 if i and c == codes[i - 1] else c + 1 for i, c in enumerate(codes)]


def hundreds(field_minor, field_hundreds, amount):
    """An amount pair: a nonzero multiple of 100 as hundreds (sint64), else minor units."""
    if amount != 0 and amount % 100 == 0:
        return f_varint(field_hundreds, zigzag(amount // 100))
    return f_varint(field_minor, amount)


def change_set(actions, first_counter=1, interned=None, app_version="1.0.0", replica=REPLICA, extra=b"", extra_logical=(), actor_column=None, edit_columns=lambda c: c, drop_payment_rows=False, schema=1):
    """actions: list of (wall, logical, actor_code, job_replica, job_counter, day_delta, seen_sequence, payload_bytes);
    wall is the first action's milliseconds, then each later one's step from the previous."""
    if interned is None:
        interned = f_bytes(1, replica) + f_string(2, "tech-ana") + f_string(3, "USD")
    # Payments go by column: field 25 says which actions are payments; each takes the next row of
    # fields 19-24, every other action the next payload.
    rows = [] if drop_payment_rows else [a[7] for a in actions if isinstance(a[7], tuple)]
    payloads = [a[7] for a in actions if not isinstance(a[7], tuple)]
    payment_columns = (f_column(19, [column_amount(r[1], schema) for r in rows]) + f_packed(20, [r[2] for r in rows]) +
                       f_packed(26, [payment_code(a[7], schema) if isinstance(a[7], tuple) else 0 for a in actions]) +
                       f_column(27, [int(r[5]) for r in rows if reference_form(r[5]) == 1]) +
                       b"".join(f_string(28, r[5], True) for r in rows if reference_form(r[5]) == 2))
    columns = (f_packed(4, [a[1] for a in actions] + list(extra_logical)) +
               f_packed(5, actor_column if actor_column is not None else actors([a[2] for a in actions])) + f_packed(6, [a[3] for a in actions]) +
               f_packed(8, [zigzag(a[5]) for a in actions]) +
               b"".join(f_msg(12, p) for p in payloads) +
               f_packed(14, [zigzag(d) for d in deltas([a[6] for a in actions])]) +
               f_varint(16, zigzag(actions[0][0]) if actions else 0) +
               f_column(17, [a[0] for a in actions[1:]]) + f_column(18, [a[4] for a in actions]) +
               payment_columns + extra)
    return (f_bytes(1, replica) + f_varint(2, first_counter) + f_varint(3, 41) + f_varint(4, schema) +
            f_string(5, app_version) + f_msg(6, f_varint(1, 1780272000000) + f_varint(2, 3)) +
            f_msg(7, interned) + f_msg(8, edit_columns(columns)))


create_job = f_msg(1, f_string(1, "J-1042") + f_string(2, "Dana Whitfield") + f_string(4, "HVAC", True) + f_varint(5, 0))
set_invoice = f_msg(3, f_string(1, "HV-2048") + key(3, 0) + varint(JUNE_1) + hundreds(2, 4, 300000))
thirds_rows = [("Deposit", 333334), ("Progress Payment", 333333), ("Final Payment", 333333)]
create_plan = f_msg(6, b"".join(f_msg(2, f_string(1, label) + key(2, 0) + varint(ppm)) for label, ppm in thirds_rows) + f_string(3, "Thirds", True))
record_payment = ("payment", 100000, 0, 1, False, None)  # amount, currency position, method (cash), pending, reference
confirm_other = f_msg(11, ref(0, 3))

# Actor code: user position × 4 + role; tech-ana, technician = 0. Job: replica position + 1.
valid_actions = [
    (1780272000000, 0, 0, 0, 0, JUNE_1, 41, create_job),
    (1000, 0, 0, 1, 1, 0, 41, set_invoice),
    (1000, 0, 0, 1, 1, 0, 41, create_plan),
    (60000, 0, 0, 1, 1, 1, 41, record_payment),
    (5000, 0, 0, 1, 1, 0, 41, ("payment", 48250, 0, 2, False, "1042")),         # check number 1042: a number
    (5000, 0, 0, 1, 1, 0, 41, ("payment", 30000, 0, 0, True, "AUTH-77")),      # pending card: a text reference
]
valid = change_set(valid_actions)
expected = [
    {"counter": 1, "kind": "createJob", "job": None, "seen": 41, "wall": 1780272000000, "day": "2026-06-01"},
    {"counter": 2, "kind": "setInvoice", "job": 1, "seen": 41, "wall": 1780272001000, "day": "2026-06-01"},
    {"counter": 3, "kind": "createPlan", "job": 1, "seen": 41, "wall": 1780272002000, "day": "2026-06-01"},
    {"counter": 4, "kind": "recordPayment", "job": 1, "seen": 41, "wall": 1780272062000, "day": "2026-06-02"},
    {"counter": 5, "kind": "recordPayment", "job": 1, "seen": 41, "wall": 1780272067000, "day": "2026-06-02"},
    {"counter": 6, "kind": "recordPayment", "job": 1, "seen": 41, "wall": 1780272072000, "day": "2026-06-02"},
]

# Body schema 2: references inside a payload on the job's own replica go relative to the job.
# The sender (position 0) created job 1 and its plan at counter 3; another replica (position 1)
# proposed change order 9 on it. Counter 7 relabels the plan's third row (3 - 1 = step 2), counter
# 8 confirms the sender's own pending payment 6 (step 5), counter 9 approves the other replica's
# change order (written in full: another replica).
OTHER = bytes.fromhex("0a1b2c3d4e5f40718293a4b5c6d7e8f9")
two_replicas = f_bytes(1, REPLICA) + f_bytes(1, OTHER) + f_string(2, "tech-ana") + f_string(3, "USD")
relabel = f_msg(9, f_msg(1, job_ref(2)) + f_varint(2, 2) + f_string(3, "Balance", True))
confirm_own = f_msg(11, job_ref(5))
approve_other = f_msg(15, f_msg(1, ref(1, 9)) + f_string(2, "ok"))
schema2_actions = valid_actions + [
    (5000, 0, 0, 1, 1, 0, 41, relabel),
    (5000, 0, 0, 1, 1, 0, 41, confirm_own),
    (5000, 0, 0, 1, 1, 0, 41, approve_other),
]
schema2 = change_set(schema2_actions, interned=two_replicas, schema=2)
schema2_expected = expected + [
    {"counter": 7, "kind": "editInstallment", "job": 1, "seen": 41, "wall": 1780272077000, "day": "2026-06-02"},
    {"counter": 8, "kind": "confirmPayment", "job": 1, "seen": 41, "wall": 1780272082000, "day": "2026-06-02"},
    {"counter": 9, "kind": "approveChangeOrder", "job": 1, "seen": 41, "wall": 1780272087000, "day": "2026-06-02"},
]

overlong = bytearray(valid)
# Field 2 (first_counter) written with an 11-byte varint: longer than any 64-bit value allows.
overlong_body = f_bytes(1, REPLICA) + key(2, 0) + b"\xff" * 10 + b"\x01"

many = [(0, 0, 0, 0, 0, 0, 0, f_msg(4, f_varint(1, 1))) for _ in range(10001)]

vectors = [
    {"name": "six-actions", "what": "create a job, invoice it, plan Thirds, collect $1,000.00 cash, $482.50 by check 1042, "
                                    "$300.00 by pending card AUTH-77",
     "hex": valid.hex(), "expect": expected},
    {"name": "overlong-varint", "what": "an 11-byte varint", "hex": overlong_body.hex(), "error": "malformed_body"},
    {"name": "truncated-field", "what": "the body stops inside a field", "hex": valid[:-7].hex(), "error": "malformed_body"},
    {"name": "too-many-actions", "what": "10,001 actions in one change set", "hex": change_set(many).hex(), "error": "limit_exceeded"},
    {"name": "string-over-limit", "what": "a job number of 600 bytes",
     "hex": change_set([(0, 0, 0, 0, 0, JUNE_1, 0, f_msg(1, f_string(1, "9" * 600) + f_string(2, "Dana")))]).hex(),
     "error": "limit_exceeded"},
    {"name": "app-version-over-limit", "what": "an app version of 65 bytes", "hex": change_set(valid_actions, app_version="v" * 65).hex(),
     "error": "limit_exceeded"},
    {"name": "bad-user-reference", "what": "an actor that points past the user table",
     "hex": change_set([(0, 0, 4 * 7, 0, 0, JUNE_1, 0, create_job)]).hex(), "error": "bad_reference"},
    {"name": "column-mismatch", "what": "one logical value too many",
     "hex": change_set(valid_actions, extra_logical=[0]).hex(),
     "error": "column_mismatch"},
    {"name": "short-replica", "what": "a 15-byte replica id", "hex": change_set(valid_actions, replica=REPLICA[:15],
     interned=f_bytes(1, REPLICA[:15]) + f_string(2, "tech-ana") + f_string(3, "USD")).hex(), "error": "invalid_value"},
    {"name": "unknown-payload", "what": "a payload kind from a newer schema (field 99)",
     "hex": change_set([(0, 0, 0, 0, 0, JUNE_1, 0, key(99, 0) + varint(1))]).hex(), "error": "invalid_value"},
    {"name": "amount-twice", "what": "a change order giving its amount both in minor units and in hundreds",
     "hex": change_set([(0, 0, 0, 1, 1, JUNE_1, 0, f_msg(14, f_string(1, "Extra vent") + f_varint(2, 12345) + f_varint(4, zigzag(10))))]).hex(),
     "error": "invalid_value"},
    {"name": "amount-not-canonical", "what": "a $1,000.00 change order in minor units, which must be sent as hundreds",
     "hex": change_set([(0, 0, 0, 1, 1, JUNE_1, 0, f_msg(14, f_string(1, "Extra vent") + f_varint(2, 100000)))]).hex(), "error": "invalid_value"},
    {"name": "payment-amount-not-canonical", "what": "a $1,000.00 payment scaled as minor units (200,001) instead of hundreds",
     "hex": change_set(valid_actions[:4], edit_columns=lambda c: c.replace(f_msg(19, packed([2000])), f_msg(19, packed([200001])))).hex(),
     "error": "invalid_value"},
    {"name": "number-as-text", "what": "check number 1042 sent as text, which must be sent as a number",
     "hex": change_set([(0, 0, 0, 1, 1, JUNE_1, 0, ("payment", 48250, 0, 2, False, "1042"))], edit_columns=lambda c: c.replace(
         f_packed(26, [13]), f_packed(26, [23])).replace(f_column(27, [1042]), b"") + f_string(28, "1042")).hex(), "error": "invalid_value"},
    {"name": "payment-rows-missing", "what": "an action marked as a payment with no row in the payment columns",
     "hex": change_set([(0, 0, 0, 1, 1, JUNE_1, 0, record_payment)], drop_payment_rows=True).hex(), "error": "column_mismatch"},
    {"name": "actor-repeat-first", "what": "the first action's actor written as 'the same as the previous one'",
     "hex": change_set(valid_actions[:4], actor_column=[0, 0, 0, 0]).hex(), "error": "invalid_value"},
    {"name": "actor-not-canonical", "what": "an actor repeated explicitly instead of as 0",
     "hex": change_set(valid_actions[:4], actor_column=[1, 1, 0, 0]).hex(), "error": "invalid_value"},
    {"name": "packed-not-canonical", "what": "job counters packed with a base below their smallest value",
     "hex": change_set(valid_actions[:4], edit_columns=lambda c: c.replace(
         f_msg(18, packed([0, 1, 1, 1])), f_msg(18, f_varint(1, zigzag(-1)) + f_varint(2, 2) + f_bytes(3, bytes([0b10101001]))))).hex(),
     "error": "invalid_value"},
    {"name": "packed-wrong-length", "what": "a packed clock column one byte longer than its count and width need",
     "hex": change_set(valid_actions[:4], edit_columns=lambda c: c.replace(
         f_msg(17, packed([1000, 1000, 60000])),
         f_msg(17, f_varint(1, zigzag(1000)) + f_varint(2, 16) + f_bytes(3, packed([1000, 1000, 60000])[-6:] + b"\x00")))).hex(),
     "error": "column_mismatch"},
    {"name": "counter-zero", "what": "a change set whose first counter is 0", "hex": change_set(valid_actions, first_counter=0).hex(),
     "error": "invalid_value"},
    {"name": "minor-flag-on-hundreds", "what": "schema 2: $1,000.00 as 100,000 minor units, flagged, which must go as 1,000 hundreds",
     "hex": change_set([(0, 0, 0, 1, 1, JUNE_1, 0, record_payment)], schema=2, edit_columns=lambda c: c.replace(
         f_msg(19, packed([1000])), f_msg(19, packed([100000]))).replace(f_packed(26, [2]), f_packed(26, [32]))).hex(),
     "error": "invalid_value"},
    {"name": "minor-flag-on-zero", "what": "schema 2: a payment of 0 flagged as minor units (0 is 0 hundreds, unflagged)",
     "hex": change_set([(0, 0, 0, 1, 1, JUNE_1, 0, ("payment", 0, 0, 1, False, None))], schema=2, edit_columns=lambda c: c.replace(
         f_packed(26, [2]), f_packed(26, [32]))).hex(),
     "error": "invalid_value"},
    {"name": "payment-code-over-60", "what": "schema 2: payment code 61",
     "hex": change_set([(0, 0, 0, 1, 1, JUNE_1, 0, record_payment)], schema=2, edit_columns=lambda c: c.replace(
         f_packed(26, [2]), f_packed(26, [61]))).hex(),
     "error": "invalid_value"},
    {"name": "schema-3", "what": "a change set in body schema 3, which this version does not know",
     "hex": change_set(valid_actions, schema=3).hex(), "error": "unsupported_version"},
    {"name": "job-step-in-schema-1", "what": "a reference relative to the job in a schema 1 change set",
     "hex": change_set(schema2_actions, interned=two_replicas, schema=1).hex(), "error": "invalid_value"},
    {"name": "job-step-without-job", "what": "schema 2: a reference relative to the job in an action that has none",
     "hex": change_set([(0, 0, 0, 0, 0, JUNE_1, 0, confirm_own)], schema=2).hex(), "error": "invalid_value"},
    {"name": "job-step-with-replica", "what": "schema 2: a reference giving both a step from the job and a replica",
     "hex": change_set([(0, 0, 0, 2, 1, JUNE_1, 0, f_msg(11, ref(1, 0) + job_ref(5)))], interned=two_replicas, schema=2).hex(),
     "error": "invalid_value"},
    {"name": "job-step-below-one", "what": "schema 2: a step from job 1 that comes to counter 0",
     "hex": change_set([(0, 0, 0, 1, 1, JUNE_1, 0, f_msg(11, job_ref(-1)))], schema=2).hex(), "error": "invalid_value"},
    {"name": "job-replica-written-out", "what": "schema 2: a reference on the job's own replica written in full instead of as a step",
     "hex": change_set([(0, 0, 0, 1, 1, JUNE_1, 0, f_msg(11, ref(0, 6)))], schema=2).hex(), "error": "invalid_value"},
]
vectors.insert(1, {"name": "schema-2", "what": "body schema 2: the six actions, then a row relabelled, the sender's own payment "
                                               "confirmed (both relative to job 1) and another replica's change order approved",
                   "hex": schema2.hex(), "expect": schema2_expected})

with open("Protocol/vectors/changesets.json", "w") as out:
    json.dump({"generator": "Protocol/vectors/make_changeset_vectors.py", "replica": REPLICA.hex(), "vectors": vectors}, out, indent=1)
    out.write("\n")
print("wrote %d vectors" % len(vectors))

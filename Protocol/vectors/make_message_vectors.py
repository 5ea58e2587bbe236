#!/usr/bin/env python3
"""Writes Protocol/vectors/messages.json: golden push responses, pull requests, pull pages and
error messages as whole envelopes, from Python implementations of Protocol/README.md written
apart from the Swift one (standard library only). Run from the repository root:

    python3 Protocol/vectors/make_message_vectors.py
"""
import importlib.util
import json
import pathlib
import struct
import zlib

here = pathlib.Path(__file__).parent
spec = importlib.util.spec_from_file_location("cs", here / "make_changeset_vectors.py")
cs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cs)  # reuses the protobuf writer (it also rewrites changesets.json)
f_varint, f_bytes, f_string, f_msg, f_packed, key, varint, zigzag, ref = (
    cs.f_varint, cs.f_bytes, cs.f_string, cs.f_msg, cs.f_packed, cs.key, cs.varint, cs.zigzag, cs.ref)
REPLICA = cs.REPLICA


def envelope(msg_type, body, compressed):
    payload = zlib.compress(body, 6) if compressed else body
    covered = bytes([1, msg_type, 1 if compressed else 0, 0]) + struct.pack(">I", len(body))
    return b"FLCS" + covered + struct.pack(">II", zlib.crc32(covered + body), len(payload)) + payload


def outcome(kind, case=None, code="", message="", own_case_index=None):
    """An outcome; `case` is (replica position, counter, index). In a pull page a case raised by
    the entry's own action leaves the dot out: `own_case_index` alone."""
    body = f_varint(1, kind)
    if case is not None:
        body += f_msg(2, ref(*case[:2])) + f_varint(3, case[2])
    if own_case_index is not None:
        body += f_varint(3, own_case_index)
    return body + f_string(4, code) + f_string(5, message)


interned = f_bytes(1, REPLICA)
push_response = (f_msg(1, interned) +
                 f_msg(2, outcome(0)) + f_msg(2, outcome(1)) + f_msg(2, outcome(2, (0, 7, 1))) +
                 f_msg(2, outcome(3, (0, 8, 0))) +
                 f_msg(2, outcome(4, code="amount_not_positive", message="The payment amount must be greater than zero.")) +
                 f_varint(4, 1207))
gap_response = f_msg(1, b"") + f_msg(2, outcome(0)) + key(3, 0) + varint(12) + f_varint(4, 88)
pull_request = f_bytes(1, REPLICA) + f_varint(2, 4096) + f_varint(3, 500)
pull_request_2 = pull_request + f_varint(4, 2)  # a device that reads body schema 2
error_body = f_string(1, "replica_mismatch") + f_string(2, "This device may only push its own actions; check the device token.")

# A pull page of two entries by the same replica: a job created, then invoiced.
# Dot counters go as steps from the same replica's previous counter, seen sequences (40, 41) as
# differences from its previous action's, and the second actor (office-ben, office) as 0: the same.
columns = (f_packed(1, [0, 0]) +
           f_packed(4, [0, 0]) + f_packed(5, [2, 0]) + f_packed(6, [0, 1]) +
           f_packed(8, [zigzag(cs.JUNE_1), 0]) +
           f_msg(12, cs.create_job) + f_msg(12, cs.set_invoice) +
           f_packed(14, [zigzag(40), zigzag(1)]) + f_packed(15, [1, 1]) +
           f_varint(16, zigzag(1780272000000)) + cs.f_column(17, [1000]) + cs.f_column(18, [0, 1]) + f_packed(26, [0, 0]))
digest = bytes(range(32))
job_digest = (f_msg(1, ref(0, 1)) + f_varint(2, 2) + f_varint(3, 300000) + f_bytes(7, digest))
checkpoint = f_varint(1, 42) + f_bytes(2, bytes(range(32, 64))) + f_msg(3, job_digest) + f_varint(4, 1)
page = (f_varint(1, 41) + f_msg(2, f_bytes(1, REPLICA) + f_string(2, "office-ben") + f_string(3, "USD")) +
        f_msg(3, columns) + f_msg(4, outcome(0)) + f_msg(4, outcome(0)) + f_msg(5, checkpoint))



def page_with(columns_, outcomes=(outcome(0), outcome(0))):
    return (f_varint(1, 41) + f_msg(2, f_bytes(1, REPLICA) + f_string(2, "office-ben") + f_string(3, "USD")) +
            f_msg(3, columns_) + b"".join(f_msg(4, o) for o in outcomes) + f_msg(5, checkpoint))


# The same entries with review cases: the first parked under a case raised by another action
# (counter 7, index 0), so its dot is written; the second applied with an exception under a case
# it raised itself (its own dot, counter 2, index 1), so only the index is written.
cases_page = page_with(columns, (outcome(3, (0, 7, 0)), outcome(2, own_case_index=1)))
own_dot_written = page_with(columns, (outcome(3, (0, 7, 0)), outcome(2, (0, 2, 1))))


# Body schema 2 (field 6): the second entry relabels the third row of job 1's plan, created at
# counter 3 by the job's own replica, so the row's origin is a step of 2 from the job.
relabel = f_msg(9, f_msg(1, cs.job_ref(2)) + f_varint(2, 2) + f_string(3, "Balance", True))
columns_2 = columns.replace(f_msg(12, cs.set_invoice), f_msg(12, relabel))
assert columns_2 != columns
page_2 = page_with(columns_2) + f_varint(6, 2)
page_2_in_schema_1 = page_with(columns_2)
page_2_written_out = page_with(columns.replace(f_msg(12, cs.set_invoice), f_msg(12, f_msg(9, f_msg(1, ref(0, 3)) + f_varint(2, 2) + f_string(3, "Balance", True))))) + f_varint(6, 2)
page_schema_1_written = page + f_varint(6, 1)


step_zero = columns.replace(f_packed(15, [1, 1]), f_packed(15, [1, 0]))
assert step_zero != columns
actor_first_zero = columns.replace(f_packed(5, [2, 0]), f_packed(5, [0, 0]))
assert actor_first_zero != columns

vectors = [
    {"name": "pull-page-step-zero", "type": 4, "hex": envelope(4, page_with(step_zero), False).hex(), "error": "invalid_value",
     "what": "the second entry repeats the first one's dot (a counter step of 0)"},
    {"name": "pull-page-actor-repeat-first", "type": 4, "hex": envelope(4, page_with(actor_first_zero), False).hex(), "error": "invalid_value",
     "what": "the first entry's actor written as 'the same as its replica's previous one'"},
    {"name": "pull-page-own-case-named", "type": 4, "hex": envelope(4, own_dot_written, False).hex(), "error": "invalid_value",
     "what": "a review case raised by the entry's own action written with its dot, which a pull page leaves out"},
    {"name": "pull-page-cases", "type": 4, "hex": envelope(4, cases_page, True).hex(),
     "what": "entries 41 (parked: case 7/0) and 42 (applied with an exception: its own case, index 1)"},
    {"name": "push-response", "type": 2, "hex": envelope(2, push_response, True).hex(),
     "what": "applied, exists, applied with exception (case 7/1), parked (case 8/0), rejected; log at 1207"},
    {"name": "push-response-gap", "type": 2, "hex": envelope(2, gap_response, False).hex(),
     "what": "one applied, then a gap: send from counter 12; log at 88"},
    {"name": "pull-request", "type": 3, "hex": envelope(3, pull_request, False).hex(), "what": "after 4096, up to 500 entries"},
    {"name": "pull-page", "type": 4, "hex": envelope(4, page, True).hex(),
     "what": "entries 41 and 42 (create job J-1042, invoice it), caught up, one job digest"},
    {"name": "error", "type": 5, "hex": envelope(5, error_body, False).hex(), "what": "replica_mismatch"},
    {"name": "pull-request-schema-2", "type": 3, "hex": envelope(3, pull_request_2, False).hex(),
     "what": "after 4096, up to 500 entries, from a device that reads body schema 2"},
    {"name": "pull-page-schema-2", "type": 4, "hex": envelope(4, page_2, True).hex(),
     "what": "body schema 2: entry 42 relabels row 2 of the plan made at counter 3, written as a step of 2 from job 1"},
    {"name": "pull-page-job-step-in-schema-1", "type": 4, "hex": envelope(4, page_2_in_schema_1, False).hex(), "error": "invalid_value",
     "what": "the schema 2 page without its schema field: a step from the job in schema 1"},
    {"name": "pull-page-job-replica-written-out", "type": 4, "hex": envelope(4, page_2_written_out, False).hex(), "error": "invalid_value",
     "what": "schema 2: a reference on the job's own replica written in full"},
    {"name": "pull-page-schema-1-written", "type": 4, "hex": envelope(4, page_schema_1_written, False).hex(), "error": "invalid_value",
     "what": "schema 1 written out as a field, which is left out"},
]
with open(here / "messages.json", "w") as out:
    json.dump({"generator": "Protocol/vectors/make_message_vectors.py", "vectors": vectors}, out, indent=1)
    out.write("\n")
print("wrote %d vectors" % len(vectors))

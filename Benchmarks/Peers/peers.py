"""The peers of issue H on the workload our benchmarks push (Benchmarks/Peers/README.md).

Each peer is the engine a team would pick instead of ours, used the way its documentation
suggests: SQLite's session extension (changesets, through apsw), Automerge (its sync
protocol), Yjs (pycrdt: state vectors and updates) and Loro (version vectors and updates).
Every peer keeps one document (one database) per company, as our server keeps one log per
company, and persists what it receives to SQLite in WAL mode with synchronous=FULL, one
commit per change set, as our server does.

Only the peer's native work is timed: the server applying a device's change and committing
it, a reader applying a backlog, replicas merging each other's edits. Making the devices'
changes in Python is not timed (it has no counterpart on our server).

    python peers.py --workload W.json --backlog B.json --out peers.json [--peers sqlite,automerge,yjs,loro]
"""

import argparse
import gc
import json
import os
import statistics
import sys
import tempfile
import time
import zlib

import apsw

CHANGE_SET = 100  # actions per change set, as our devices push
PROBE = 1_000  # the fixed push of workload 6: 1,000 one-dollar cash payments
MERGE_PLANS = 1_000  # workload 3
TEMPLATES = [[["Deposit", 500000], ["Final Payment", 500000]],
             [["Deposit", 600000], ["Final Payment", 400000]],
             [["Deposit", 333334], ["Progress Payment", 333333], ["Final Payment", 333333]]]


def clock():
    return time.perf_counter()


class UpdateLog:
    """Where a CRDT peer's server or reader persists what it receives: an append-only table of
    update bytes in a WAL database with synchronous=FULL, one commit per change set."""

    def __init__(self, path):
        self.db = apsw.Connection(path)
        self.db.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;")
        self.db.execute("CREATE TABLE IF NOT EXISTS updates(seq INTEGER PRIMARY KEY, bytes BLOB NOT NULL)")

    def append(self, payloads):
        with self.db:
            for payload in payloads:
                self.db.execute("INSERT INTO updates(bytes) VALUES(?)", (payload,))

    def close(self):
        self.db.close()


def payment_id(device, counter):
    return f"{device}.{counter}"


# MARK: Automerge

class AutomergePeer:
    name = "Automerge"

    def __init__(self):
        import automerge.core as am
        self.am = am

    def version(self):
        from importlib.metadata import version
        return "automerge " + version("automerge")

    def new_doc(self, actor):
        doc = self.am.Document()
        doc.set_actor(actor.to_bytes(16, "big"))
        return doc

    def setup(self, jobs):
        am = self.am
        doc = self.new_doc(1)
        with doc.transaction() as tx:
            root = tx.put_object(am.ROOT, "jobs", am.ObjType.Map)
            for index, job in enumerate(jobs):
                j = tx.put_object(root, str(index), am.ObjType.Map)
                tx.put(j, "number", am.ScalarType.Str, job["number"])
                tx.put(j, "customer", am.ScalarType.Str, job["customer"])
                tx.put(j, "invoice", am.ScalarType.Int, job["invoice"])
                plan = tx.put_object(j, "plan", am.ObjType.List)
                self._rows(tx, plan, job["plan"])
                tx.put_object(j, "payments", am.ObjType.List)
                tx.put_object(j, "refunds", am.ObjType.List)
                tx.put_object(j, "changeOrders", am.ObjType.List)
        return doc.save()

    def _rows(self, tx, plan, rows):
        am = self.am
        for i, (label, ppm) in enumerate(rows):
            row = tx.insert_object(plan, i, am.ObjType.Map)
            tx.put(row, "label", am.ScalarType.Str, label)
            tx.put(row, "ppm", am.ScalarType.Int, ppm)

    def replica(self, snapshot, actor):
        doc = self.am.Document.load(snapshot)
        doc.set_actor(actor.to_bytes(16, "big"))
        return {"doc": doc, "jobs": doc.get(self.am.ROOT, "jobs")[1], "counter": 0, "base": doc.get_heads()}

    def act(self, replica, action):
        am = self.am
        doc = replica["doc"]
        device, job, kind = action[0], action[1], action[2]
        with doc.transaction() as tx:
            j = tx.get(replica["jobs"], str(job))[1]
            if kind == "pay":
                payments = tx.get(j, "payments")[1]
                p = tx.insert_object(payments, tx.length(payments), am.ObjType.Map)
                tx.put(p, "id", am.ScalarType.Str, payment_id(device, replica["counter"]))
                tx.put(p, "amount", am.ScalarType.Int, action[3])
                tx.put(p, "method", am.ScalarType.Str, action[4])
                tx.put(p, "state", am.ScalarType.Str, "pending" if action[5] else "completed")
                if action[6] is not None:
                    tx.put(p, "reference", am.ScalarType.Str, action[6])
            elif kind == "plan":
                plan = tx.get(j, "plan")[1]
                for i in reversed(range(tx.length(plan))):
                    tx.delete(plan, i)
                self._rows(tx, plan, action[3])
            elif kind == "row":
                plan = tx.get(j, "plan")[1]
                if tx.length(plan):
                    row = tx.get(plan, tx.length(plan) - 1)[1]
                    tx.put(row, "label", am.ScalarType.Str, action[3])
            elif kind == "refund":
                refunds = tx.get(j, "refunds")[1]
                r = tx.insert_object(refunds, tx.length(refunds), am.ObjType.Map)
                tx.put(r, "payment", am.ScalarType.Str, payment_id(action[3], action[4]))
                tx.put(r, "amount", am.ScalarType.Int, action[5])
            elif kind == "co":
                orders = tx.get(j, "changeOrders")[1]
                o = tx.insert_object(orders, tx.length(orders), am.ObjType.Map)
                tx.put(o, "summary", am.ScalarType.Str, action[3])
                tx.put(o, "amount", am.ScalarType.Int, action[4])
                tx.put(o, "status", am.ScalarType.Str, "proposed")

    # A push hands the server the device's new changes. The Python binding has no call that
    # applies change bytes (Rust's apply_changes); merging the device's document does the same
    # native work (find the changes the server lacks, apply them). The sync protocol would also
    # send the device every other device's changes on each push: that is a pull, not ingest.
    def link(self):
        return {"heads": None}

    def push(self, server, replica, link, log):
        doc = replica["doc"]
        changes = doc.get_changes(link["heads"] or replica["base"])
        link["heads"] = doc.get_heads()
        start = clock()
        server["doc"].merge(doc)
        busy = clock() - start
        log.append([change.bytes for change in changes])
        return sum(len(change.bytes) for change in changes), busy

    def backlog(self, server, reader, log):
        """A reader far behind catches up; returns (bytes, reader seconds, server seconds)."""
        am = self.am
        link = {"device": am.SyncState(), "server": am.SyncState()}
        wire, reader_busy, server_busy = 0, 0.0, 0.0
        while True:
            start = clock()
            message = reader["doc"].generate_sync_message(link["device"])
            reader_busy += clock() - start
            sent = message is not None
            if sent:
                data = message.encode()
                wire += len(data)
                start = clock()
                server["doc"].receive_sync_message(link["server"], am.Message.decode(data))
                server_busy += clock() - start
            start = clock()
            answer = server["doc"].generate_sync_message(link["server"])
            server_busy += clock() - start
            if answer is None and not sent:
                break
            if answer is not None:
                data = answer.encode()
                wire += len(data)
                start = clock()
                reader["doc"].receive_sync_message(link["device"], am.Message.decode(data))
                log.append([data])
                reader_busy += clock() - start
        return wire, reader_busy, server_busy

    def merge(self, a, b):
        """Each replica takes the other's new changes, through the sync protocol; returns seconds
        spent applying."""
        am = self.am
        link = {"device": am.SyncState(), "server": am.SyncState()}
        busy = 0.0
        for _ in range(8):
            m1 = a["doc"].generate_sync_message(link["device"])
            if m1 is not None:
                start = clock()
                b["doc"].receive_sync_message(link["server"], am.Message.decode(m1.encode()))
                busy += clock() - start
            m2 = b["doc"].generate_sync_message(link["server"])
            if m2 is not None:
                start = clock()
                a["doc"].receive_sync_message(link["device"], am.Message.decode(m2.encode()))
                busy += clock() - start
            if m1 is None and m2 is None:
                break
        return busy

    def state(self, replica):
        return json.dumps(self.am.extract(replica["doc"], self.am.ROOT), sort_keys=True, default=str)

    def snapshot(self, replica):
        return replica["doc"].save()


# MARK: Yjs (pycrdt)

class YjsPeer:
    name = "Yjs (pycrdt)"

    def __init__(self):
        import pycrdt
        self.y = pycrdt

    def version(self):
        from importlib.metadata import version
        return "pycrdt " + version("pycrdt")

    def setup(self, jobs):
        y = self.y
        doc = y.Doc(client_id=1)
        root = doc.get("jobs", type=y.Map)
        with doc.transaction():
            for index, job in enumerate(jobs):
                root[str(index)] = y.Map({
                    "number": job["number"], "customer": job["customer"], "invoice": job["invoice"],
                    "plan": y.Array([y.Map({"label": label, "ppm": ppm}) for label, ppm in job["plan"]]),
                    "payments": y.Array(), "refunds": y.Array(), "changeOrders": y.Array(),
                })
        return doc.get_update()

    def replica(self, snapshot, actor):
        y = self.y
        doc = y.Doc(client_id=actor)
        doc.apply_update(snapshot)
        return {"doc": doc, "jobs": doc.get("jobs", type=y.Map), "counter": 0, "sent": doc.get_state()}

    def act(self, replica, action):
        y = self.y
        device, job, kind = action[0], action[1], action[2]
        j = replica["jobs"][str(job)]
        with replica["doc"].transaction():
            if kind == "pay":
                payment = {"id": payment_id(device, replica["counter"]), "amount": action[3], "method": action[4],
                           "state": "pending" if action[5] else "completed"}
                if action[6] is not None:
                    payment["reference"] = action[6]
                j["payments"].append(y.Map(payment))
            elif kind == "plan":
                plan = j["plan"]
                del plan[:]
                plan.extend([y.Map({"label": label, "ppm": ppm}) for label, ppm in action[3]])
            elif kind == "row":
                plan = j["plan"]
                if len(plan):
                    plan[len(plan) - 1]["label"] = action[3]
            elif kind == "refund":
                j["refunds"].append(y.Map({"payment": payment_id(action[3], action[4]), "amount": action[5]}))
            elif kind == "co":
                j["changeOrders"].append(y.Map({"summary": action[3], "amount": action[4], "status": "proposed"}))

    def link(self):
        return {}

    def push(self, server, replica, link, log):
        # A device sends what it made since its last push (it keeps its state vector then).
        update = replica["doc"].get_update(replica["sent"])
        replica["sent"] = replica["doc"].get_state()
        start = clock()
        server["doc"].apply_update(update)
        log.append([update])
        return len(update), clock() - start

    def backlog(self, server, reader, log):
        start = clock()
        vector = reader["doc"].get_state()
        reader_busy = clock() - start
        start = clock()
        update = server["doc"].get_update(vector)
        server_busy = clock() - start
        start = clock()
        reader["doc"].apply_update(update)
        log.append([update])
        reader_busy += clock() - start
        return len(vector) + len(update), reader_busy, server_busy

    def merge(self, a, b):
        ua = a["doc"].get_update(b["doc"].get_state())
        ub = b["doc"].get_update(a["doc"].get_state())
        start = clock()
        b["doc"].apply_update(ua)
        a["doc"].apply_update(ub)
        return clock() - start

    def state(self, replica):
        return json.dumps(replica["jobs"].to_py(), sort_keys=True, default=str)

    def snapshot(self, replica):
        return replica["doc"].get_update()


# MARK: Loro

class LoroPeer:
    name = "Loro"

    def __init__(self):
        import loro
        self.loro = loro

    def version(self):
        from importlib.metadata import version
        return "loro " + version("loro")

    def setup(self, jobs):
        loro = self.loro
        doc = loro.LoroDoc()
        doc.peer_id = 1
        root = doc.get_map("jobs")
        for index, job in enumerate(jobs):
            j = root.insert_container(str(index), loro.LoroMap())
            j.insert("number", job["number"])
            j.insert("customer", job["customer"])
            j.insert("invoice", job["invoice"])
            plan = j.insert_container("plan", loro.LoroList())
            for label, ppm in job["plan"]:
                row = plan.push_container(loro.LoroMap())
                row.insert("label", label)
                row.insert("ppm", ppm)
            j.insert_container("payments", loro.LoroList())
            j.insert_container("refunds", loro.LoroList())
            j.insert_container("changeOrders", loro.LoroList())
        doc.commit()
        return doc.export(loro.ExportMode.Snapshot())

    def replica(self, snapshot, actor):
        loro = self.loro
        doc = loro.LoroDoc()
        doc.import_(snapshot)
        doc.peer_id = actor
        return {"doc": doc, "jobs": doc.get_map("jobs"), "counter": 0, "sent": doc.oplog_vv}

    def _container(self, map_, key):
        value = map_.get(key)
        return value.container if hasattr(value, "container") else value

    def act(self, replica, action):
        loro = self.loro
        device, job, kind = action[0], action[1], action[2]
        j = self._container(replica["jobs"], str(job))
        if kind == "pay":
            p = self._container(j, "payments").push_container(loro.LoroMap())
            p.insert("id", payment_id(device, replica["counter"]))
            p.insert("amount", action[3])
            p.insert("method", action[4])
            p.insert("state", "pending" if action[5] else "completed")
            if action[6] is not None:
                p.insert("reference", action[6])
        elif kind == "plan":
            plan = self._container(j, "plan")
            plan.clear()
            for label, ppm in action[3]:
                row = plan.push_container(loro.LoroMap())
                row.insert("label", label)
                row.insert("ppm", ppm)
        elif kind == "row":
            plan = self._container(j, "plan")
            if len(plan):
                self._container_at(plan, len(plan) - 1).insert("label", action[3])
        elif kind == "refund":
            r = self._container(j, "refunds").push_container(loro.LoroMap())
            r.insert("payment", payment_id(action[3], action[4]))
            r.insert("amount", action[5])
        elif kind == "co":
            o = self._container(j, "changeOrders").push_container(loro.LoroMap())
            o.insert("summary", action[3])
            o.insert("amount", action[4])
            o.insert("status", "proposed")
        replica["doc"].commit()

    def _container_at(self, list_, index):
        value = list_.get(index)
        return value.container if hasattr(value, "container") else value

    def link(self):
        return {}

    def push(self, server, replica, link, log):
        loro = self.loro
        update = replica["doc"].export(loro.ExportMode.Updates(replica["sent"]))
        replica["sent"] = replica["doc"].oplog_vv
        start = clock()
        server["doc"].import_(update)
        log.append([update])
        return len(update), clock() - start

    def backlog(self, server, reader, log):
        loro = self.loro
        start = clock()
        vector = reader["doc"].oplog_vv
        encoded_vector = vector.encode()
        reader_busy = clock() - start
        start = clock()
        update = server["doc"].export(loro.ExportMode.Updates(loro.VersionVector.decode(encoded_vector)))
        server_busy = clock() - start
        start = clock()
        reader["doc"].import_(update)
        log.append([update])
        reader_busy += clock() - start
        return len(encoded_vector) + len(update), reader_busy, server_busy

    def merge(self, a, b):
        loro = self.loro
        ua = a["doc"].export(loro.ExportMode.Updates(b["doc"].oplog_vv))
        ub = b["doc"].export(loro.ExportMode.Updates(a["doc"].oplog_vv))
        start = clock()
        b["doc"].import_(ua)
        a["doc"].import_(ub)
        return clock() - start

    def state(self, replica):
        return json.dumps(replica["doc"].get_deep_value(), sort_keys=True, default=str)

    def snapshot(self, replica):
        return replica["doc"].export(self.loro.ExportMode.Snapshot())


# MARK: SQLite's session extension

SCHEMA = """
CREATE TABLE jobs(id INTEGER PRIMARY KEY, number TEXT NOT NULL, customer TEXT NOT NULL, invoice INTEGER NOT NULL);
CREATE TABLE plan_rows(job INTEGER NOT NULL, row INTEGER NOT NULL, label TEXT NOT NULL, ppm INTEGER NOT NULL, PRIMARY KEY(job, row));
CREATE TABLE payments(id TEXT PRIMARY KEY, job INTEGER NOT NULL, amount INTEGER NOT NULL, method TEXT NOT NULL, state TEXT NOT NULL, reference TEXT);
CREATE TABLE refunds(id TEXT PRIMARY KEY, job INTEGER NOT NULL, payment TEXT NOT NULL, amount INTEGER NOT NULL);
CREATE TABLE change_orders(id TEXT PRIMARY KEY, job INTEGER NOT NULL, summary TEXT NOT NULL, amount INTEGER NOT NULL, status TEXT NOT NULL);
"""


def combine(changesets):
    """One changeset with the effect of all of them (sqlite3changegroup)."""
    builder = apsw.ChangesetBuilder()
    for changeset in changesets:
        builder.add(changeset)
    return builder.output()


class SQLiteSessionPeer:
    """Rows in tables; a device records a session around its change set and sends the changeset;
    the server applies it (last writer wins on a conflicting row) inside one durable commit."""
    name = "SQLite session"

    def version(self):
        return "SQLite " + apsw.sqlite_lib_version() + " session extension (apsw " + apsw.apsw_version() + ")"

    def setup(self, jobs):
        db = apsw.Connection(":memory:")
        db.execute(SCHEMA)
        with db:
            for index, job in enumerate(jobs):
                db.execute("INSERT INTO jobs VALUES(?,?,?,?)", (index, job["number"], job["customer"], job["invoice"]))
                for row, (label, ppm) in enumerate(job["plan"]):
                    db.execute("INSERT INTO plan_rows VALUES(?,?,?,?)", (index, row, label, ppm))
        return db

    def replica(self, snapshot, actor, path=":memory:"):
        db = apsw.Connection(path)
        with db.backup("main", snapshot, "main") as backup:
            backup.step()
        if path != ":memory:":
            db.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;")
        return {"doc": db, "counter": 0, "session": None}

    def _session(self, replica):
        if replica["session"] is None:
            session = apsw.Session(replica["doc"], "main")
            session.attach()
            replica["session"] = session
        return replica["session"]

    def act(self, replica, action):
        db = replica["doc"]
        self._session(replica)
        device, job, kind = action[0], action[1], action[2]
        ident = payment_id(device, replica["counter"])
        if kind == "pay":
            db.execute("INSERT INTO payments VALUES(?,?,?,?,?,?)", (ident, job, action[3], action[4], "pending" if action[5] else "completed", action[6]))
        elif kind == "plan":
            db.execute("DELETE FROM plan_rows WHERE job = ?", (job,))
            for row, (label, ppm) in enumerate(action[3]):
                db.execute("INSERT INTO plan_rows VALUES(?,?,?,?)", (job, row, label, ppm))
        elif kind == "row":
            db.execute("UPDATE plan_rows SET label = ? WHERE job = ? AND row = (SELECT max(row) FROM plan_rows WHERE job = ?)", (action[3], job, job))
        elif kind == "refund":
            db.execute("INSERT INTO refunds VALUES(?,?,?,?)", (ident, job, payment_id(action[3], action[4]), action[5]))
        elif kind == "co":
            db.execute("INSERT INTO change_orders VALUES(?,?,?,?,?)", (ident, job, action[3], action[4], "proposed"))

    def _changeset(self, replica):
        session = self._session(replica)
        data = session.changeset()
        session.close()
        replica["session"] = None
        return data

    @staticmethod
    def _conflict(reason, change):
        # Last writer wins where a row differs; a row already gone stays gone.
        if reason in (apsw.SQLITE_CHANGESET_DATA, apsw.SQLITE_CHANGESET_CONFLICT):
            return apsw.SQLITE_CHANGESET_REPLACE
        return apsw.SQLITE_CHANGESET_OMIT

    def link(self):
        return {}

    def push(self, server, replica, link, log):
        data = self._changeset(replica)
        start = clock()
        with server["doc"]:
            apsw.Changeset.apply(data, server["doc"], conflict=self._conflict)
        busy = clock() - start
        log.append([data])
        return len(data), busy

    def backlog(self, server, reader, log):
        # The server keeps the changesets it applied; a reader far behind gets them combined
        # into one (sqlite3changegroup) and applies it in one commit.
        start = clock()
        combined = combine(server["received"])
        server_busy = clock() - start
        start = clock()
        with reader["doc"]:
            apsw.Changeset.apply(combined, reader["doc"], conflict=self._conflict)
        return len(combined), clock() - start, server_busy

    def merge(self, a, b):
        da, db_ = self._changeset(a), self._changeset(b)
        start = clock()
        with b["doc"]:
            apsw.Changeset.apply(da, b["doc"], conflict=self._conflict)
        with a["doc"]:
            apsw.Changeset.apply(db_, a["doc"], conflict=self._conflict)
        return clock() - start

    def state(self, replica):
        rows = replica["doc"].execute("SELECT job, row, label, ppm FROM plan_rows ORDER BY job, row").fetchall()
        return json.dumps(rows)


# MARK: The workloads

def chunks_by_device(actions, devices):
    """Each device's actions in 100-action change sets, sent round-robin as our devices push
    all at once."""
    own = [[] for _ in range(devices)]
    for action in actions:
        own[action[0]].append(action)
    sets = [[mine[i:i + CHANGE_SET] for i in range(0, len(mine), CHANGE_SET)] for mine in own]
    order = []
    for round_ in range(max(len(s) for s in sets)):
        for device in range(devices):
            if round_ < len(sets[device]):
                order.append((device, sets[device][round_]))
    return order


def probe_actions(jobs, start):
    return [[-1, (start + i) % jobs, "pay", 100, "cash", 0, None] for i in range(PROBE)]


def run_peer(peer, workload, backlog, directory):
    result = {"peer": peer.name, "version": peer.version()}
    jobs, devices = workload["jobs"], workload["devices"]
    print(f"[{peer.name}] set-up: {len(jobs)} jobs", flush=True)
    snapshot = peer.setup(jobs)
    is_sql = isinstance(peer, SQLiteSessionPeer)

    # Workload 1 (ingest) and 6 (the fixed push as the document grows).
    server = peer.replica(snapshot, 1000, os.path.join(directory, "server.sqlite")) if is_sql else peer.replica(snapshot, 1000)
    server["received"] = []
    log = None if is_sql else UpdateLog(os.path.join(directory, "server-updates.sqlite"))
    replicas = [peer.replica(snapshot, 2000 + d) for d in range(devices)]
    links = [peer.link() for _ in range(devices)]
    probe = peer.replica(snapshot, 9999)
    probe_link = peer.link()
    probe_counter = [0]
    compressed = [0]

    def push(replica, link, actions):
        for action in actions:
            replica["counter"] += 1
            peer.act(replica, action)
        received = []
        wire, busy = peer.push(server, replica, link, received)
        payloads = [data for group in received for data in group]
        start = clock()
        if log is not None:
            log.append(payloads)
        busy += clock() - start
        compressed[0] += sum(len(zlib.compress(data, 6)) for data in payloads)
        return wire, busy

    def fixed_push():
        actions = probe_actions(len(jobs), probe_counter[0])
        probe_counter[0] += PROBE
        _, busy = push(probe, probe_link, actions)
        return busy

    # Warm the probe's link (Automerge's first exchange trades heads) before timing anything.
    fixed_push()
    first_probe = statistics.median([fixed_push() for _ in range(5)])
    order = chunks_by_device(workload["actions"], devices)
    total_actions = sum(len(chunk) for _, chunk in order)
    busy_total, wire_total = 0.0, 0
    compressed[0] = 0
    wall = clock()
    for index, (device, chunk) in enumerate(order):
        wire, busy = push(replicas[device], links[device], chunk)
        busy_total += busy
        wire_total += wire
        if (index + 1) % max(1, len(order) // 10) == 0:
            print(f"[{peer.name}] ingest: {sum(len(c) for _, c in order[:index + 1])} of {total_actions} actions, "
                  f"{sum(len(c) for _, c in order[:index + 1]) / busy_total:,.0f} actions/s of server work", flush=True)
    last_probe = statistics.median([fixed_push() for _ in range(5)])
    result["ingest"] = {"actions": total_actions, "server_seconds": busy_total, "actions_per_second": total_actions / busy_total,
                        "wire_bytes": wire_total, "bytes_per_action": wire_total / total_actions,
                        "bytes_per_action_zlib": compressed[0] / total_actions, "wall_seconds": clock() - wall}
    result["growth"] = {"first_seconds": first_probe, "last_seconds": last_probe, "ratio": last_probe / first_probe,
                        "log_first": len(jobs) * 3, "log_last": len(jobs) * 3 + total_actions + 11 * PROBE}
    print(f"[{peer.name}] ingest: {total_actions / busy_total:,.0f} actions/s, {wire_total / total_actions:.2f} B/action; "
          f"fixed push {first_probe * 1000:.1f} → {last_probe * 1000:.1f} ms", flush=True)
    del replicas, links, probe
    if log is not None:
        log.close()
    if is_sql:
        server["doc"].close()
    del server
    gc.collect()

    # Workload 2: a reader that synced the setup catches up on a 100,000-action backlog.
    server = peer.replica(snapshot, 1000)
    server["received"] = []
    devices_b = backlog["devices"]
    replicas = [peer.replica(snapshot, 2000 + d) for d in range(devices_b)]
    links = [peer.link() for _ in range(devices_b)]
    for device, chunk in chunks_by_device(backlog["actions"], devices_b):
        replica = replicas[device]
        for action in chunk:
            replica["counter"] += 1
            peer.act(replica, action)
        if is_sql:
            data = peer._changeset(replica)
            with server["doc"]:
                apsw.Changeset.apply(data, server["doc"], conflict=peer._conflict)
            server["received"].append(data)
        else:
            peer.push(server, replica, links[device], [])
    del replicas, links
    gc.collect()
    times, wire, raw_total = [], 0, 0
    for attempt in range(3):
        reader = peer.replica(snapshot, 7000 + attempt, os.path.join(directory, f"reader-{attempt}.sqlite")) if is_sql else peer.replica(snapshot, 7000 + attempt)
        reader_log = None if is_sql else UpdateLog(os.path.join(directory, f"reader-{attempt}-updates.sqlite"))
        received = []
        wire, reader_busy, server_busy = peer.backlog(server, reader, received)
        start = clock()
        if reader_log is not None:
            reader_log.append([data for group in received for data in group])
            reader_log.close()
        reader_busy += clock() - start
        times.append(reader_busy)
        if is_sql:
            compressed = len(zlib.compress(combine(server["received"]), 6))
        else:
            compressed = sum(len(zlib.compress(data, 6)) for group in received for data in group)
        if attempt == 0:
            raw_total = wire
            compressed_total = compressed
        if is_sql:
            reader["doc"].close()
        del reader
        gc.collect()
    result["backlog"] = {"actions": len(backlog["actions"]), "apply_seconds": statistics.median(times), "wire_bytes": raw_total,
                         "wire_bytes_zlib": compressed_total, "server_seconds": server_busy}
    print(f"[{peer.name}] backlog: {len(backlog['actions'])} actions, {raw_total:,} bytes ({compressed_total:,} with zlib), "
          f"applied in {statistics.median(times):.3f} s", flush=True)
    if is_sql:
        server["doc"].close()
    del server
    gc.collect()

    # Workload 3: two replicas edit the same 1,000 plans in every round, then merge.
    plans = [{"number": f"P-{i}", "customer": f"Customer {i}", "invoice": 1_000_000_000, "plan": TEMPLATES[2]} for i in range(MERGE_PLANS)]
    base = peer.setup(plans)
    a, b = peer.replica(base, 501), peer.replica(base, 502)
    merged, busy = 0, 0.0
    rounds = 50  # as ledger-bench (b)
    for round_ in range(rounds):
        for writer, replica in enumerate((a, b)):
            for job in range(MERGE_PLANS):
                replica["counter"] += 1
                peer.act(replica, [writer, job, "plan", TEMPLATES[(round_ + writer + job) % 3]])
        busy += peer.merge(a, b)
        merged += 2 * MERGE_PLANS
    same = peer.state(a) == peer.state(b)
    result["merge"] = {"plans": MERGE_PLANS, "rounds": rounds, "writers": 2, "merged": merged, "seconds": busy,
                       "merges_per_second": merged / busy, "identical": same}
    print(f"[{peer.name}] merges: {merged / busy:,.0f} edits merged/s, replicas identical: {same}", flush=True)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", required=True)
    parser.add_argument("--backlog", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--peers", default="sqlite,automerge,yjs,loro")
    args = parser.parse_args()
    with open(args.workload) as f:
        workload = json.load(f)
    with open(args.backlog) as f:
        backlog = json.load(f)
    makers = {"sqlite": SQLiteSessionPeer, "automerge": AutomergePeer, "yjs": YjsPeer, "loro": LoroPeer}
    results = []
    for key in args.peers.split(","):
        with tempfile.TemporaryDirectory(prefix=f"peer-{key}-") as directory:
            started = clock()
            result = run_peer(makers[key](), workload, backlog, directory)
            result["total_seconds"] = clock() - started
            results.append(result)
        with open(args.out, "w") as f:
            json.dump({"peers": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())

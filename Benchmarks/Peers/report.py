"""Puts our figures and the peers' side by side (issue H): one JSON file and a readable table.

    python report.py --dir RUN_DIR --out results.json --table results.md

RUN_DIR holds what Benchmarks/compare wrote: ingest.json and crowd.json (server-bench),
backlog.json (client-bench), merge.json (ledger-bench) and peers.json (peers.py).
Every ratio is ours ÷ the peer's, from this one run on this one machine.
"""

import argparse
import json
import os
import platform
import sys


def load(directory, name):
    with open(os.path.join(directory, name)) as f:
        return json.load(f)


def machine():
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{model or platform.processor()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def verdict(ok):
    return "met" if ok else "NOT met"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--table", required=True)
    parser.add_argument("--command", default="bash Benchmarks/compare")
    args = parser.parse_args()
    ingest = load(args.dir, "ingest.json")
    crowd = load(args.dir, "crowd.json")["crowd"]
    backlog = load(args.dir, "backlog.json")["backlog"]
    cold_backlog = backlog.get("first_seconds", backlog["seconds"])
    unbuilt_backlog = backlog.get("pages_unbuilt_seconds", cold_backlog)
    merge = load(args.dir, "merge.json")["merge"]
    peers = load(args.dir, "peers.json")["peers"]
    by_name = {p["peer"]: p for p in peers}
    crdts = [p for p in peers if p["peer"] != "SQLite session"]
    sqlite = by_name.get("SQLite session")

    rows = []  # (workload, measure, ours, peer figures, ratio text, goal, met)
    goals = []

    def goal(workload, text, ok, why=""):
        goals.append({"workload": workload, "goal": text, "met": bool(ok), "note": why})

    # 1. Ingest.
    ours_rate = ingest["ingest"]["actions_per_second"]
    rows.append(["1 ingest", "actions/s, durable (ours end to end over loopback; peers: apply + persist only)", f"{ours_rate:,.0f}",
                 {p["peer"]: f"{p['ingest']['actions_per_second']:,.0f}" for p in peers},
                 {p["peer"]: ours_rate / p["ingest"]["actions_per_second"] for p in peers}])
    goal(1, "≥ 60,000 actions/s", ours_rate >= 60_000)
    for p in crdts:
        goal(1, f"≥ 1.2× {p['peer']}", ours_rate / p["ingest"]["actions_per_second"] >= 1.2)
    if sqlite:
        goal(1, "≥ 0.8× SQLite changeset apply", ours_rate / sqlite["ingest"]["actions_per_second"] >= 0.8)

    # 2. Backlog.
    smallest = min(peers, key=lambda p: p["backlog"]["wire_bytes_zlib"])
    rows.append(["2 backlog", f"bytes for {backlog['actions']:,} actions (peers: their update, zlib level 6)", f"{backlog['wire_bytes']:,}",
                 {p["peer"]: f"{p['backlog']['wire_bytes_zlib']:,} ({p['backlog']['wire_bytes']:,} raw)" for p in peers},
                 {p["peer"]: backlog["wire_bytes"] / p["backlog"]["wire_bytes_zlib"] for p in peers}])
    goal(2, f"bytes ≤ the smallest peer's ({smallest['peer']}, compressed)", backlog["wire_bytes"] <= smallest["backlog"]["wire_bytes_zlib"])
    rows.append(["2 backlog", "seconds to catch up (ours: pull + verify + store over loopback, pages built by earlier pulls, median of 5; "
                 "in brackets: a running server building each page as asked, then a server just started; peers: apply + persist)",
                 f"{backlog['seconds']:.3f} [{unbuilt_backlog:.3f}; {cold_backlog:.3f}]",
                 {p["peer"]: f"{p['backlog']['apply_seconds']:.3f}" for p in peers},
                 {p["peer"]: backlog["seconds"] / p["backlog"]["apply_seconds"] for p in peers}])
    if sqlite:
        goal(2, "time ≤ SQLite changeset apply", backlog["seconds"] <= sqlite["backlog"]["apply_seconds"])

    # 3. Concurrent merges.
    fastest = max(peers, key=lambda p: p["merge"]["merges_per_second"])
    rows.append(["3 merges", "edits merged/s, 1,000 plans, 2 writers a round (ours parks the loser for review)", f"{merge['merges_per_second']:,.0f}",
                 {p["peer"]: f"{p['merge']['merges_per_second']:,.0f}" + ("" if p["merge"]["identical"] else " (replicas differ!)") for p in peers},
                 {p["peer"]: merge["merges_per_second"] / p["merge"]["merges_per_second"] for p in peers}])
    goal(3, f"≥ 1.2× the fastest peer ({fastest['peer']})", merge["merges_per_second"] / fastest["merge"]["merges_per_second"] >= 1.2)

    # 4. Bytes per action.
    ours_set = ingest["ingest"]["bytes_per_action"]
    rows.append(["4 bytes", "bytes/action in 100-action change sets (peers: zlib level 6 of each)", f"{ours_set:.2f}",
                 {p["peer"]: f"{p['ingest']['bytes_per_action_zlib']:.2f} ({p['ingest']['bytes_per_action']:.2f} raw)" for p in peers},
                 {p["peer"]: ours_set / p["ingest"]["bytes_per_action_zlib"] for p in peers}])
    smallest_set = min(p["ingest"]["bytes_per_action_zlib"] for p in peers)
    goal(4, "per change set ≤ the smallest peer's", ours_set <= smallest_set)
    ours_backlog = backlog["wire_bytes"] / backlog["actions"]
    rows.append(["4 bytes", "bytes/action in the backlog", f"{ours_backlog:.2f}",
                 {p["peer"]: f"{p['backlog']['wire_bytes_zlib'] / p['backlog']['actions']:.2f}" for p in peers},
                 {p["peer"]: ours_backlog / (p["backlog"]["wire_bytes_zlib"] / p["backlog"]["actions"]) for p in peers}])
    goal(4, "backlog ≤ the smallest peer's", backlog["wire_bytes"] <= smallest["backlog"]["wire_bytes_zlib"])

    # 5. A crowd of devices (ours only).
    crowd_text = (f"{crowd['devices']:,} devices, {crowd['pushes']:,} pushes and {crowd['pulls']:,} pulls in {crowd['seconds']:.1f} s "
                  f"(pause {crowd['pause_ms']} ms): push p99 {crowd['push_p99_ms']:.0f} ms, peak memory {crowd['peak_memory_mib']:.0f} MiB, "
                  f"errors {crowd['errors']}, 429s {crowd['throttled']}")
    goal(5, "peak memory ≤ 100 MB", crowd["peak_memory_mib"] * 1.048576 <= 100)
    goal(5, "p99 push ≤ 250 ms", crowd["push_p99_ms"] <= 250)
    goal(5, "no errors", crowd["errors"] == 0)

    # 6. Cost growth. Since decision 0039 each point is timed beside a server on the setup's log
    # at the same moments, and the goal is judged on that ratio; worst ÷ first is shown beside it.
    growth = ingest["growth"]
    same_moment = "push_baseline_ms" in growth

    def worst(key):
        values = growth[key]
        if same_moment:
            ratios = [v / b for v, b in zip(values, growth[key.replace("_ms", "_baseline_ms")])]
            return max(ratios), f"{max(ratios):.2f} (÷ first {max(values) / values[0]:.2f}; {values[0]:.1f} → {max(values):.1f} ms)"
        return max(values) / values[0], f"{max(values) / values[0]:.2f} ({values[0]:.1f} → {max(values):.1f} ms)"

    how = (f"worst of the {len(growth['log'])} points ÷ a server on the {growth['baseline_log']:,}-entry log timed at the same moments"
           if same_moment else "worst ÷ first")
    push_ratio, push_text = worst("push_ms")
    pull_ratio, pull_text = worst("pull_ms")
    rows.append(["6 growth", f"fixed 1,000-action push, {how}, log {growth['log'][0]:,} → {growth['log'][-1]:,} (peers: last ÷ first)", push_text,
                 {p["peer"]: f"{p['growth']['ratio']:.2f} ({p['growth']['first_seconds'] * 1000:.1f} → {p['growth']['last_seconds'] * 1000:.1f} ms)" for p in peers},
                 {}])
    if "push_own_jobs_ms" in growth:
        # Shown, not judged: the workload's jobs are overpaid within the first quarter, after
        # which each of the probe's payments also opens a review case; on jobs of its own the
        # push does the same work at every size of the log.
        _, own_text = worst("push_own_jobs_ms")
        rows.append(["6 growth", "the same push on 1,000 jobs of its own (the same work at every size)", own_text, {p["peer"]: "" for p in peers}, {}])
    if "push_overpaid_jobs_ms" in growth:
        # Shown, not judged: jobs of its own overpaid from the start, so each payment opens a
        # case at every size, as on the workload's jobs once the workload has overpaid them.
        _, overpaid_text = worst("push_overpaid_jobs_ms")
        rows.append(["6 growth", "the same push on 1,000 jobs of its own overpaid from the start (a case per payment at every size)", overpaid_text,
                     {p["peer"]: "" for p in peers}, {}])
    cold = growth.get("pull_first_ms", growth["pull_ms"])
    rows.append(["6 growth", "a device catches up that fixed push (median; the first pull, which computes the job digests, in brackets)",
                 pull_text + " [first pull: " + " → ".join(f"{c:.0f}" for c in cold) + " ms]", {p["peer"]: "" for p in peers}, {}])
    # The first pull after a push pays for the job digests (see Benchmarks/README.md), so the
    # cold figures are shown, not judged.
    goal(6, "push and pull within 1.2× (medians)", push_ratio <= 1.2 and pull_ratio <= 1.2)

    names = [p["peer"] for p in peers]
    lines = [f"Machine: {machine()}. Command: `{args.command}`. {ingest['ingest']['actions']:,} ingested actions "
             f"(issue C's workload, seed 7), a 100,000-action backlog (seed 11). Ratios are ours ÷ the peer's.", ""]
    lines.append("| workload | measure | ours | " + " | ".join(names) + " |")
    lines.append("| --- | --- | --- | " + " | ".join("---" for _ in names) + " |")
    for workload, measure, ours, figures, ratios in rows:
        cells = [figures.get(n, "") + (f" (×{ratios[n]:.2f})" if n in ratios else "") for n in names]
        lines.append(f"| {workload} | {measure} | {ours} | " + " | ".join(cells) + " |")
    lines.append(f"| 5 crowd | ours only | {crowd_text} | " + " | ".join("" for _ in names) + " |")
    lines.append("")
    lines.append("| workload | goal | result |")
    lines.append("| --- | --- | --- |")
    for g in goals:
        lines.append(f"| {g['workload']} | {g['goal']} | {verdict(g['met'])} |")
    versions = ", ".join(p["version"] for p in peers)
    lines.append("")
    lines.append(f"Peers: {versions}.")
    table = "\n".join(lines) + "\n"
    with open(args.table, "w") as f:
        f.write(table)
    with open(args.out, "w") as f:
        json.dump({"machine": machine(), "ours": {"ingest": ingest, "crowd": crowd, "backlog": backlog, "merge": merge},
                   "peers": peers, "goals": goals}, f, indent=1)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())

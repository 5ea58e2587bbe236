#!/usr/bin/env bash
# Fuzzes the wire decoders (envelope and change-set body) with libFuzzer and the address
# sanitizer. Usage: Fuzz/run.sh [SECONDS]   (default 60; CI runs a one-minute smoke).
# The corpus starts from the golden vectors; any crash is written to Fuzz/crashes/ and fails
# the run. Turn each crash into a vector in Protocol/vectors/ before fixing it.
set -euo pipefail
seconds="${1:-60}"
cd "$(dirname "$0")"
# SwiftPM does not re-plan a path dependency that gained files; drop the cached plan (objects
# and corpus stay) so the decoders are always built from the current sources.
rm -f ../.build-fuzz/release.yaml ../.build-fuzz/release/description.json
# SwiftPM's --sanitize reaches only this package; -Xswiftc instruments the decoders too.
swift build -c release --sanitize=fuzzer --sanitize=address -Xswiftc -sanitize=fuzzer,address --scratch-path ../.build-fuzz
corpus=../.build-fuzz/corpus
mkdir -p "$corpus" crashes
python3 - "$corpus" <<'PY'
import json, sys, pathlib
out = pathlib.Path(sys.argv[1])
for name in ["envelope.json", "changesets.json", "messages.json"]:
    for vector in json.load(open("../Protocol/vectors/" + name))["vectors"]:
        data = bytes.fromhex(vector["hex"])
        if len(data) <= 65536:
            (out / ("seed-" + name.split(".")[0] + "-" + vector["name"])).write_bytes(data)
PY
../.build-fuzz/release/ProtocolFuzz -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
  -artifact_prefix=crashes/ -print_final_stats=1 "$corpus"

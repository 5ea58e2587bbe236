#!/usr/bin/env bash
# Regenerates Sources/SyncProtocol/fieldledger_sync.pb.swift from Protocol/schema.
# Needs protoc (Debian: apt-get install protobuf-compiler; generated with libprotoc 3.21.12) and
# protoc-gen-swift 1.39.0, which this script builds from the swift-protobuf the package resolves.
set -euo pipefail
cd "$(dirname "$0")/.."
swift package resolve
swift build -c release --product protoc-gen-swift --package-path .build/checkouts/swift-protobuf --scratch-path .build-protoc
protoc --plugin=protoc-gen-swift=.build-protoc/release/protoc-gen-swift \
  --proto_path=Protocol/schema --swift_out=Sources/SyncProtocol --swift_opt=Visibility=Public \
  Protocol/schema/fieldledger_sync.proto
echo "regenerated Sources/SyncProtocol/fieldledger_sync.pb.swift"

// The wire format's size and speed (issue C). Run in release mode:
//
//     swift run -c release protocol-bench           # 100,000 actions, 5 runs, medians
//     swift run -c release protocol-bench --quick   # 10,000 actions, 1 run
//     swift run -c release protocol-bench --canonical   # the canonical encoding of actions alone
import Foundation
import LedgerCore
import LedgerTestSupport
import SyncProtocol

let quick = CommandLine.arguments.contains("--quick")
let runs = quick ? 1 : 5
let backlogCount = quick ? 10_000 : 100_000
// The processor's SHA instructions, as the programs install them (FIELDLEDGER_SHA256=portable
// measures the core's own rounds instead).
print("SHA-256: " + (HardwareSHA256.installIfAvailable() ? "the processor's SHA instructions" : "the core's portable rounds"))
let clock = ContinuousClock()

func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
func median(_ values: [Double]) -> Double { let s = values.sorted(); return s[s.count / 2] }
func fixed(_ value: Double, _ places: Int = 2) -> String {
    let scale = pow(10, Double(places))
    let whole = (value * scale).rounded() / scale
    return String(whole)
}
func grouped(_ value: Double) -> String {
    var text = String(Int(value.rounded())), out = ""
    while text.count > 3 { out = "," + text.suffix(3) + out; text = String(text.dropLast(3)) }
    return text + out
}

// The workload (FieldWorkload): 10,000 jobs from the office, then actions from 50 devices.
let traffic = try FieldWorkload(.init(
    seed: 2026, jobs: 10_000, devices: 50, actions: backlogCount, gapMillisMax: 30_000, pullEvery: 20,
    vocabulary: .init(userPrefix: "tech-", jobPrefix: "J-", invoicePrefix: "HV-", department: "HVAC",
                      installmentLabels: ["Final Payment", "Completion", "Balance"], refundReason: "goodwill",
                      changeOrders: ["Add a zone damper", "Extra vent", "Upgrade thermostat"])))
let devices = traffic.devices
let ledger = traffic.ledger
let workload = traffic.entries.map(\.action)
/// `--canonical`: how long the canonical encoding of one action takes (what a server does to
/// every action it logs, before the digest), over 50,000 of the workload's actions, 5 runs.
if CommandLine.arguments.contains("--canonical") {
    let sample = Array(workload.prefix(50_000))
    var times: [Double] = [], total = 0
    for _ in 0..<5 {
        total = 0
        let start = clock.now
        for action in sample { total &+= CanonicalEncoding.bytes(of: action).count }
        times.append(seconds(clock.now - start) / Double(sample.count))
    }
    print("canonical encoding of \(sample.count) actions: \(Int((median(times) * 1e9).rounded())) ns/action (median of 5), \(total / sample.count) bytes/action")
    exit(0)
}
let byDevice = traffic.byDevice

// Change sets of 100 consecutive actions from one device.
let changeSets: [ChangeSet] = byDevice.enumerated().flatMap { device, actions in
    stride(from: 0, to: actions.count - 99, by: 100).map { at in
        ChangeSet(replica: devices[device], lastAppliedSequence: actions[at + 99].seenSequence, appVersion: "1.4.2", clock: actions[at + 99].hlc, actions: Array(actions[at..<(at + 100)]))
    }
}
let jsonEncoder = JSONEncoder()
jsonEncoder.outputFormatting = [.sortedKeys]

var encodeRates: [Double] = [], decodeRates: [Double] = []
var wires: [[UInt8]] = []
for _ in 0..<runs {
    var encoded: [[UInt8]] = []
    encoded.reserveCapacity(changeSets.count)
    let encodeTime = try clock.measure { for set in changeSets { encoded.append(try SyncMessage.pushRequest(set).encoded()) } }
    var decodedCount = 0
    let decodeTime = try clock.measure {
        for wire in encoded { if case .pushRequest(let set) = try SyncMessage.decode(wire) { decodedCount += set.actions.count } }
    }
    precondition(decodedCount == changeSets.count * 100)
    encodeRates.append(Double(decodedCount) / seconds(encodeTime))
    decodeRates.append(Double(decodedCount) / seconds(decodeTime))
    wires = encoded
}
let changeSetBytes = wires.reduce(0) { $0 + $1.count }
// Where the bytes go: the same change sets without contexts (seen sequences), and without
// contexts or clocks.
func strip(_ set: ChangeSet, context: Bool, clock: Bool) -> ChangeSet {
    var copy = set
    copy.actions = set.actions.map { a in
        Action(dot: a.dot, hlc: clock ? HLCTimestamp(wallMillis: 1_780_272_000_000) : a.hlc, actor: a.actor, job: a.job,
               seenSequence: context ? 0 : a.seenSequence, businessDay: a.businessDay, payload: a.payload)
    }
    return copy
}
let noContextBytes = try changeSets.reduce(0) { $0 + (try SyncMessage.pushRequest(strip($1, context: true, clock: false)).encoded()).count }
let noClockBytes = try changeSets.reduce(0) { $0 + (try SyncMessage.pushRequest(strip($1, context: true, clock: true)).encoded()).count }
let plainZlibBytes = try changeSets.reduce(0) { $0 + (try SyncMessage.pushRequest($1).encoded(compression: .zlib)).count }
// A technician's short sync: change sets of 10 actions, where a message's fixed costs weigh most.
let smallSets: [ChangeSet] = byDevice.enumerated().flatMap { device, actions in
    stride(from: 0, to: min(actions.count, 1_000) - 9, by: 10).map { at in
        ChangeSet(replica: devices[device], lastAppliedSequence: actions[at + 9].seenSequence, appVersion: "1.4.2", clock: actions[at + 9].hlc,
                  actions: Array(actions[at..<(at + 10)]))
    }
}
let smallBytes = try smallSets.reduce(0) { $0 + (try SyncMessage.pushRequest($1).encoded()).count }
let smallPlainBytes = try smallSets.reduce(0) { $0 + (try SyncMessage.pushRequest($1).encoded(compression: .zlib)).count }
let jsonChangeSetBytes = try changeSets.reduce(0) { $0 + Zlib.compress(Array(try jsonEncoder.encode($1.actions))).count }

// The backlog: the same actions as pull pages of 5,000 log entries.
let entries = traffic.entries
var pageBytes = 0, checkpointBytes = 0
for at in stride(from: 0, to: entries.count, by: 5_000) {
    let slice = Array(entries[at..<min(entries.count, at + 5_000)])
    let last = at + 5_000 >= entries.count
    let withoutDigests = PullPage(entries: slice, checkpoint: Checkpoint(sequence: slice.last!.sequence, logDigest: LogDigest.empty, jobs: [], caughtUp: last))
    let bare = try SyncMessage.pullPage(withoutDigests).encoded()
    pageBytes += bare.count
    if last {
        // The page that reaches the head carries the digests of every job the backlog touched.
        let touched = Set(workload.compactMap(\.job)).sorted()
        let digests = try touched.map { try ledger.job($0).digest }
        var full = withoutDigests
        full.checkpoint.jobs = digests
        checkpointBytes = try SyncMessage.pullPage(full).encoded().count - bare.count
    }
}
// Deflate blocks ended at each column (Protocol/README.md §3) against one stream of zlib's own
// blocks, for bodies of several sizes: which sizes gain decides `blockCutBodyBytesMin`.
func blockCutSizes(_ wires: [[UInt8]], type: MessageType) throws -> (bodies: Int, cut: Int, whole: Int) {
    var bodyBytes = 0, cut = 0, whole = 0
    for wire in wires {
        let body = try Envelope.decode(wire).body
        bodyBytes += body.count
        let cuts = DeflateBlocks.cuts(in: body, type: type, sizeMin: 0)
        cut += Zlib.compress(body, dictionary: true, blockEnds: cuts).count
        whole += Zlib.compress(body, dictionary: true).count
    }
    return (bodyBytes / max(1, wires.count), cut, whole)
}
var blockCutLines: [String] = []
let changeSetCut = try blockCutSizes(wires, type: .pushRequest)
blockCutLines.append("100-action change sets (body ~\(changeSetCut.bodies) B): \(fixed(Double(changeSetCut.cut) / Double(changeSets.count * 100))) bytes/action with a block per column, \(fixed(Double(changeSetCut.whole) / Double(changeSets.count * 100))) without")
for size in [100, 150, 250, 500, 1_000, 2_000, 5_000] {
    let pages = try stride(from: 0, to: entries.count, by: size).map { at in
        let slice = Array(entries[at..<min(entries.count, at + size)])
        return try SyncMessage.pullPage(PullPage(entries: slice, checkpoint: Checkpoint(sequence: slice.last!.sequence, logDigest: LogDigest.empty, jobs: [], caughtUp: false))).encoded()
    }
    let result = try blockCutSizes(pages, type: .pullPage)
    blockCutLines.append("pages of \(size) (body ~\(result.bodies) B): \(fixed(Double(result.cut) / Double(entries.count))) bytes/entry with a block per column, \(fixed(Double(result.whole) / Double(entries.count))) without")
}
let jsonBacklogBytes = Zlib.compress(Array(try jsonEncoder.encode(workload))).count

print("protocol-bench: \(backlogCount) actions (70% payments, 20% plan edits, 10% refunds and change orders; 10,000 jobs, 50 devices); \(runs) run(s), medians")
print("100-action change sets (\(changeSets.count)): \(fixed(Double(changeSetBytes) / Double(changeSets.count * 100))) bytes/action with clocks and contexts; JSON+zlib \(fixed(Double(jsonChangeSetBytes) / Double(changeSets.count * 100))) (ratio \(fixed(Double(changeSetBytes) / Double(jsonChangeSetBytes))))")
print("    of which contexts \(fixed(Double(changeSetBytes - noContextBytes) / Double(changeSets.count * 100))), HLC readings \(fixed(Double(noContextBytes - noClockBytes) / Double(changeSets.count * 100))), the rest \(fixed(Double(noClockBytes) / Double(changeSets.count * 100)))")
print("    without the preset dictionary (plain zlib): \(fixed(Double(plainZlibBytes) / Double(changeSets.count * 100)))")
print("10-action change sets (\(smallSets.count)): \(fixed(Double(smallBytes) / Double(smallSets.count * 10))) bytes/action; plain zlib \(fixed(Double(smallPlainBytes) / Double(smallSets.count * 10)))")
print("backlog of \(entries.count) entries in pages of 5,000: \(fixed(Double(pageBytes) / Double(entries.count))) bytes/action; job digests at the head add \(fixed(Double(checkpointBytes) / Double(entries.count))) bytes/action; JSON+zlib \(fixed(Double(jsonBacklogBytes) / Double(entries.count)))")
print("encode (protobuf + zlib + envelope): \(grouped(median(encodeRates))) actions/s; decode + inflate: \(grouped(median(decodeRates))) actions/s")
for line in blockCutLines { print(line) }

// The wire format's size and speed (issue C). Run in release mode:
//
//     swift run -c release protocol-bench           # 100,000 actions, 5 runs, medians
//     swift run -c release protocol-bench --quick   # 10,000 actions, 1 run
import Foundation
import LedgerCore
import LedgerTestSupport
import SyncProtocol

let quick = CommandLine.arguments.contains("--quick")
let runs = quick ? 1 : 5
let backlogCount = quick ? 10_000 : 100_000
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

// The workload: 10,000 jobs from the office, then actions from 50 devices. Each device pulls
// the log after every 20 of its own actions; an action's context is the sequence it had pulled
// to (decision 0009). The ledger is the server's: every action is logged as it is made.
let officeReplica = ReplicaID(high: 0x0FF1CE, low: 1)
let devices = (1...50).map { ReplicaID(high: 0xDE71CE00 + UInt64($0), low: 0xA5A5_0000_0000 + UInt64($0)) }
let office = Actor(user: try UserID("office-1"), role: .office)
let actors = devices.indices.map { Actor(user: try! UserID("tech-\($0)"), role: .technician) }
var rng = SeededRandom(seed: 2026)
var ledger = try Ledger()
var counters = [UInt64](repeating: 0, count: devices.count)
var cursors = [UInt64](repeating: 0, count: devices.count)
var logLength: UInt64 = 0
let pullEvery: UInt64 = 20
var officeCounter: UInt64 = 0
var wall: Int64 = 1_780_272_000_000
let start = try CalendarDate.parse("2026-06-01")
var jobs: [JobID] = []

@MainActor func make(_ payload: ActionPayload, job: JobID?, device: Int?) -> Action {
    wall += rng.int64(in: 0...30_000)
    let dot: Dot
    let seen: UInt64
    if let device {
        if counters[device] % pullEvery == 0 { cursors[device] = logLength }
        counters[device] += 1
        dot = Dot(replica: devices[device], counter: counters[device])
        seen = cursors[device]
    } else {
        officeCounter += 1
        dot = Dot(replica: officeReplica, counter: officeCounter)
        seen = logLength
    }
    let day = try! start.adding(days: Int((wall - 1_780_272_000_000) / 86_400_000))
    return Action(dot: dot, hlc: HLCTimestamp(wallMillis: wall, logical: 0), actor: device.map { actors[$0] } ?? office, job: job,
                  seenSequence: seen, businessDay: day, payload: payload)
}

/// Appends the action to the server's log.
@MainActor func log(_ action: Action) -> Outcome {
    logLength += 1
    return ledger.apply(action, sequence: logLength)
}

for index in 0..<10_000 {
    let create = make(.createJob(number: "J-\(10_000 + index)", customer: Customer(name: "Customer \(index)"), department: "HVAC", currency: .usd, notes: ""),
                      job: nil, device: nil)
    _ = log(create)
    let job = JobID(create.dot)
    jobs.append(job)
    _ = log(make(.setInvoice(number: "HV-\(20_000 + index)", baseTotalMinor: rng.int64(in: 100_000...5_000_000), issuedOn: start), job: job, device: nil))
    _ = log(make(.createPlan(PlanDraft(template: rng.pick(PlanTemplate.builtIns))), job: job, device: nil))
}
var workload: [Action] = []
var outcomes: [Outcome] = []
var byDevice: [[Action]] = Array(repeating: [], count: devices.count)
for _ in 0..<backlogCount {
    let device = rng.int(in: 0...(devices.count - 1))
    let job = rng.pick(jobs)
    let current = try ledger.job(job)
    let roll = rng.int(in: 0...99)
    let payload: ActionPayload
    if roll < 70 {
        let method = rng.pick([PaymentMethod.cash, .card, .check, .card])
        payload = .recordPayment(PaymentRequest(amountMinor: rng.int64(in: 5_000...500_000) / 100 * 100, currency: .usd, method: method,
                                                reference: method == .check ? "\(rng.int(in: 1000...9999))" : nil, pending: method == .card && rng.chance(30)))
    } else if roll < 90, let plan = current.plan, let row = plan.rows.last {
        payload = rng.chance(50) ? .editInstallment(row.id, label: rng.pick(["Final Payment", "Completion", "Balance"]), dueDate: .keep)
            : .editPlan(PlanDraft(template: rng.pick(PlanTemplate.builtIns)))
    } else if roll < 95, let paid = current.payments.last(where: { $0.state == .completed }) {
        payload = .recordRefund(RefundRequest(paymentID: paid.id, amountMinor: 1_000, currency: .usd, reason: "goodwill"))
    } else {
        payload = .proposeChangeOrder(summary: rng.pick(["Add a zone damper", "Extra vent", "Upgrade thermostat"]), amountMinor: rng.int64(in: 100...90_000) * 100, currency: .usd)
    }
    let action = make(payload, job: job, device: device)
    outcomes.append(log(action))
    workload.append(action)
    byDevice[device].append(action)
}

// Change sets of 100 consecutive actions from one device.
let changeSets: [ChangeSet] = byDevice.enumerated().flatMap { device, actions in
    stride(from: 0, to: actions.count - 99, by: 100).map { at in
        ChangeSet(replica: devices[device], lastAppliedSequence: 30_000, appVersion: "1.4.2", clock: actions[at + 99].hlc, actions: Array(actions[at..<(at + 100)]))
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
let jsonChangeSetBytes = try changeSets.reduce(0) { $0 + Zlib.compress(Array(try jsonEncoder.encode($1.actions))).count }

// The backlog: the same actions as pull pages of 5,000 log entries.
let entries = workload.indices.map { LogEntry(sequence: 30_001 + UInt64($0), action: workload[$0], outcome: outcomes[$0]) }
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
let jsonBacklogBytes = Zlib.compress(Array(try jsonEncoder.encode(workload))).count

print("protocol-bench: \(backlogCount) actions (70% payments, 20% plan edits, 10% refunds and change orders; 10,000 jobs, 50 devices); \(runs) run(s), medians")
print("100-action change sets (\(changeSets.count)): \(fixed(Double(changeSetBytes) / Double(changeSets.count * 100))) bytes/action with clocks and contexts; JSON+zlib \(fixed(Double(jsonChangeSetBytes) / Double(changeSets.count * 100))) (ratio \(fixed(Double(changeSetBytes) / Double(jsonChangeSetBytes))))")
print("    of which contexts \(fixed(Double(changeSetBytes - noContextBytes) / Double(changeSets.count * 100))), HLC readings \(fixed(Double(noContextBytes - noClockBytes) / Double(changeSets.count * 100))), the rest \(fixed(Double(noClockBytes) / Double(changeSets.count * 100)))")
print("backlog of \(entries.count) entries in pages of 5,000: \(fixed(Double(pageBytes) / Double(entries.count))) bytes/action; job digests at the head add \(fixed(Double(checkpointBytes) / Double(entries.count))) bytes/action; JSON+zlib \(fixed(Double(jsonBacklogBytes) / Double(entries.count)))")
print("encode (protobuf + zlib + envelope): \(grouped(median(encodeRates))) actions/s; decode + inflate: \(grouped(median(decodeRates))) actions/s")

// Benchmarks of the pure fold and merge (issue B). Run in release mode:
//
//     swift run -c release ledger-bench            # every benchmark, 5 runs each, medians
//     swift run -c release ledger-bench --quick    # one run each, smaller sizes (a smoke test)
//
// Time is read here, in the executable, never in LedgerCore.
#if canImport(Glibc)
import Glibc  // rounded() needs libm; only the benchmark links it, never the core
#endif
import LedgerCore
import LedgerTestSupport

let quick = CommandLine.arguments.contains("--quick")
/// `--only a` or `--only b` runs one benchmark (for profiling).
let only = CommandLine.arguments.firstIndex(of: "--only").map { CommandLine.arguments[$0 + 1] }
let runs = quick ? 1 : 5
let clock = ContinuousClock()

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

let office = Actor(user: try UserID("office"), role: .office)
let technician = Actor(user: try UserID("tech"), role: .technician)
let day = try CalendarDate.parse("2026-06-01")
let replicas = (1...50).map { ReplicaID(high: UInt64($0), low: 0xBE4C) }

/// A ledger with `jobs` jobs, each with a large invoice and a Thirds plan, made by the office.
func seededLedger(jobs: Int) throws -> (Ledger, [JobID], UInt64) {
    var ledger = try Ledger()
    var counter: UInt64 = 0
    var ids: [JobID] = []
    let officeReplica = ReplicaID(high: 0, low: 1)
    func action(_ payload: ActionPayload, job: JobID?) -> Action {
        counter += 1
        return Action(dot: Dot(replica: officeReplica, counter: counter), hlc: HLCTimestamp(wallMillis: Int64(counter)), actor: office,
                      job: job, seenSequence: counter - 1, businessDay: day, payload: payload)
    }
    for index in 0..<jobs {
        let create = action(.createJob(number: "J-\(index)", customer: Customer(name: "Customer \(index)"), department: nil, currency: .usd, notes: ""), job: nil)
        precondition(ledger.apply(create, sequence: counter) == .applied)
        let id = JobID(create.dot)
        ids.append(id)
        let invoice = action(.setInvoice(number: "HV-\(index)", baseTotalMinor: 1_000_000_000, issuedOn: day), job: id)
        precondition(ledger.apply(invoice, sequence: counter) == .applied)
        let plan = action(.createPlan(PlanDraft(template: .thirds)), job: id)
        precondition(ledger.apply(plan, sequence: counter) == .applied)
    }
    return (ledger, ids, counter)
}

/// (a) Money actions appended to the log and folded: 90% payments (a fifth pending card
/// payments), 5% confirmations, 5% refunds, from 50 devices over the given jobs.
func moneyActions(count: Int, jobs: [JobID], seed: UInt64, after head: UInt64) -> [Action] {
    var rng = SeededRandom(seed: seed)
    var counters = [UInt64](repeating: 0, count: replicas.count)
    var pendingByJob: [JobID: [PaymentID]] = [:]
    var completedByJob: [JobID: [PaymentID]] = [:]
    var actions: [Action] = []
    actions.reserveCapacity(count)
    for index in 0..<count {
        let device = rng.int(in: 0...(replicas.count - 1))
        counters[device] += 1
        let dot = Dot(replica: replicas[device], counter: counters[device])
        let job = jobs[rng.int(in: 0...(jobs.count - 1))]
        let roll = rng.int(in: 0...99)
        let payload: ActionPayload
        if roll < 5, let pending = pendingByJob[job]?.popLast() {
            payload = .confirmPayment(pending)
            completedByJob[job, default: []].append(pending)
        } else if roll < 10, let paid = completedByJob[job]?.last {
            payload = .recordRefund(RefundRequest(paymentID: paid, amountMinor: 100, currency: .usd))
        } else {
            let pending = rng.chance(20)
            payload = .recordPayment(PaymentRequest(amountMinor: rng.int64(in: 1_000...90_000), currency: .usd, method: pending ? .card : .cash, pending: pending))
            if pending { pendingByJob[job, default: []].append(PaymentID(dot)) } else { completedByJob[job, default: []].append(PaymentID(dot)) }
        }
        actions.append(Action(dot: dot, hlc: HLCTimestamp(wallMillis: Int64(index)), actor: technician, job: job,
                              seenSequence: head + UInt64(index) / 2, businessDay: day, payload: payload))
    }
    return actions
}

func benchmarkFold(jobs jobCount: Int, actions count: Int) throws -> (rate: Double, firstChunk: Double, lastChunk: Double) {
    var rates: [Double] = [], firsts: [Double] = [], lasts: [Double] = []
    let (base, jobs, head) = try seededLedger(jobs: jobCount)
    let actions = moneyActions(count: count, jobs: jobs, seed: 1, after: head)
    let chunk = min(10_000, count / 10)
    for _ in 0..<runs {
        var ledger = base
        var exceptions = 0
        var chunkTimes: [Double] = []
        let total = clock.measure {
            var start = clock.now
            for (index, action) in actions.enumerated() {
                switch ledger.apply(action, sequence: head + 1 + UInt64(index)) {
                case .applied: break
                case .appliedWithException: exceptions += 1
                default: fatalError("unexpected outcome for \(action.payload.kind)")
                }
                if (index + 1) % chunk == 0 {
                    let now = clock.now
                    chunkTimes.append(seconds(now - start))
                    start = now
                }
            }
        }
        precondition(ledger.invariantViolations().isEmpty || count > 100_000, "invariants")
        rates.append(Double(count) / seconds(total))
        firsts.append(Double(chunk) / chunkTimes.first!)
        lasts.append(Double(chunk) / chunkTimes.last!)
        _ = exceptions
    }
    return (median(rates), median(firsts), median(lasts))
}

/// (b) Rounds of concurrent edits on the same plans: in each round every plan gets `writers`
/// edits made from the same context; the first in order applies, the others are parked for
/// review with both versions. Every edit runs the concurrency checks.
func benchmarkConcurrentEdits(plans planCount: Int, rounds: Int, writers: Int) throws -> (rate: Double, applied: Int, parked: Int) {
    let (base, jobs, head) = try seededLedger(jobs: planCount)
    let drafts = [PlanDraft(template: .fiftyFifty), PlanDraft(template: .sixtyForty), PlanDraft(template: .thirds)]
    var rates: [Double] = []
    var applied = 0, parked = 0
    for _ in 0..<runs {
        var ledger = base
        var sequence = head
        var counters = [UInt64](repeating: 0, count: writers)
        var merges = 0
        applied = 0; parked = 0
        var elapsed = Duration.zero
        for round in 0..<rounds {
            // Every writer had seen the log as it stood before the round.
            let seen = sequence
            var batch: [Action] = []
            batch.reserveCapacity(planCount * writers)
            for (index, job) in jobs.enumerated() {
                for writer in 0..<writers {
                    counters[writer] += 1
                    batch.append(Action(dot: Dot(replica: replicas[writer], counter: counters[writer]), hlc: HLCTimestamp(wallMillis: Int64(round)),
                                        actor: office, job: job, seenSequence: seen, businessDay: day,
                                        payload: .editPlan(drafts[(round + writer + index) % drafts.count])))
                }
            }
            elapsed += clock.measure {
                for action in batch {
                    sequence += 1
                    switch ledger.apply(action, sequence: sequence) {
                    case .applied: applied += 1
                    case .parkedForReview: parked += 1
                    default: fatalError("unexpected outcome")
                    }
                }
            }
            merges += batch.count
        }
        rates.append(Double(merges) / seconds(elapsed))
    }
    return (median(rates), applied, parked)
}

func twoDecimals(_ value: Double) -> String {
    let hundredths = Int((value * 100).rounded())
    let fraction = String(abs(hundredths) % 100)
    return "\(hundredths / 100).\(fraction.count == 1 ? "0" + fraction : fraction)"
}

func format(_ rate: Double) -> String {
    let whole = Int(rate.rounded())
    var text = String(whole), grouped = ""
    while text.count > 3 { grouped = "," + text.suffix(3) + grouped; text = String(text.dropLast(3)) }
    return text + grouped
}

/// `--fold JOBS ACTIONS` folds one log once and prints nothing else (for instruction counts).
if let at = CommandLine.arguments.firstIndex(of: "--fold"), let jobs = Int(CommandLine.arguments[at + 1]), let count = Int(CommandLine.arguments[at + 2]) {
    let (base, ids, head) = try seededLedger(jobs: jobs)
    let actions = moneyActions(count: count, jobs: ids, seed: 1, after: head)
    var ledger = base
    for (index, action) in actions.enumerated() { _ = ledger.apply(action, sequence: head + 1 + UInt64(index)) }
    print("folded \(count) actions over \(jobs) jobs")
    exit(0)
}
if let at = CommandLine.arguments.firstIndex(of: "--composition"), let count = Int(CommandLine.arguments[at + 1]) {
    try composition(actions: count)
    exit(0)
}
/// `--growth ACTIONS [--cold]`: the core's share of server-bench's fixed push. Folds issue C's
/// workload (server-bench's: seed 7, 10,000 jobs, 50 devices) and, at five points of the log,
/// times 1,000 one-dollar payments on consecutive jobs applied as the server applies them
/// (median of 5): on the workload's jobs, as server-bench's probe; on 1,000 jobs of the probe's
/// own; and on 1,000 of its own invoiced at one cent, where every payment opens a
/// customer-credit case as it does on the workload's jobs once they are overpaid. With
/// `--cold` the processor's caches are swept (256 MiB written) before each timed push, as a
/// server's are by everything else it holds.
if let at = CommandLine.arguments.firstIndex(of: "--growth"), let count = Int(CommandLine.arguments[at + 1]) {
    try growth(actions: count)
    exit(0)
}
print("ledger-bench: \(runs) run(s) each, medians; release build expected")
if only != "b" {
let small = try benchmarkFold(jobs: 10_000, actions: quick ? 10_000 : 10_000)
print("(a) fold of money actions, 10,000 jobs, 10,000-action log:    \(format(small.rate)) actions/s")
let large = try benchmarkFold(jobs: 10_000, actions: quick ? 100_000 : 1_000_000)
print("(a) fold of money actions, 10,000 jobs, \(quick ? "100,000" : "1,000,000")-action log: \(format(large.rate)) actions/s")
print("    first 10,000 actions \(format(large.firstChunk))/s, last 10,000 \(format(large.lastChunk))/s, last ÷ first = \(twoDecimals(large.lastChunk / large.firstChunk))")
print("    whole-log rate ÷ 10,000-action rate = \(twoDecimals(large.rate / small.rate))")
let fewJobs = try benchmarkFold(jobs: 1_000, actions: quick ? 100_000 : 1_000_000)
print("(a) same log over 1,000 jobs: \(format(fewJobs.rate)) actions/s (÷ 10,000 jobs = \(twoDecimals(fewJobs.rate / large.rate)))")
}
if only != "a" {
let edits = try benchmarkConcurrentEdits(plans: 1_000, rounds: quick ? 5 : 50, writers: 2)
print("(b) concurrent plan edits, 1,000 plans, 2 writers per round: \(format(edits.rate)) merges/s (\(edits.applied) applied, \(edits.parked) parked)")
// `--json FILE`: (b)'s figures for the suite's report (Benchmarks/compare). The core has no
// Foundation, so the few fields are written by hand.
if let at = CommandLine.arguments.firstIndex(of: "--json"), at + 1 < CommandLine.arguments.count {
    let text = "{\"merge\": {\"plans\": 1000, \"writers\": 2, \"rounds\": \(quick ? 5 : 50), \"merges_per_second\": \(edits.rate), \"applied\": \(edits.applied), \"parked\": \(edits.parked)}}\n"
    guard let file = fopen(CommandLine.arguments[at + 1], "w") else { fatalError("ledger-bench: cannot write \(CommandLine.arguments[at + 1])") }
    fputs(text, file)
    fclose(file)
}
}

/// `--composition ACTIONS`: what the jobs of issue C's workload hold after ACTIONS actions
/// (the server-bench workload: seed 7, 10,000 jobs, 50 devices), and their canonical bytes.
func composition(actions count: Int) throws {
    let workload = try FieldWorkload(.init(seed: 7, jobs: 10_000, devices: 50, actions: count, gapMillisMax: 30_000, pullEvery: 20,
                                           vocabulary: .init(userPrefix: "tech-", jobPrefix: "J-", invoicePrefix: "HV-", department: "HVAC",
                                                             installmentLabels: ["Final Payment"], refundReason: "goodwill", changeOrders: ["Extra vent"])))
    var payments = 0, refunds = 0, orders = 0, previousPlans = 0, cases = 0, openCases = 0, superseded = 0, dots = 0, bytes = 0
    var caseKinds: [String: Int] = [:]
    // `--copies-only` leaves out the encodings (for profiling the copies).
    let encode = !CommandLine.arguments.contains("--copies-only")
    var largest = 0
    for job in workload.ledger.jobs {
        payments += job.payments.count
        refunds += job.refunds.count
        orders += job.changeOrders.count
        previousPlans += job.previousPlans.count
        cases += job.sync.reviewCases.count
        openCases += job.sync.openReviewCases.count
        superseded += job.sync.superseded.count
        dots += job.sync.dots.count
        for reviewCase in job.sync.reviewCases { caseKinds[reviewCase.kind.rawValue, default: 0] += 1 }
        let size = encode ? CanonicalEncoding.bytes(of: job).count : 0
        bytes += size
        largest = max(largest, size)
    }
    let clock = ContinuousClock()
    var recordBytes = 0, canonicalBytes = 0
    let canonicalTime = clock.measure { guard encode else { return }
        for job in workload.ledger.jobs { canonicalBytes += CanonicalEncoding.bytes(of: job).count } }
    let recordTime = clock.measure { guard encode else { return }
        for job in workload.ledger.jobs { recordBytes += JobRecord.bytes(of: job).count } }
    print("  encoding every job: canonical \(canonicalBytes) bytes in \(canonicalTime); record \(recordBytes) bytes in \(recordTime)")
    // What the writer pays for a snapshot in flight: the cut shares every job, so the first
    // action on each job after the cut copies the job's arrays.
    var shared = workload.ledger
    let payer = Actor(user: try UserID("tech-0"), role: .technician)
    let jobIDs = workload.ledger.jobs.map(\.id)
    func oneEach(_ round: UInt64) -> [Action] {
        jobIDs.enumerated().map { index, id in
            Action(dot: Dot(replica: ReplicaID(high: 99, low: round), counter: UInt64(index + 1)), hlc: HLCTimestamp(wallMillis: Int64(1 << 40) + Int64(index)),
                   actor: payer, job: id, seenSequence: 0, businessDay: day, payload: .recordPayment(PaymentRequest(amountMinor: 100, currency: .usd, method: .cash)))
        }
    }
    let firstRound = oneEach(1), secondRound = oneEach(2)
    var sequence: UInt64 = 10_000_000
    let copying = clock.measure { for action in firstRound { sequence += 1; _ = shared.apply(action, sequence: sequence) } }
    let inPlace = clock.measure { for action in secondRound { sequence += 1; _ = shared.apply(action, sequence: sequence) } }
    print("  one payment on each job: \(copying) while the jobs are shared with a snapshot's cut, \(inPlace) once they are not")
    print("composition after \(count) actions over \(workload.ledger.jobCount) jobs:")
    print("  payments \(payments), refunds \(refunds), change orders \(orders), previous plans \(previousPlans), superseded \(superseded), dots \(dots)")
    print("  review cases \(cases) (open \(openCases)): \(caseKinds.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))")
    print("  canonical bytes of every job \(bytes) (\(bytes / max(1, workload.ledger.jobCount)) per job, largest \(largest))")
    print("  strides: Payment \(MemoryLayout<Payment>.stride), ReviewCase \(MemoryLayout<ReviewCase>.stride), Dot \(MemoryLayout<Dot>.stride), Refund \(MemoryLayout<Refund>.stride), ChangeOrder \(MemoryLayout<ChangeOrder>.stride), Plan \(MemoryLayout<Plan>.stride), Job \(MemoryLayout<Job>.stride), JobSyncState \(MemoryLayout<JobSyncState>.stride), Invoice \(MemoryLayout<Invoice>.stride), ActionSummary \(MemoryLayout<ActionSummary>.stride)")
    print("  inline sizes: ActionPayload \(MemoryLayout<ActionPayload>.size), ActionPayload? \(MemoryLayout<ActionPayload?>.size), Plan? \(MemoryLayout<Plan?>.size), ActionSummary? \(MemoryLayout<ActionSummary?>.size), LedgerError? \(MemoryLayout<LedgerError?>.size), ReviewCase.Decision? \(MemoryLayout<ReviewCase.Decision?>.size), CompanySettings \(MemoryLayout<CompanySettings>.size), PlanDraft \(MemoryLayout<PlanDraft>.size), Action \(MemoryLayout<Action>.size)")
}

func growth(actions count: Int) throws {
    let workload = try FieldWorkload(.init(seed: 7, jobs: 10_000, devices: 50, actions: count, gapMillisMax: 30_000, pullEvery: 100,
                                           vocabulary: .init(userPrefix: "tech-", jobPrefix: "J-", invoicePrefix: "HV-", department: "HVAC",
                                                             installmentLabels: ["Final Payment"], refundReason: "goodwill", changeOrders: ["Extra vent"])))
    var ledger = try Ledger(settings: workload.ledger.settings, companyReviewCases: [], jobs: [])
    var sequence: UInt64 = 0
    for entry in workload.setup { sequence = entry.sequence; _ = ledger.apply(entry.action, sequence: entry.sequence) }
    let jobs = ledger.jobs.map(\.id)
    // 1,000 jobs of the probe's own, invoiced far above what it pays: its payments there do the
    // same work at every size of the log (on the workload's jobs, overpaid after the first
    // quarter, each payment also opens a customer-credit case).
    let own = FieldWorkload.probeJobs(count: 1_000, replica: FieldWorkload.probeOfficeReplica, actor: office, seen: sequence, day: day)
    for action in own.actions {
        sequence += 1
        precondition(ledger.apply(action, sequence: sequence) == .applied)
    }
    let ownJobs = own.jobs
    let overpaid = FieldWorkload.probeJobs(count: 1_000, replica: FieldWorkload.probeOfficeReplica, actor: office, seen: sequence, day: day,
                                           firstCounter: UInt64(own.actions.count), invoiceMinor: 1, prefix: "C")
    for action in overpaid.actions {
        sequence += 1
        precondition(ledger.apply(action, sequence: sequence) == .applied)
    }
    let cold = CommandLine.arguments.contains("--cold")
    var sweep = [UInt8](repeating: 0, count: cold ? 256 << 20 : 0)
    let payer = FieldWorkload.probeActor, probeReplica = FieldWorkload.probeReplica
    var counter: UInt64 = 0, wall = (workload.entries.last?.action.hlc.wallMillis ?? 0) + 1
    func probe(_ targets: [JobID]) -> Double {
        var times: [Double] = []
        for _ in 0..<5 {
            let actions = FieldWorkload.probePayments(count: 1_000, replica: probeReplica, actor: payer, counter: &counter, wallMillis: &wall,
                                                      jobs: targets, seen: sequence, day: day)
            // One write per cache line: what the push reads next then comes from memory.
            sweep.withUnsafeMutableBufferPointer { lines in for line in stride(from: 0, to: lines.count, by: 64) { lines[line] &+= 1 } }
            let start = clock.now
            for action in actions { sequence += 1; _ = ledger.applyCountingOpenCases(action, sequence: sequence) }
            times.append(seconds(clock.now - start))
        }
        return median(times)
    }
    var first = (0.0, 0.0, 0.0)
    let marks = Set((0...4).map { count * $0 / 4 })
    if cold { print("(caches swept before each timed push)") }
    for (index, entry) in ([nil] + workload.entries.map { Optional($0) }).enumerated() {
        if let entry { sequence += 1; _ = ledger.apply(entry.action, sequence: sequence) }
        guard marks.contains(index) else { continue }
        let time = (probe(jobs), probe(ownJobs), probe(overpaid.jobs))
        if index == 0 { first = time }
        print("after \(index) device actions (log \(sequence)): 1,000 payments on the workload's jobs \(twoDecimals(time.0 * 1000)) ms (÷ first \(twoDecimals(time.0 / first.0))), "
              + "on the probe's own \(twoDecimals(time.1 * 1000)) ms (÷ first \(twoDecimals(time.1 / first.1))), "
              + "on its own overpaid ones \(twoDecimals(time.2 * 1000)) ms (÷ first \(twoDecimals(time.2 / first.2)))")
    }
}

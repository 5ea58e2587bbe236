import LedgerCore
import LedgerTestSupport
import Testing

/// One seeded world: 2–8 devices making random changes against their own views, pushing and
/// pulling in a random interleaving with retries and lost responses, then healing.
struct SyncWorld {
    let seed: UInt64
    var rng: SeededRandom
    var server: ServerLog
    var devices: [TestDevice]
    let initial: Ledger
    /// The oracle: every action a device queued, by dot, as it was queued.
    var queued: [Dot: Action] = [:]
    var millis: Int64 = 1_000
    var day = Fixtures.date("2026-06-01")

    init(seed: UInt64) throws {
        self.seed = seed
        rng = SeededRandom(seed: seed)
        initial = try Ledger()
        server = ServerLog(ledger: initial)
        var draw = rng
        let count = draw.int(in: 2...8)
        var made: [TestDevice] = []
        for index in 0..<count {
            // One office device and one technician at least; the rest by the seed.
            let role: Role = index == 0 ? .office : (index == 1 ? .technician : (draw.chance(30) ? .office : .technician))
            let actor = Actor(user: try UserID("user-\(index)"), role: role)
            made.append(TestDevice(replica: ReplicaID(high: UInt64(index + 1), low: seed), actor: actor, initial: initial))
        }
        devices = made
        rng = draw
    }

    /// Runs the safety phase (`steps` random steps), then heals until every outbox drains.
    mutating func run(steps: Int) throws {
        for _ in 0..<steps {
            let index = rng.int(in: 0...(devices.count - 1))
            millis += Int64(rng.int(in: 1...5_000))
            if rng.chance(5) { day = try day.adding(days: 1) }
            switch rng.int(in: 0...99) {
            case 0..<55: act(index)
            case 55..<75:
                // A push, sometimes of a prefix only; sometimes the response is lost and the
                // device simply sends the same actions again later.
                let count = rng.chance(30) ? rng.int(in: 0...devices[index].pending.count) : devices[index].pending.count
                devices[index].push(to: &server, count: count)
                if rng.chance(20) { devices[index].push(to: &server, count: count) }
            default:
                try devices[index].pull(from: server, limit: rng.int(in: 1...20))
            }
        }
        for _ in 0..<3 {
            for index in devices.indices {
                devices[index].push(to: &server)
                try devices[index].pull(from: server)
            }
        }
        for index in devices.indices { try devices[index].pull(from: server) }
    }

    /// One device makes a random change the way a person would: against its own view, accepted
    /// only when its view accepts it.
    mutating func act(_ index: Int) {
        let view = devices[index].view
        let actor = devices[index].actor
        let jobs = view.jobs
        var payload: ActionPayload?
        var jobID: JobID?
        if jobs.isEmpty || rng.chance(6) {
            payload = .createJob(number: "J-\(rng.int(in: 1000...9999))", customer: Customer(name: rng.pick(["Dana", "Lee", "Kim", "Ola"])),
                                 department: rng.pick(["HVAC", "Plumbing", nil]), currency: .usd, notes: "")
        } else {
            let job = rng.pick(jobs)
            jobID = job.id
            payload = randomPayload(for: job, view: view, actor: actor)
        }
        guard let payload else { return }
        millis += 1
        if let action = devices[index].perform(payload, job: jobID, day: day, physicalMillis: millis).action {
            queued[action.dot] = action
        }
    }

    mutating func randomPayload(for job: Job, view: Ledger, actor: Actor) -> ActionPayload? {
        let totals = job.totals
        let roll = rng.int(in: 0...99)
        guard let invoice = job.invoice else {
            return .setInvoice(number: "HV-\(rng.int(in: 1...999))", baseTotalMinor: rng.int64(in: 1_000...500_000), issuedOn: day)
        }
        switch roll {
        case 0..<12 where job.plan?.isActive != true:
            return .createPlan(randomDraft(target: totals.balanceMinor))
        case 12..<20:
            return .editPlan(randomDraft(target: totals.balanceMinor))
        case 20..<24:
            guard let plan = job.plan, let row = plan.rows.last else { return nil }
            return .editInstallment(row.id, label: rng.pick(["Final", "Completion", "Last draw"]), dueDate: rng.chance(50) ? .keep : .set(day))
        case 24..<27:
            return .cancelPlan
        case 27..<55:
            let outstanding = totals.balanceIfPendingCompletesMinor
            guard outstanding > 0 else { return nil }
            // Devices refuse an overpayment when collecting; concurrency can still cause one.
            let amount = rng.chance(70) ? min(outstanding, rng.int64(in: 1...max(1, outstanding / 2))) : outstanding
            let method = rng.pick(PaymentMethod.allCases)
            return .recordPayment(PaymentRequest(amountMinor: amount, currency: .usd, method: method, pending: method.maySettleLater && rng.chance(40)))
        case 55..<63:
            guard let pending = job.payments.filter({ $0.state == .pending }).first else { return nil }
            return rng.chance(70) ? .confirmPayment(pending.id) : .failPayment(pending.id)
        case 63..<72:
            let refundable = job.payments.filter { (job.refundableMinor(of: $0.id) ?? 0) > 0 }
            guard !refundable.isEmpty else { return nil }
            let payment = rng.pick(refundable)
            let amount = rng.int64(in: 1...job.refundableMinor(of: payment.id)!)
            return .recordRefund(RefundRequest(paymentID: payment.id, amountMinor: amount, currency: .usd, cancelsRemainingPlan: rng.chance(15)))
        case 72..<77:
            return .proposeChangeOrder(summary: "Extra work", amountMinor: rng.chance(80) ? rng.int64(in: 100...50_000) : -rng.int64(in: 100...20_000), currency: .usd)
        case 77..<82:
            guard let order = job.changeOrders.first(where: { $0.status == .proposed }) else { return nil }
            return rng.chance(70) ? .approveChangeOrder(order.id, reason: "agreed") : .rejectChangeOrder(order.id, reason: "declined")
        case 82..<88:
            return .updateJobInfo(JobInfoUpdate(customerName: rng.chance(50) ? rng.pick(["Dana W.", "Lee K.", "Kim O."]) : nil,
                                                notes: rng.pick(["gate code 1234", "call first", "dog in yard"])))
        case 88..<91 where actor.role.isOffice:
            var settings = view.settings
            settings.allowTechnicianOverride.toggle()
            return .updateSettings(settings, baseVersion: settings.version)
        case 91..<96 where actor.role.isOffice:
            guard let open = job.sync.openReviewCases.first else { return nil }
            return .resolveReviewCase(open.id, rng.pick(open.suggestedResolutions), note: "looked at it")
        case 96..<100:
            return invoice.finalizedOn == nil && rng.chance(30) ? .finalizeInvoice : (actor.role.isOffice && rng.chance(10) ? .voidInvoice : nil)
        default:
            return nil
        }
    }

    mutating func randomDraft(target: Int64) -> PlanDraft {
        if rng.chance(60) { return PlanDraft(template: rng.pick(PlanTemplate.builtIns)) }
        let first = max(1, target / Int64(rng.int(in: 2...4)))
        return PlanDraft(mode: .amount, rows: [PlanDraft.Row(label: "Deposit", amountMinor: first), PlanDraft.Row(label: "Balance")])
    }

    /// Every property of issue B's property test, as sentences; empty when the run is sound.
    func violations() throws -> [String] {
        var problems: [String] = []
        let ledger = server.ledger
        problems += ledger.invariantViolations()
        for job in ledger.jobs { problems += job.mergeInvariantViolations().map { "job \(job.id): \($0)" } }

        // Every queued action has exactly one log entry, and every log entry was queued.
        var logged: [Dot: LogEntry] = [:]
        for entry in server.entries {
            if logged[entry.action.dot] != nil { problems.append("dot \(entry.action.dot) is in the log twice") }
            logged[entry.action.dot] = entry
            if queued[entry.action.dot] != entry.action { problems.append("log entry \(entry.sequence) is not an action a device queued") }
        }
        for dot in queued.keys.sorted() where logged[dot] == nil { problems.append("queued action \(dot) never reached the log") }
        if server.entries.map(\.sequence) != (0..<server.entries.count).map({ UInt64($0 + 1) }) { problems.append("log sequence has a gap") }

        // Money facts: each in the ledger exactly once; nothing in the ledger that no device made.
        let payments = ledger.jobs.flatMap(\.payments).map(\.id.dot)
        let refunds = ledger.jobs.flatMap(\.refunds).map(\.id.dot)
        for (dot, action) in queued.sorted(by: { $0.key < $1.key }) {
            switch action.payload {
            case .recordPayment: if payments.filter({ $0 == dot }).count != 1 { problems.append("payment \(dot) is not in the ledger exactly once") }
            case .recordRefund: if refunds.filter({ $0 == dot }).count != 1 { problems.append("refund \(dot) is not in the ledger exactly once") }
            default: break
            }
        }
        for dot in payments + refunds where queued[dot] == nil { problems.append("phantom money event \(dot)") }

        // No intention disappears: a parked one has its case with the proposal kept.
        let cases = ledger.jobs.flatMap(\.sync.reviewCases) + ledger.companyReviewCases
        for entry in server.entries {
            if case .parkedForReview(let id) = entry.outcome, cases.first(where: { $0.id == id })?.proposed == nil {
                problems.append("parked action \(entry.action.dot) has no case keeping its proposal")
            }
        }

        // The journal balances at every point of the log and ends at the jobs' positions.
        var running: [Account: Int64] = [:]
        for entry in try Journal.entries(for: server.entries) {
            let debits = entry.lines.reduce(0) { $0 + $1.debitMinor }, credits = entry.lines.reduce(0) { $0 + $1.creditMinor }
            if debits != credits { problems.append("journal entry \(entry.sequence) does not balance") }
            for line in entry.lines { running[line.account, default: 0] += line.debitMinor - line.creditMinor }
            if running.values.reduce(0, +) != 0 { problems.append("journal out of balance after \(entry.sequence)") }
        }
        var expected: [Account: Int64] = [:]
        for job in ledger.jobs { for (account, amount) in Journal.positions(of: job) { expected[account, default: 0] += amount } }
        if running.filter({ $0.value != 0 }) != expected { problems.append("journal balances differ from the jobs' positions") }

        // Every replica that folded the log holds the server's state, byte for byte.
        let digest = ledger.stateDigest
        var fresh = initial
        for entry in server.entries { try fresh.fold(entry) }
        if fresh.stateDigest != digest { problems.append("a fresh fold of the log differs from the server") }
        for device in devices {
            if !device.pending.isEmpty { problems.append("device \(device.replica) still has \(device.pending.count) pending") }
            if device.confirmed.stateDigest != digest { problems.append("device \(device.replica) differs from the server") }
            for job in ledger.jobs where (try? device.confirmed.job(job.id))?.digest != job.digest {
                problems.append("device \(device.replica) has another digest for job \(job.id)")
            }
        }
        return problems
    }
}

@Suite("Seeded property test of the merge: many devices, random interleavings, retries")
struct SyncPropertyTests {
    /// Seeds that once failed; each stays as a regression test.
    static let regressionSeeds: [UInt64] = [143]  // credit left by an invoice change that also moved a plan target

    static func check(seed: UInt64, steps: Int) throws {
        var world = try SyncWorld(seed: seed)
        try world.run(steps: steps)
        let problems = try world.violations()
        #expect(problems.isEmpty, "seed \(seed): \(problems.prefix(5)) — replay with SyncPropertyTests.check(seed: \(seed), steps: \(steps))")
    }

    @Test("Random workloads from 2–8 devices converge to one byte-identical ledger with every invariant intact (regression seeds first)")
    func randomWorkloads() throws {
        for seed in Self.regressionSeeds + Array(0..<150) { try Self.check(seed: seed, steps: 300) }
    }

    @Test("The same seed gives the same log and the same state")
    func deterministic() throws {
        var first = try SyncWorld(seed: 42), second = try SyncWorld(seed: 42)
        try first.run(steps: 300)
        try second.run(steps: 300)
        #expect(first.server.entries == second.server.entries)
        #expect(first.server.ledger.stateDigest == second.server.ledger.stateDigest)
        #expect(first.server.entries.count > 50, "the workload did something")
    }
}

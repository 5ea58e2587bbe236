import LedgerCore
import LedgerTestSupport
import Testing

/// A deliberately simple model of the allocation rules, written apart from the core, against
/// which the core is compared.
struct ReferenceModel {
    var rows: [Int64]
    var completed: Int64 = 0
    var pending: Int64 = 0
    var refunded: Int64 = 0

    /// Rows sized by percentage: every row but the first is floored, the first takes the rest.
    static func rows(target: Int64, ppm: [Int64]) -> [Int64] {
        let rest = ppm.dropFirst().map { target * $0 / 1_000_000 }
        return [target - rest.reduce(0, +)] + rest
    }

    /// Fill rows in order from a pool.
    func allocate(_ pool: Int64) -> [Int64] {
        var left = pool
        var result: [Int64] = []
        for row in rows {
            let take = min(row, left)
            result.append(take)
            left -= take
        }
        return result
    }

    var target: Int64 { rows.reduce(0, +) }
}

/// One step in the life of one payment.
enum MoneyStep: CustomStringConvertible {
    case record(Payment)
    case confirm(PaymentID)
    case fail(PaymentID)
    /// `valid` is false for an attempt that must be refused (it asks for more than is refundable).
    case refund(Refund, valid: Bool)

    var description: String {
        switch self {
        case .record(let p): "record \(p.id.dot.counter) \(p.amountMinor) \(p.state)"
        case .confirm(let id): "confirm \(id.dot.counter)"
        case .fail(let id): "fail \(id.dot.counter)"
        case .refund(let r, let valid): "refund \(r.paymentID.dot.counter) \(r.amountMinor)\(valid ? "" : " (over)")"
        }
    }
}

@Suite("Seeded property tests of allocation, pending states and refunds")
struct PropertyTests {
    static let seeds: Range<UInt64> = 0..<400

    /// A random split of `whole` into `count` positive parts.
    static func split(_ whole: Int64, into count: Int, _ rng: inout SeededRandom) -> [Int64] {
        var cuts = Set<Int64>()
        while cuts.count < count - 1 { cuts.insert(rng.int64(in: 1...(whole - 1))) }
        let points = [0] + cuts.sorted() + [whole]
        return zip(points, points.dropFirst()).map { $1 - $0 }
    }

    /// Each payment's steps in their only possible order: record, then settle, then refunds.
    static func chains(_ rng: inout SeededRandom, target: Int64) -> [[MoneyStep]] {
        var chains: [[MoneyStep]] = []
        var counter: UInt64 = 1
        for _ in 0..<rng.int(in: 1...8) {
            let amount = rng.chance(20) ? rng.int64(in: 1...(2 * target)) : rng.int64(in: 1...max(1, target / 2))
            let method = rng.pick(PaymentMethod.allCases)
            let startsPending = method.maySettleLater && rng.chance(50)
            let replica = rng.chance(50) ? Fixtures.technicianDevice : Fixtures.officeDevice
            let payment = Payment(id: PaymentID(Dot(replica: replica, counter: counter)), amountMinor: amount, currency: .usd, method: method,
                                  state: startsPending ? .pending : .completed, occurredAt: HLCTimestamp(wallMillis: rng.int64(in: 0...50)),
                                  occurredOn: Fixtures.date("2026-06-02"), actor: Fixtures.technician)
            counter += 1
            var chain: [MoneyStep] = [.record(payment)]
            var completes = !startsPending
            if startsPending {
                switch rng.int(in: 0...9) {
                case 0...5: chain.append(.confirm(payment.id)); completes = true
                case 6...8: chain.append(.fail(payment.id))
                default: break // still pending at the end
                }
            }
            if completes {
                var refundable = amount
                for _ in 0..<rng.int(in: 0...2) where refundable > 0 {
                    let over = rng.chance(20)
                    let refundAmount = over ? refundable + rng.int64(in: 1...100) : rng.int64(in: 1...refundable)
                    let refund = Refund(id: RefundID(Dot(replica: Fixtures.officeDevice, counter: 1_000 + counter)), paymentID: payment.id,
                                        amountMinor: refundAmount, currency: .usd, occurredAt: HLCTimestamp(wallMillis: 60), occurredOn: Fixtures.date("2026-06-03"),
                                        actor: Fixtures.office)
                    counter += 1
                    chain.append(.refund(refund, valid: !over))
                    if !over { refundable -= refundAmount }
                }
            }
            chains.append(chain)
        }
        return chains
    }

    /// A random interleaving that keeps each chain's own order.
    static func interleave(_ chains: [[MoneyStep]], _ rng: inout SeededRandom) -> [MoneyStep] {
        var positions = Array(repeating: 0, count: chains.count)
        var result: [MoneyStep] = []
        while true {
            let open = chains.indices.filter { positions[$0] < chains[$0].count }
            guard !open.isEmpty else { return result }
            let chain = rng.pick(open)
            result.append(chains[chain][positions[chain]])
            positions[chain] += 1
        }
    }

    /// Applies `steps` to a copy of `start`, checking the model and the invariants after each.
    static func run(_ steps: [MoneyStep], on start: Job, model start0: ReferenceModel, seed: UInt64, label: String) -> Job {
        var job = start
        var model = start0
        let settings = CompanySettings()
        for (index, step) in steps.enumerated() {
            let context = "seed \(seed) (\(label)) step \(index): \(step) — replay with: swift test --filter PropertyTests"
            let before = job
            do {
                switch step {
                case .record(let payment):
                    try job.recordPayment(payment)
                    if payment.state == .pending { model.pending += payment.amountMinor } else { model.completed += payment.amountMinor }
                case .confirm(let id):
                    try job.confirmPayment(id)
                    let amount = job.payments.first { $0.id == id }!.amountMinor
                    model.pending -= amount
                    model.completed += amount
                case .fail(let id):
                    try job.failPayment(id)
                    model.pending -= job.payments.first { $0.id == id }!.amountMinor
                case .refund(let refund, let valid):
                    do {
                        try job.recordRefund(refund, settings: settings)
                        #expect(valid, "an over-refund was accepted; \(context)")
                        model.refunded += refund.amountMinor
                    } catch {
                        #expect(!valid && error.code == .refundExceedsRefundable, "\(error); \(context)")
                        #expect(job == before, "a refused refund changed the job; \(context)")
                    }
                }
            } catch {
                Issue.record("unexpected \(error); \(context)")
            }
            let violations = job.invariantViolations()
            #expect(violations.isEmpty, "\(violations); \(context)")
            let totals = job.totals
            #expect(totals.completedMinor == model.completed && totals.pendingMinor == model.pending && totals.refundedMinor == model.refunded,
                    "totals differ from the model; \(context)")
            let rows = job.allocation(of: job.plan!)
            #expect(rows.map(\.completedMinor) == model.allocate(model.completed), "allocation differs from the model; \(context)")
            #expect(rows.map(\.provisionalMinor) == model.allocate(model.completed + model.pending), "provisional allocation differs; \(context)")
            #expect(rows.allSatisfy { $0.completedMinor <= $0.amountMinor }, "a row is over-allocated; \(context)")
            #expect(rows.reduce(0) { $0 + $1.completedMinor } == min(model.completed, model.target), "sum allocated ≠ min(completed, target); \(context)")
        }
        return job
    }

    @Test("Random plans and payment sequences agree with the reference model, in any order, at every step", arguments: [seeds])
    func allocationMatchesModel(seeds: Range<UInt64>) throws {
        for seed in seeds {
            var rng = SeededRandom(seed: seed)
            let target = rng.chance(10) ? rng.int64(in: 2...40) : rng.int64(in: 100...2_000_000)
            let count = rng.int(in: 2...12)
            var job = Fixtures.job(total: "1.00")
            try job.setInvoice(number: "HV-1", baseTotalMinor: target, issuedOn: Fixtures.date("2026-06-01"))
            let draft: PlanDraft
            let expectedRows: [Int64]
            if rng.chance(50) {
                let ppm = Self.split(1_000_000, into: count, &rng)
                draft = PlanDraft(mode: .percentage, rows: ppm.map { PlanDraft.Row(label: "Stage", percentage: try! PartsPerMillion($0)) })
                expectedRows = ReferenceModel.rows(target: target, ppm: ppm)
            } else {
                let amounts = target >= Int64(count) ? Self.split(target, into: count, &rng) : Array(repeating: 1, count: count)
                draft = PlanDraft(mode: .amount, rows: amounts.enumerated().map { index, amount in
                    PlanDraft.Row(label: "Row \(index + 1)", amountMinor: index == count - 1 ? nil : amount)
                })
                expectedRows = amounts
            }
            let expectValid = expectedRows.allSatisfy { $0 > 0 } && expectedRows.reduce(0, +) == target
            do {
                try job.createPlan(id: PlanID(Fixtures.dot(500)), draft: draft, planDay: Fixtures.date("2026-06-01"), actor: Fixtures.office, settings: CompanySettings())
                #expect(expectValid, "seed \(seed): a plan with a non-positive row was saved")
            } catch {
                #expect(!expectValid && [.installmentNotPositive, .planNotFullyAllocated].contains(error.code), "seed \(seed): \(error)")
                continue
            }
            #expect(job.plan!.rows.map(\.amountMinor) == expectedRows, "seed \(seed): rows differ from the model")
            let model = ReferenceModel(rows: expectedRows)

            let chains = Self.chains(&rng, target: target)
            let first = Self.run(Self.interleave(chains, &rng), on: job, model: model, seed: seed, label: "order A")
            let second = Self.run(Self.interleave(chains, &rng), on: job, model: model, seed: seed, label: "order B")
            #expect(first.allocation(of: first.plan!) == second.allocation(of: second.plan!), "seed \(seed): allocation depends on order")
            #expect(first.totals == second.totals, "seed \(seed): totals depend on order")
            #expect(first.readiness == second.readiness, "seed \(seed): readiness depends on order")
            let coverage = { (job: Job) in job.coverage(of: job.plan!).map { "\($0.payment) \($0.row) \($0.amountMinor)" } }
            #expect(coverage(first) == coverage(second), "seed \(seed): per-payment coverage depends on arrival order")
        }
    }

    @Test("Collection warnings agree with the model for random plans, payments and amounts", arguments: [seeds])
    func collectionWarningsMatchModel(seeds: Range<UInt64>) throws {
        let settings = CompanySettings()
        for seed in seeds {
            var rng = SeededRandom(seed: seed &+ 10_000)
            let count = rng.int(in: 2...6)
            let amounts = Self.split(rng.int64(in: Int64(count)...500_000), into: count, &rng)
            var job = Fixtures.job(total: "1.00")
            try job.setInvoice(number: "HV-1", baseTotalMinor: amounts.reduce(0, +), issuedOn: nil)
            try job.createPlan(id: PlanID(Fixtures.dot(500)), draft: PlanDraft(mode: .amount, rows: amounts.map { PlanDraft.Row(label: "R", amountMinor: $0) }),
                               planDay: Fixtures.date("2026-06-01"), actor: Fixtures.office, settings: settings)
            var model = ReferenceModel(rows: amounts)
            for counter in UInt64(1)..<UInt64(1 + rng.int(in: 0...3)) where model.completed + model.pending < model.target {
                let amount = rng.int64(in: 1...(model.target - model.completed - model.pending))
                let pending = rng.chance(30)
                try job.recordPayment(Fixtures.payment("0.01", counter: counter, method: pending ? .card : .cash, state: pending ? .pending : .completed).withAmount(amount))
                if pending { model.pending += amount } else { model.completed += amount }
            }
            let covered = model.allocate(model.completed + model.pending)
            let current = zip(model.rows, covered).first { $0 > $1 }.map { $0 - $1 }
            let outstanding = model.target - model.completed - model.pending
            for _ in 0..<10 {
                let amount = rng.int64(in: 1...(model.target + 10))
                let expected: CheckOutcome
                if amount > outstanding { expected = .refused(.overpaymentNotPermitted) }
                else if let current, amount < current { expected = .warned([.lessThanCurrentInstallment]) }
                else if let current, amount > current { expected = .warned([.exceedsCurrentInstallment]) }
                else { expected = .warned([]) }
                let actual: CheckOutcome
                do { actual = .warned(try job.collectionCheck(amountMinor: amount, settings: settings)) }
                catch { actual = .refused(error.code) }
                #expect(actual == expected, "seed \(seed) amount \(amount)")
            }
        }
    }
}

/// What a collection check answered: warnings, or a refusal with its code.
enum CheckOutcome: Equatable {
    case warned([CollectionWarning])
    case refused(LedgerError.Code)
}

extension Payment {
    func withAmount(_ minor: Int64) -> Payment {
        Payment(id: id, amountMinor: minor, currency: currency, method: method, reference: reference, state: state, occurredAt: occurredAt, occurredOn: occurredOn, actor: actor)
    }
}

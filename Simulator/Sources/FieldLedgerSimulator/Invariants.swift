import FieldClient
import LedgerCore
import SyncProtocol

/// The end of a world: every invariant of DESIGN §9 over the server's ledger, its log, the
/// oracle and every device, after convergence.
extension World {
    func checkEnd() throws {
        try readLog()
        let ledger = try server.service.projectedLedger(company: company)
        try checkServer(ledger)
        try checkIntentions(ledger)
        try checkMoney(ledger)
        try checkJournal(ledger)
        try checkReplicas(ledger)
        note("end \(log.count) \(hexString(ledger.stateDigest))")
    }

    /// The server's memory, its stored fold and a fold of the log from scratch all agree, and
    /// the fold gives every entry the outcome the log recorded.
    func checkServer(_ ledger: Ledger) throws {
        let folded = try server.service.foldedLedger(company: company)
        guard folded.stateDigest == ledger.stateDigest else {
            throw broken("projection", "the server's ledger in memory differs from a fold of its stored log", atEnd: true)
        }
        var scratch = try Ledger()
        for entry in log {
            let outcome = scratch.apply(entry.action, sequence: entry.sequence)
            guard outcome == entry.outcome else {
                throw broken("replay", "log entry \(entry.sequence) folds to \(Self.name(outcome)) from scratch, the log says \(Self.name(entry.outcome))", atEnd: true)
            }
        }
        guard scratch.stateDigest == ledger.stateDigest else {
            throw broken("replay", "a fold of the log from an empty ledger differs from the server's ledger", atEnd: true)
        }
    }

    /// Nothing a device committed is lost or hidden: each action is in the log (once, with its
    /// body: `readLog` checked that as entries came), and its device shows the log's outcome.
    /// An intention refused by the merge is parked as a review case, never dropped silently.
    func checkIntentions(_ ledger: Ledger) throws {
        for dot in oracle.order where logged[dot] == nil {
            throw broken("lost", "device \(oracle.actions[dot]!.device)'s action \(dot.counter) (\(oracle.actions[dot]!.action.payload.kind.rawValue)) never reached the server's log", atEnd: true)
        }
        let portal = log.filter { $0.action.dot.replica == serverReplica }
        guard portal.map(\.action.payload) == oracle.portal else {
            throw broken("phantom", "the server logged \(portal.count) actions of its own, the office took \(oracle.portal.count) portal payments", atEnd: true)
        }
        for device in devices {
            for entry in try device.replica.outbox() {
                guard let index = logged[entry.action.dot] else { continue }
                let outcome = log[index].outcome
                let expected: OutboxStatus = if case .rejected = outcome { .rejected } else { .acknowledged }
                guard entry.status == expected, entry.outcome == outcome else {
                    throw broken("outcome-shown", "device \(device.index) shows action \(entry.action.dot.counter) as \(entry.status) (\(entry.outcome.map(Self.name) ?? "none")); the log says \(Self.name(outcome))", atEnd: true)
                }
            }
        }
        let cases = Set((ledger.companyReviewCases + ledger.jobs.flatMap(\.sync.reviewCases)).map(\.id))
        for entry in log where entry.outcome.changedLedger {
            switch entry.outcome {
            case .parkedForReview(let id), .appliedWithException(let id):
                guard cases.contains(id) else {
                    throw broken("parked", "log entry \(entry.sequence) (\(entry.action.payload.kind.rawValue)) was sent to review case \(id), which the ledger does not hold", atEnd: true)
                }
            default: break
            }
            // Whatever changed a job (applied, booked with an exception, parked) leaves its dot on it.
            if let job = entry.action.touchedJob, let current = try? ledger.job(job), !current.sync.dots.contains(entry.action.dot) {
                throw broken("dropped", "log entry \(entry.sequence) (\(entry.action.payload.kind.rawValue)) is logged as \(Self.name(entry.outcome)) but left no trace on job \(job)", atEnd: true)
            }
        }
    }

    /// Every payment and refund booked is in the ledger exactly once, none that nobody made;
    /// each job's invariants hold (refunds beyond a payment and credit carry review cases);
    /// allocation equals a recomputation from the job's payments.
    func checkMoney(_ ledger: Ledger) throws {
        var payments: [PaymentID: Int] = [:], refunds: [RefundID: Int] = [:]
        for job in ledger.jobs {
            for payment in job.payments { payments[payment.id, default: 0] += 1 }
            for refund in job.refunds { refunds[refund.id, default: 0] += 1 }
            let problems = job.invariantViolations() + job.mergeInvariantViolations()
            if let problem = problems.first {
                throw broken("job-invariant", "job \(job.id): \(problem)", atEnd: true)
            }
            try checkAllocation(job)
        }
        for entry in log where entry.outcome == .applied || Self.isException(entry.outcome) {
            switch entry.action.payload {
            case .recordPayment:
                guard payments[PaymentID(entry.action.dot)] == 1 else {
                    throw broken("payment-once", "payment \(entry.action.dot) (log entry \(entry.sequence)) is in the ledger \(payments[PaymentID(entry.action.dot)] ?? 0) times", atEnd: true)
                }
            case .recordRefund:
                guard refunds[RefundID(entry.action.dot)] == 1 else {
                    throw broken("refund-once", "refund \(entry.action.dot) (log entry \(entry.sequence)) is in the ledger \(refunds[RefundID(entry.action.dot)] ?? 0) times", atEnd: true)
                }
            default: break
            }
        }
        for (id, _) in payments.sorted(by: { $0.key < $1.key }) where logged[id.dot] == nil {
            throw broken("phantom", "the ledger holds payment \(id), which no logged action made", atEnd: true)
        }
    }

    static func isException(_ outcome: Outcome) -> Bool {
        if case .appliedWithException = outcome { return true }
        return false
    }

    /// The plan's rows covered oldest first by the completed pool, and which payment paid for
    /// what in (occurred-at, id) order, recomputed here from the payments alone.
    func checkAllocation(_ job: Job) throws {
        guard let plan = job.plan else { return }
        let completed = job.payments.filter { $0.state == .completed }
        let cap = plan.cancellation?.poolCapMinor ?? Int64.max
        var left = min(cap, max(0, completed.reduce(0) { $0 + $1.amountMinor } - plan.baselinePaidMinor))
        var expected: [Int64] = []
        for row in plan.rows {
            let take = min(left, row.amountMinor)
            expected.append(take)
            left -= take
        }
        guard job.allocation(of: plan).map(\.completedMinor) == expected else {
            throw broken("allocation", "job \(job.id)'s rows hold \(job.allocation(of: plan).map(\.completedMinor)), a recomputation gives \(expected)", atEnd: true)
        }
        // Who paid for what: earliest payment first, whatever order they arrived in.
        var skip = plan.baselinePaidMinor
        var pool = min(cap, max(0, completed.reduce(0) { $0 + $1.amountMinor } - plan.baselinePaidMinor))
        var rowLeft = plan.rows.map(\.amountMinor), row = 0
        var coverage: [String] = []
        for payment in completed.sorted(by: { ($0.occurredAt, $0.id) < ($1.occurredAt, $1.id) }) {
            var amount = payment.amountMinor
            let skipped = min(skip, amount)
            skip -= skipped
            amount -= skipped
            while amount > 0, pool > 0, row < rowLeft.count {
                let take = min(amount, rowLeft[row], pool)
                coverage.append("\(payment.id)>\(plan.rows[row].id)=\(take)")
                amount -= take
                pool -= take
                rowLeft[row] -= take
                if rowLeft[row] == 0 { row += 1 }
            }
        }
        let actual = job.coverage(of: plan).map { "\($0.payment)>\($0.row)=\($0.amountMinor)" }
        guard actual == coverage else {
            throw broken("allocation", "job \(job.id)'s payments cover its rows as \(actual), in payment order they cover \(coverage)", atEnd: true)
        }
    }

    /// The journal of the log balances entry by entry, and its accounts end where the jobs'
    /// positions are.
    func checkJournal(_ ledger: Ledger) throws {
        let entries = try Journal.entries(for: log)
        var balances: [Account: Int64] = [:]
        for entry in entries {
            var net: [Currency: Int64] = [:]
            for line in entry.lines {
                net[line.currency, default: 0] += line.debitMinor - line.creditMinor
                balances[line.account, default: 0] += line.debitMinor - line.creditMinor
            }
            if let unbalanced = net.sorted(by: { $0.key.code < $1.key.code }).first(where: { $0.value != 0 }) {
                throw broken("journal", "journal entry for log entry \(entry.sequence) is off by \(unbalanced.value) \(unbalanced.key.code)", atEnd: true)
            }
        }
        var positions: [Account: Int64] = [:]
        for job in ledger.jobs {
            for (account, amount) in Journal.positions(of: job) { positions[account, default: 0] += amount }
        }
        let nonzero = balances.filter { $0.value != 0 }
        guard nonzero == positions.filter({ $0.value != 0 }) else {
            throw broken("journal", "the journal's accounts do not end at the jobs' positions", atEnd: true)
        }
    }

    /// Every replica folded exactly the server's log: same state, byte for byte, same digest.
    func checkReplicas(_ ledger: Ledger) throws {
        let head = UInt64(log.count)
        let digest = try server.service.pull(company: company, after: head == 0 ? 0 : head - 1, limit: 1).checkpoint.logDigest
        for device in devices {
            let position = device.replica.confirmedPosition
            guard position.sequence == head, position.logDigest == digest else {
                throw broken("replica-digest", "device \(device.index) folded to \(position.sequence) with another log digest than the server's at \(head)", atEnd: true)
            }
            guard try device.replica.confirmedLedger.stateDigest == ledger.stateDigest else {
                throw broken("replica-state", "device \(device.index)'s confirmed state differs from the server's", atEnd: true)
            }
        }
    }
}

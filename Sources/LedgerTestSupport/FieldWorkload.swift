import LedgerCore

/// A seeded company's sync traffic (issue C's workload): the office opens jobs, each with an
/// invoice and a plan, then devices act on random jobs — 70% payments, 20% plan edits, 10%
/// refunds and change orders. Each device pulls the log after every `pullEvery` of its own
/// actions, and an action's context is the sequence it had pulled to (decision 0009). Every
/// action is applied to the server's ledger as it is made, so outcomes are the real ones.
///
/// The protocol benchmark measures it; the preset dictionary is trained on another seed with
/// other words (`Vocabulary`), so the benchmark never sees text the dictionary was built from.
public struct FieldWorkload {
    /// The made-up text of the workload.
    public struct Vocabulary: Sendable {
        public var userPrefix: String
        public var jobPrefix: String
        public var invoicePrefix: String
        public var department: String
        public var installmentLabels: [String]
        public var refundReason: String
        public var changeOrders: [String]

        /// Makes a vocabulary.
        public init(userPrefix: String, jobPrefix: String, invoicePrefix: String, department: String, installmentLabels: [String],
                    refundReason: String, changeOrders: [String]) {
            self.userPrefix = userPrefix
            self.jobPrefix = jobPrefix
            self.invoicePrefix = invoicePrefix
            self.department = department
            self.installmentLabels = installmentLabels
            self.refundReason = refundReason
            self.changeOrders = changeOrders
        }
    }

    /// The shape of the traffic.
    public struct Parameters: Sendable {
        public var seed: UInt64
        public var jobs: Int
        public var devices: Int
        public var actions: Int
        /// Milliseconds between one action and the next, company-wide, drawn from 0 to this.
        public var gapMillisMax: Int64
        public var pullEvery: UInt64
        public var vocabulary: Vocabulary

        /// Makes parameters.
        public init(seed: UInt64, jobs: Int, devices: Int, actions: Int, gapMillisMax: Int64, pullEvery: UInt64, vocabulary: Vocabulary) {
            self.seed = seed
            self.jobs = jobs
            self.devices = devices
            self.actions = actions
            self.gapMillisMax = gapMillisMax
            self.pullEvery = pullEvery
            self.vocabulary = vocabulary
        }
    }

    public let officeReplica: ReplicaID
    public let devices: [ReplicaID]
    /// The server's ledger after everything.
    public private(set) var ledger: Ledger
    /// The office's setup: job creations, invoices and plans, logged first.
    public private(set) var setup: [LogEntry] = []
    /// The devices' actions as logged, with their outcomes.
    public private(set) var entries: [LogEntry] = []
    /// Each device's actions, in counter order.
    public private(set) var byDevice: [[Action]]
    /// The jobs the office opened, in the order it opened them.
    public private(set) var jobs: [JobID] = []

    /// Who makes the growth benchmarks' fixed push (server-bench, service-bench, ledger-bench
    /// time the same one): its device, its user, and the office replica that opens the probe's
    /// own jobs (`probeJobs`).
    public static let probeReplica = ReplicaID(high: 0xB0B, low: 1)
    public static let probeActor = Actor(user: try! UserID("tech-probe"), role: .technician)
    public static let probeOfficeReplica = ReplicaID(high: 0x0FF1CE, low: 1)

    /// Generates the traffic.
    public init(_ parameters: Parameters) throws {
        var rng = SeededRandom(seed: parameters.seed)
        let words = parameters.vocabulary
        officeReplica = ReplicaID(high: 0x0FF1CE, low: parameters.seed)
        devices = (1...parameters.devices).map { ReplicaID(high: 0xDE71CE00 + UInt64($0), low: parameters.seed << 16 + UInt64($0)) }
        byDevice = Array(repeating: [], count: parameters.devices)
        ledger = try Ledger()
        let office = Actor(user: try UserID("\(words.userPrefix)office"), role: .office)
        let actors = try (0..<parameters.devices).map { Actor(user: try UserID("\(words.userPrefix)\($0)"), role: .technician) }
        var counters = [UInt64](repeating: 0, count: parameters.devices), cursors = counters
        var officeCounter: UInt64 = 0, logLength: UInt64 = 0
        let firstWall: Int64 = 1_780_272_000_000
        var wall = firstWall
        let start = try CalendarDate.parse("2026-06-01")

        func make(_ payload: ActionPayload, job: JobID?, device: Int?) -> Action {
            wall += rng.int64(in: 0...parameters.gapMillisMax)
            let dot: Dot, seen: UInt64
            if let device {
                if counters[device] % parameters.pullEvery == 0 { cursors[device] = logLength }
                counters[device] += 1
                dot = Dot(replica: devices[device], counter: counters[device])
                seen = cursors[device]
            } else {
                officeCounter += 1
                dot = Dot(replica: officeReplica, counter: officeCounter)
                seen = logLength
            }
            let day = try! start.adding(days: Int((wall - firstWall) / 86_400_000))
            return Action(dot: dot, hlc: HLCTimestamp(wallMillis: wall), actor: device.map { actors[$0] } ?? office, job: job,
                          seenSequence: seen, businessDay: day, payload: payload)
        }
        func log(_ action: Action) -> LogEntry {
            logLength += 1
            return LogEntry(sequence: logLength, action: action, outcome: ledger.apply(action, sequence: logLength))
        }

        var jobs: [JobID] = []
        for index in 0..<parameters.jobs {
            let create = make(.createJob(number: "\(words.jobPrefix)\(10_000 + index)", customer: Customer(name: "Customer \(index)"),
                                         department: words.department, currency: .usd, notes: ""), job: nil, device: nil)
            setup.append(log(create))
            let job = JobID(create.dot)
            jobs.append(job)
            setup.append(log(make(.setInvoice(number: "\(words.invoicePrefix)\(20_000 + index)", baseTotalMinor: rng.int64(in: 100_000...5_000_000),
                                              issuedOn: start), job: job, device: nil)))
            setup.append(log(make(.createPlan(PlanDraft(template: rng.pick(PlanTemplate.builtIns))), job: job, device: nil)))
        }
        self.jobs = jobs
        for _ in 0..<parameters.actions {
            let device = rng.int(in: 0...(parameters.devices - 1))
            let job = rng.pick(jobs)
            // The job is read in a function of its own so that its copy is gone before the
            // action is applied: alive, it makes the fold copy the job's arrays every time.
            func next(for current: Job) -> ActionPayload {
                let roll = rng.int(in: 0...99)
                if roll < 70 {
                    let method = rng.pick([PaymentMethod.cash, .card, .check, .card])
                    return .recordPayment(PaymentRequest(amountMinor: rng.int64(in: 5_000...500_000) / 100 * 100, currency: .usd, method: method,
                                                         reference: method == .check ? "\(rng.int(in: 1000...9999))" : nil,
                                                         pending: method == .card && rng.chance(30)))
                } else if roll < 90, let plan = current.plan, let row = plan.rows.last {
                    return rng.chance(50) ? .editInstallment(row.id, label: rng.pick(words.installmentLabels), dueDate: .keep)
                        : .editPlan(PlanDraft(template: rng.pick(PlanTemplate.builtIns)))
                } else if roll < 95, let paid = current.payments.last(where: { $0.state == .completed }) {
                    return .recordRefund(RefundRequest(paymentID: paid.id, amountMinor: 1_000, currency: .usd, reason: words.refundReason))
                } else {
                    return .proposeChangeOrder(summary: rng.pick(words.changeOrders), amountMinor: rng.int64(in: 100...90_000) * 100, currency: .usd)
                }
            }
            let payload = next(for: try ledger.job(job))
            let action = make(payload, job: job, device: device)
            entries.append(log(action))
            byDevice[device].append(action)
        }
    }

    /// Jobs of the growth benchmarks' own, each invoiced at `invoiceMinor`: by default far above
    /// what their probe pays (so its payments there do the same work at every size of the log),
    /// or below one payment (so each payment opens a customer-credit case at every size). For
    /// each, a create then an invoice by `actor` from `replica`, counters after `firstCounter`,
    /// all having seen log sequence `seen`, numbered `prefix`-index. Returns the actions in
    /// order and the jobs' ids.
    public static func probeJobs(count: Int, replica: ReplicaID, actor: Actor, seen: UInt64, day: CalendarDate, firstCounter: UInt64 = 0,
                                 invoiceMinor: Int64 = 1_000_000_000, prefix: String = "P") -> (actions: [Action], jobs: [JobID]) {
        var actions: [Action] = [], jobs: [JobID] = []
        for index in 0..<count {
            let counter = firstCounter + UInt64(2 * index)
            let create = Action(dot: Dot(replica: replica, counter: counter + 1), hlc: HLCTimestamp(wallMillis: Int64(counter + 1)), actor: actor,
                                job: nil, seenSequence: seen, businessDay: day,
                                payload: .createJob(number: "\(prefix)-\(index)", customer: Customer(name: "Probe \(index)"), department: nil, currency: .usd, notes: ""))
            let invoice = Action(dot: Dot(replica: replica, counter: counter + 2), hlc: HLCTimestamp(wallMillis: Int64(counter + 2)), actor: actor,
                                 job: JobID(create.dot), seenSequence: seen, businessDay: day,
                                 payload: .setInvoice(number: "\(prefix)I-\(index)", baseTotalMinor: invoiceMinor, issuedOn: day))
            actions += [create, invoice]
            jobs.append(JobID(create.dot))
        }
        return (actions, jobs)
    }

    /// The growth benchmarks' fixed push: `count` one-dollar cash payments by `actor` from
    /// `replica`, counters after `counter` (advanced), 10 ms apart after `wallMillis` (advanced),
    /// each on `jobs[counter % jobs.count]`, all having seen log sequence `seen`.
    public static func probePayments(count: Int, replica: ReplicaID, actor: Actor, counter: inout UInt64, wallMillis: inout Int64, jobs: [JobID],
                                     seen: UInt64, day: CalendarDate) -> [Action] {
        (0..<count).map { _ in
            counter += 1
            wallMillis += 10
            return Action(dot: Dot(replica: replica, counter: counter), hlc: HLCTimestamp(wallMillis: wallMillis), actor: actor,
                          job: jobs[Int(counter % UInt64(jobs.count))], seenSequence: seen, businessDay: day,
                          payload: .recordPayment(PaymentRequest(amountMinor: 100, currency: .usd, method: .cash)))
        }
    }

    /// Consecutive actions of one replica, at most `size` each: the change sets devices would
    /// push to replay `actions` in their order.
    public static func runs(_ actions: [Action], size: Int) -> [[Action]] {
        var runs: [[Action]] = []
        var start = 0
        while start < actions.count {
            var end = start + 1
            while end < actions.count, end - start < size, actions[end].dot.replica == actions[start].dot.replica { end += 1 }
            runs.append(Array(actions[start..<end]))
            start = end
        }
        return runs
    }
}

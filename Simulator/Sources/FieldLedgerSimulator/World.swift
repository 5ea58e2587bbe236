import FieldClient
import Foundation
import GRDB
import LedgerCore
import LedgerService
import LedgerTestSupport
import SQLiteLedgerStorage
import SyncProtocol

/// One simulated device: a real replica file and what the world knows about its situation.
final class SimDevice {
    let index: Int
    let role: Role
    let credential: DeviceCredential
    var replica: FieldReplica
    /// How many times the device restarted from a file a crash left (each restart its own file).
    var generation = 0
    /// No signal before this (world time, milliseconds).
    var offlineUntil: Int64 = 0
    /// What the clock was set wrong by (jumps add up).
    var jumpMillis: Int64 = 0
    let skewMillis: Int64
    let driftPPM: Int64

    init(index: Int, role: Role, credential: DeviceCredential, replica: FieldReplica, skewMillis: Int64, driftPPM: Int64) {
        self.index = index
        self.role = role
        self.credential = credential
        self.replica = replica
        self.skewMillis = skewMillis
        self.driftPPM = driftPPM
    }

    /// The device's wall clock when the world's is `now`.
    func wallMillis(now: Int64, start: Int64) -> Int64 {
        now + skewMillis + (now - start) / 1_000_000 * driftPPM + jumpMillis
    }
}

/// Counts a world reports.
struct Counts {
    var attempted = 0
    var refusedOnDevice = 0
    var committedLocally = 0
    var portalPayments = 0
    var syncs = 0
    var syncsFailed = 0
    var duplicatesAbsorbed = 0
    var crashes = 0
    var serverRestarts = 0
    var replays = 0
    var alteredResends = 0
    var delayedDelivered = 0
}

/// Why a world failed: the invariant, what was seen, and when.
public struct SimulationFailure: Hashable, Sendable {
    /// The invariant's short name.
    public let invariant: String
    /// What was seen, in a sentence or two.
    public let explanation: String
    /// The safety-phase step, or nil for the end of the run.
    public let step: Int?
}

/// Thrown inside a world to stop it at the first broken invariant.
struct InvariantBroken: Error {
    let failure: SimulationFailure
}

/// A world: the server, the devices, the network between them and an oracle that remembers
/// every action a device committed, driven by one generator from one seed.
final class World {
    let parameters: SimulationParameters
    let directory: String
    var rng: SeededRandom
    let start: Int64 = 1_780_300_800_000 // 2026-06-01T08:00:00Z
    var now: Int64
    var step = 0
    let company = try! CompanyID("sim")
    let serverReplica: ReplicaID
    let server: SimServer
    var devices: [SimDevice] = []
    var faults: FaultRates
    var counts = Counts()
    var faultCounts: [String: Int] = [:]
    var trace = SHA256()
    var oracle = Oracle()
    /// The server's log as read so far, and where each dot sits in it.
    var log: [LogEntry] = []
    var logged: [Dot: Int] = [:]
    var held: [HeldMessage] = []
    var answeredPushes: [(device: Int, wire: [UInt8])] = []
    var serial = 0

    init(_ parameters: SimulationParameters, directory: String) throws {
        self.parameters = parameters
        self.directory = directory
        rng = SeededRandom(seed: parameters.seed)
        now = start
        faults = parameters.faults
        serverReplica = ReplicaID(high: 0x5E4E_0000_0000_0000, low: parameters.seed)
        let users = try parameters.roles.enumerated().map { (try UserID(Self.user($0.offset, $0.element)), $0.element) }
        server = try SimServer(path: directory + "/server.sqlite", company: company, serverReplica: serverReplica, roles: users,
                               snapshotLagEntries: parameters.snapshotLagEntries,
                               snapshotChunkJobs: parameters.snapshotChunkJobs)
        for (index, (user, role)) in users.enumerated() {
            let credential = DeviceCredential(company: company, actor: Actor(user: user, role: role),
                                              replica: ReplicaID(high: 0xDE00_0000_0000_0000 | UInt64(index), low: parameters.seed))
            let identity = DeviceIdentity(company: company.rawValue, replica: credential.replica, actor: credential.actor, server: "sim://server", token: "sim")
            let replica = try FieldReplica.create(at: path(of: index, generation: 0), identity: identity)
            devices.append(SimDevice(index: index, role: role, credential: credential, replica: replica,
                                     skewMillis: parameters.skewMillis[index], driftPPM: parameters.driftPPM[index]))
        }
    }

    static func user(_ index: Int, _ role: Role) -> String { role == .technician ? "tech-\(index)" : "office-\(index)" }

    func path(of device: Int, generation: Int) -> String { directory + "/device-\(device)-\(generation).sqlite" }

    func note(_ line: String) { trace.update(Array((line + "\n").utf8)) }

    func count(_ fault: String) { faultCounts[fault, default: 0] += 1 }

    func broken(_ invariant: String, _ explanation: String, atEnd: Bool = false) -> InvariantBroken {
        InvariantBroken(failure: SimulationFailure(invariant: invariant, explanation: explanation, step: atEnd ? nil : step))
    }

    // MARK: The safety phase

    /// Runs the safety phase's events, then heals every fault and lets everyone converge.
    func run() async throws {
        for index in 0..<parameters.steps {
            step = index
            now += rng.int64(in: 0...parameters.gapMillisMax)
            try await deliverHeld(upTo: step)
            try await worldFaults()
            let device = devices[rng.int(in: 0...(devices.count - 1))]
            if rng.chance(parameters.actPercent) {
                try act(device)
            } else {
                try await sync(device, crashes: true)
            }
            try readLog()
        }
        try await converge()
        try checkEnd()
    }

    /// Faults that are not about one message: signal lost, crashes, restarts, clock jumps, replays.
    func worldFaults() async throws {
        func happens(_ perMille: Int) -> Bool { perMille > 0 && rng.int(in: 0...999) < perMille }
        if happens(faults.partition) {
            let device = rng.pick(devices)
            device.offlineUntil = max(device.offlineUntil, now + rng.int64(in: 60_000...parameters.offlineMillisMax))
            count("partition")
            note("offline d\(device.index) until +\((device.offlineUntil - now) / 60_000)m")
        }
        if happens(faults.crash) {
            let device = rng.pick(devices)
            // synchronous = FULL: what a commit returned is on disk, so losing power leaves the
            // same file as dying; what is lost is everything in memory.
            device.replica = try FieldReplica.open(at: device.replica.path)
            counts.crashes += 1
            count("crash")
            note("crash d\(device.index)")
        }
        if happens(faults.serverRestart) {
            try server.restart()
            counts.serverRestarts += 1
            count("server-restart")
            note("server restart")
        }
        if happens(faults.clockJump) {
            let device = rng.pick(devices)
            device.jumpMillis += rng.pick([-1, 1]) * rng.int64(in: 60_000...(3 * 86_400_000))
            count("clock-jump")
            note("clock d\(device.index) \(device.jumpMillis)")
        }
        if happens(faults.replay), !answeredPushes.isEmpty {
            let old = rng.pick(answeredPushes)
            try await deliver(old.wire, from: devices[old.device], altered: false)
            counts.replays += 1
            count("replay")
        }
        if happens(faults.alteredResend), !answeredPushes.isEmpty {
            let old = rng.pick(answeredPushes)
            try await deliver(old.wire, from: devices[old.device], altered: true)
            counts.alteredResends += 1
            count("altered-resend")
        }
    }

    /// Hands an old or held request to the server; the device has long stopped waiting for it.
    /// `altered`: one of its actions comes with another body under the same dot.
    func deliver(_ wire: [UInt8], from device: SimDevice, altered: Bool) async throws {
        guard case .pushRequest(var changeSet) = try SyncMessage.decode(wire), !changeSet.actions.isEmpty else { return }
        if altered {
            let original = changeSet.actions[rng.int(in: 0...(changeSet.actions.count - 1))]
            let day = (try? original.businessDay.adding(days: 1)) ?? original.businessDay
            let other = Action(dot: original.dot, hlc: original.hlc, actor: original.actor, job: original.job, seenSequence: original.seenSequence,
                               businessDay: day, payload: original.payload)
            changeSet = ChangeSet(replica: changeSet.replica, lastAppliedSequence: changeSet.lastAppliedSequence, appVersion: changeSet.appVersion,
                                  clock: changeSet.clock, actions: [other])
        }
        do {
            let answer = try await server.answer(.pushRequest(changeSet), from: device.credential)
            if case .pushResponse(let response) = answer {
                counts.duplicatesAbsorbed += response.outcomes.filter { $0 == .exists }.count
                note("resent d\(device.index) \(altered ? "altered " : "")\(changeSet.actions.map { "\($0.dot.counter)" }.joined(separator: ",")) -> \(response.outcomes.map(Self.name).joined(separator: ","))")
            }
        } catch let error as ServiceError {
            note("resent d\(device.index) refused \(error.code.rawValue)")
        }
    }

    func deliverHeld(upTo step: Int) async throws {
        let due = held.filter { $0.arrivesAt <= step }
        held.removeAll { $0.arrivesAt <= step }
        for message in due {
            try await deliver(message.wire, from: devices[message.device], altered: false)
            counts.delayedDelivered += 1
        }
    }

    /// A device's person does something: the office may instead take a portal payment on the server.
    func act(_ device: SimDevice) throws {
        if device.role != .technician, parameters.portalPercent > 0, rng.chance(parameters.portalPercent) {
            try portalPayment(by: device)
            return
        }
        let status = try device.replica.status(nowMillis: now)
        guard status.pending < SimulationLimits.pendingPerDeviceMax else {
            note("d\(device.index) outbox full")
            return
        }
        serial += 1
        let wall = device.wallMillis(now: now, start: start)
        let day = try CalendarDate(daysSinceEpoch: Int(wall / 86_400_000))
        guard let (payload, job) = Workload.next(role: device.role, view: try device.replica.view, jobsMax: parameters.jobsMax, serial: serial,
                                                 today: day, rng: &rng) else { return }
        counts.attempted += 1
        do {
            let (action, outcome) = try device.replica.perform(payload, job: job, day: day, wallMillis: wall)
            oracle.made(action, by: device.index)
            counts.committedLocally += 1
            note("d\(device.index) \(payload.kind.rawValue) #\(action.dot.counter) -> \(Self.name(outcome))")
        } catch let error as ClientError where error.code == .actionRefused {
            counts.refusedOnDevice += 1
            note("d\(device.index) \(payload.kind.rawValue) refused")
        }
    }

    /// A customer pays through the office's portal: the server records it as its own action.
    func portalPayment(by device: SimDevice) throws {
        let ledger = try server.service.projectedLedger(company: company)
        guard !ledger.jobs.isEmpty else { return }
        let job = rng.pick(ledger.jobs)
        let request = Workload.payment(for: job, rng: &rng)
        let payload = ActionPayload.recordPayment(PaymentRequest(amountMinor: request.amountMinor, currency: job.currency, method: .card))
        let day = try CalendarDate(daysSinceEpoch: Int(now / 86_400_000))
        let outcome = try server.service.act(company: company, actor: device.credential.actor, job: job.id, payload: payload, day: day, wallMillis: now)
        oracle.portal.append(payload)
        counts.portalPayments += 1
        note("portal \(job.id) \(request.amountMinor) -> \(Self.name(outcome))")
    }

    /// One sync of a device, perhaps with the device dying inside it.
    func sync(_ device: SimDevice, crashes: Bool) async throws {
        counts.syncs += 1
        var crashPoint: CrashPoint?
        if crashes && faults.crashInSync > 0 && rng.int(in: 0...999) < faults.crashInSync {
            switch rng.int(in: 0...3) {
            case 0: crashPoint = .beforeDelivery(index: rng.int(in: 0...2))
            case 1: crashPoint = .afterCommit(index: rng.int(in: 0...2))
            case 2: crashPoint = .afterAnswer(index: rng.int(in: 0...2))
            default: crashPoint = .afterPage(page: rng.int(in: 1...4))
            }
        }
        let capture = path(of: device.index, generation: device.generation + 1)
        let source = device.replica.path
        let captureError = Box<Error?>(nil)
        let transport = SimTransport(server: server, credential: device.credential, device: device.index, faults: faults, online: now >= device.offlineUntil,
                                     step: step, seed: rng.next(), crashPoint: crashPoint, captureFile: {
                                         do { try World.copy(source, to: capture) } catch { captureError.value = error }
                                     })
        let pages = Box(0)
        var failure: Error?
        var report: SyncReport?
        do {
            report = try await device.replica.sync(over: transport, pageEntries: parameters.pageEntries, saveEveryEntries: parameters.saveEveryEntries) { _ in
                pages.value += 1
                transport.pageFolded(pages.value)
            }
        } catch {
            failure = error
        }
        for event in transport.events { count(event.split(separator: " ").first.map(String.init) ?? event) }
        held += transport.held
        answeredPushes += transport.answeredPushes.map { (device.index, $0) }
        if let error = captureError.value { throw error }
        let outcomes = report?.outcomes.map { "\($0.dot.counter):\(Self.name($0.outcome))" }.joined(separator: ",") ?? ""
        note("sync d\(device.index) [\(transport.events.joined(separator: ","))] \(report.map { "ok \($0.cursor) \(outcomes)" } ?? "failed")")
        if let report {
            counts.duplicatesAbsorbed += report.outcomes.filter { $0.outcome == .exists }.count
            if !report.repairedJobs.isEmpty {
                throw broken("fold-differs", "device \(device.index)'s fold of jobs \(report.repairedJobs) differed from the server's and was repaired")
            }
        }
        if let failure {
            counts.syncsFailed += 1
            guard let error = failure as? ClientError, [.serverUnreachable, .syncFailed].contains(error.code) else {
                throw broken("sync-error", "device \(device.index)'s sync failed with \(failure)")
            }
        }
        if transport.crashed, let crashPoint {
            counts.crashes += 1
            count("crash-in-sync")
            device.generation += 1
            device.replica = try FieldReplica.open(at: capture)
            note("d\(device.index) died \(crashPoint)")
        }
        try checkAcknowledged(device)
    }

    /// Copies a SQLite file as a crash would leave it: its committed transactions.
    static func copy(_ source: String, to destination: String) throws {
        var configuration = Configuration()
        // The device's own file: wait for a lock as the device's commands do.
        configuration.busyMode = .timeout(ClientLimits.busyTimeoutSeconds)
        let from = try DatabaseQueue(path: source, configuration: configuration)
        let to = try DatabaseQueue(path: destination)
        try from.backup(to: to)
    }

    // MARK: Checks during the run

    /// Reads the entries the server logged since the last read and checks each at once: a dot
    /// at most once, made by a device (or the server) with the body it made.
    func readLog() throws {
        guard try server.service.head(company: company) != UInt64(log.count) else { return }
        var touched = Set<JobID>()
        for entry in try server.log(after: UInt64(log.count)) {
            if let job = entry.action.touchedJob { touched.insert(job) }
            guard entry.sequence == UInt64(log.count + 1) else {
                throw broken("log-order", "the server logged sequence \(entry.sequence) after \(log.count)")
            }
            if let first = logged[entry.action.dot] {
                throw broken("exactly-once", "dot \(entry.action.dot) is logged twice, at \(first + 1) and \(entry.sequence)")
            }
            logged[entry.action.dot] = log.count
            log.append(entry)
            // "Exists" answers a resent dot; the log holds each dot once, so an entry that says
            // it is a claim that something happened before when nothing did: an intention lost.
            if entry.outcome == .exists {
                throw broken("dropped", "log entry \(entry.sequence) (\(entry.action.payload.kind.rawValue)) is logged as already applied, but its dot was never logged before")
            }
            if entry.action.dot.replica == serverReplica { continue }
            guard let made = oracle.actions[entry.action.dot] else {
                throw broken("phantom", "log entry \(entry.sequence) (\(entry.action.dot)) was made by no device")
            }
            guard made.digest == CanonicalEncoding.digest(of: entry.action) else {
                throw broken("phantom", "log entry \(entry.sequence) carries another body than device \(made.device) made under \(entry.action.dot)")
            }
        }
        // The jobs just changed keep their invariants at every step, not only at the end.
        let ledger = try server.service.projectedLedger(company: company)
        for id in touched.sorted() {
            guard let job = try? ledger.job(id) else { continue }
            if let problem = (job.invariantViolations() + job.mergeInvariantViolations()).first {
                throw broken("job-invariant", "job \(id): \(problem)")
            }
        }
    }

    /// A device may call an action acknowledged only once the server's log holds it.
    func checkAcknowledged(_ device: SimDevice) throws {
        try readLog()
        for entry in try device.replica.outbox() where entry.status != .pending {
            guard logged[entry.action.dot] != nil else {
                throw broken("acknowledged-before-commit", "device \(device.index) shows action \(entry.action.dot.counter) as \(entry.status) but the server's log does not hold it")
            }
        }
    }

    // MARK: Convergence and the end

    /// Heals every fault, then lets every device sync, in order, until all match the server.
    func converge() async throws {
        faults = .none
        for device in devices {
            device.offlineUntil = 0
        }
        note("healed")
        try await deliverHeld(upTo: Int.max)
        try readLog()
        for round in 1...SimulationLimits.convergenceRounds {
            for device in devices {
                try await sync(device, crashes: false)
            }
            if try converged() {
                note("converged in \(round)")
                return
            }
        }
        throw broken("convergence", "after \(SimulationLimits.convergenceRounds) rounds of syncing with every fault healed, \(try laggards())", atEnd: true)
    }

    func converged() throws -> Bool { try laggards().isEmpty }

    /// What keeps devices from matching the server, as a sentence (empty when nothing does).
    func laggards() throws -> String {
        let head = UInt64(log.count)
        var problems: [String] = []
        for device in devices {
            let status = try device.replica.status(nowMillis: now)
            if status.pending > 0 { problems.append("device \(device.index) has \(status.pending) actions pending") }
            if device.replica.confirmedPosition.sequence != head {
                problems.append("device \(device.index) is at \(device.replica.confirmedPosition.sequence) of \(head)")
            }
        }
        return problems.joined(separator: "; ")
    }
}

/// A value a `@Sendable` callback sets and the world reads after the sync returned.
final class Box<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value

    init(_ value: Value) { stored = value }

    var value: Value {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}

/// Every action a device committed, as it committed it (independent of the replicas).
struct Oracle {
    struct Made {
        let device: Int
        let action: Action
        let digest: [UInt8]
    }

    var actions: [Dot: Made] = [:]
    /// Dots in the order they were made (for checks that must not depend on hash order).
    var order: [Dot] = []
    /// Portal payments the server took, in order.
    var portal: [ActionPayload] = []

    mutating func made(_ action: Action, by device: Int) {
        actions[action.dot] = Made(device: device, action: action, digest: CanonicalEncoding.digest(of: action))
        order.append(action.dot)
    }
}

extension World {
    static func name(_ outcome: Outcome) -> String {
        switch outcome {
        case .applied: "applied"
        case .exists: "exists"
        case .appliedWithException: "exception"
        case .parkedForReview: "parked"
        case .rejected(let error): "rejected(\(error.code.rawValue))"
        }
    }
}

import FieldClient
import Foundation
import LedgerCore
import LedgerService
import LedgerTestSupport
import SQLiteLedgerStorage
import SyncProtocol

/// The server side of a world: the real service on a real SQLite file, replaced by a fresh
/// one on the same file when the server restarts.
final class SimServer: @unchecked Sendable {
    let path: String
    let company: CompanyID
    let snapshotLagEntries: UInt64
    let snapshotChunkJobs: Int
    private(set) var service: LedgerService<SQLiteLedgerStorage>

    init(path: String, company: CompanyID, serverReplica: ReplicaID, roles: [(UserID, Role)], snapshotLagEntries: UInt64, snapshotChunkJobs: Int) throws {
        self.path = path
        self.company = company
        self.snapshotLagEntries = snapshotLagEntries
        self.snapshotChunkJobs = snapshotChunkJobs
        let storage = try SQLiteLedgerStorage(path: path)
        let admin = Administration(storage: storage)
        try admin.createCompany(company, serverReplica: serverReplica)
        for (user, role) in roles { try admin.setUser(user, role: role, company: company) }
        service = LedgerService(storage: storage, snapshotLagEntries: snapshotLagEntries, snapshotChunkJobs: snapshotChunkJobs)
    }

    /// Stops the service (its queued writes finish) and starts another on the same file: its
    /// memory is rebuilt from the stored snapshot and the log after it.
    func restart() throws {
        service.close()
        service = LedgerService(storage: try SQLiteLedgerStorage(path: path), snapshotLagEntries: snapshotLagEntries,
                                snapshotChunkJobs: snapshotChunkJobs)
    }

    /// The answer to a message as the HTTP handler gives it, or the error it would send.
    func answer(_ message: SyncMessage, from device: DeviceCredential) async throws -> SyncMessage {
        try await service.answer(message, from: device)
    }

    /// Every log entry, in order.
    func log(after sequence: UInt64 = 0) throws -> [LogEntry] {
        var entries: [LogEntry] = [], cursor = sequence
        while true {
            let page = try service.pull(company: company, after: cursor, limit: ServerSyncSession.pageEntriesMax)
            entries += page.entries
            cursor = page.checkpoint.sequence
            if page.checkpoint.caughtUp { return entries }
        }
    }
}

/// Where a device dies inside one sync. Only at points the sync passes one at a time: a
/// request the sync waits for directly (pushes, and the first pull), or after a page is folded.
enum CrashPoint: Hashable, Sendable, CustomStringConvertible {
    /// The `index`-th direct request is lost with the device: the server never sees it.
    case beforeDelivery(index: Int)
    /// The server commits the `index`-th direct request; the device dies before the answer.
    case afterCommit(index: Int)
    /// The answer to the `index`-th direct request arrives; the device dies before storing it.
    case afterAnswer(index: Int)
    /// The device dies after folding (and perhaps storing) its `page`-th page.
    case afterPage(page: Int)

    var description: String {
        switch self {
        case .beforeDelivery(let index): "before request \(index) reached the server"
        case .afterCommit(let index): "after the server committed request \(index)"
        case .afterAnswer(let index): "after the answer to request \(index), before storing it"
        case .afterPage(let page): "after folding page \(page)"
        }
    }
}

/// A message the network held back or kept, delivered to the server later.
struct HeldMessage: Sendable {
    let device: Int
    let wire: [UInt8]
    /// The step at (or after) which it arrives.
    let arrivesAt: Int
}

/// One device's link to the server for one sync: every message is encoded with the real
/// codec, maybe damaged, decoded by the real decoder, and handed to the real service.
/// Faults are drawn from a generator of this sync alone, in the order requests are made
/// (one at a time: a sync waits for each request before it makes the next).
final class SimTransport: SyncTransport, @unchecked Sendable {
    private let lock = NSLock()
    private let server: SimServer
    private let credential: DeviceCredential
    private let device: Int
    private let faults: FaultRates
    private let online: Bool
    private let step: Int
    private var rng: SeededRandom
    private let crashPoint: CrashPoint?
    /// Called at the crash point: copies what the device's file holds at that instant.
    private let captureFile: @Sendable () -> Void
    private var directRequests = 0
    private var pullsSeen = 0
    private(set) var crashed = false
    /// What happened, in order, for the trace and the counts.
    private(set) var events: [String] = []
    /// Requests held back (delay) and pushes the server answered (for later replays).
    private(set) var held: [HeldMessage] = []
    private(set) var answeredPushes: [[UInt8]] = []

    init(server: SimServer, credential: DeviceCredential, device: Int, faults: FaultRates, online: Bool, step: Int, seed: UInt64,
         crashPoint: CrashPoint?, captureFile: @escaping @Sendable () -> Void) {
        self.server = server
        self.credential = credential
        self.device = device
        self.faults = faults
        self.online = online
        self.step = step
        rng = SeededRandom(seed: seed)
        self.crashPoint = crashPoint
        self.captureFile = captureFile
    }

    private func note(_ event: String) { lock.withLock { events.append(event) } }

    /// The device hit its crash point: its file is copied now; the caller restarts it from
    /// the copy once the sync returned.
    private func crash() {
        lock.withLock { crashed = true }
        captureFile()
    }

    /// For the progress callback: the page crash point.
    func pageFolded(_ page: Int) {
        guard crashPoint == .afterPage(page: page), !lock.withLock({ crashed }) else { return }
        crash()
    }

    private static func unreachable(_ why: String) -> ClientError {
        ClientError(.serverUnreachable, "simulated: \(why)")
    }

    /// Flips or cuts `wire` as the drawn faults say; returns the name of what was done.
    private func damage(_ wire: inout [UInt8], corrupt: Bool, truncate: Bool, position: UInt64) -> String? {
        guard !wire.isEmpty else { return nil }
        if corrupt {
            let index = Int(position % UInt64(wire.count))
            wire[index] ^= UInt8(truncatingIfNeeded: position >> 32) | 1
            return "corrupt"
        }
        if truncate {
            wire.removeLast(1 + Int(position % UInt64(wire.count)))
            return "truncate"
        }
        return nil
    }

    func exchange(_ message: SyncMessage) async throws -> SyncMessage {
        // Every draw of this request, made up front in a fixed order.
        let (direct, index, draws) = lock.withLock { () -> (Bool, Int, [UInt64]) in
            var direct = false
            switch message {
            case .pushRequest: direct = true
            case .pullRequest:
                direct = pullsSeen == 0
                pullsSeen += 1
            default: break
            }
            let index = directRequests
            if direct { directRequests += 1 }
            return (direct, index, (0..<10).map { _ in rng.next() })
        }
        func roll(_ slot: Int, _ perMille: Int) -> Bool { perMille > 0 && Int(draws[slot] % 1000) < perMille }
        guard online else {
            note("offline")
            throw Self.unreachable("no signal")
        }
        let isPush: Bool
        if case .pushRequest = message { isPush = true } else { isPush = false }
        // A dead device sends nothing more. (A pull asked for ahead may still be under way
        // when a page crash point fires; it is a read, and whether it saw the crash would
        // depend on thread timing, so only requests the sync waits for directly stop here.)
        if direct && lock.withLock({ crashed }) {
            throw Self.unreachable("the device is off")
        }
        let crashHere = direct ? crashPoint : nil
        if crashHere == .beforeDelivery(index: index) {
            crash()
            throw Self.unreachable("the device died before the request left")
        }
        var wire = try message.encoded()
        if let damaged = damage(&wire, corrupt: roll(0, faults.corrupt), truncate: roll(1, faults.truncate), position: draws[9]) {
            note("request-\(damaged)")
        }
        let received: SyncMessage
        do {
            received = try SyncMessage.decode(wire)
        } catch {
            // The server's answer to a body it cannot read (HTTP 400 with an error message).
            note("request-refused")
            return .error(code: error.code.rawValue, message: error.message)
        }
        if roll(2, faults.drop) {
            note("drop")
            throw Self.unreachable("request lost")
        }
        if isPush && roll(3, faults.delay) {
            note("delay")
            lock.withLock { held.append(HeldMessage(device: device, wire: wire, arrivesAt: step + 1 + Int(draws[8] % 20))) }
            throw Self.unreachable("request held up; the device gave up waiting")
        }
        var answer: SyncMessage
        do {
            answer = try await server.answer(received, from: credential)
            if roll(4, faults.duplicate) {
                note("duplicate")
                answer = try await server.answer(received, from: credential)
            }
        } catch let error as ServiceError {
            note("server-error \(error.code.rawValue)")
            throw ClientError(.serverUnreachable, "simulated: the server answered an error (\(error))")
        }
        if isPush, case .pushResponse = answer { lock.withLock { answeredPushes.append(wire) } }
        if crashHere == .afterCommit(index: index) {
            crash()
            throw Self.unreachable("the device died before the answer came")
        }
        if roll(5, faults.loseResponse) {
            note("lose-response")
            throw Self.unreachable("answer lost")
        }
        var back = try answer.encoded()
        if let damaged = damage(&back, corrupt: roll(6, faults.corrupt), truncate: roll(7, faults.truncate), position: draws[9] >> 7) {
            note("answer-\(damaged)")
        }
        guard let decoded = try? SyncMessage.decode(back) else {
            throw Self.unreachable("the answer did not decode")
        }
        if crashHere == .afterAnswer(index: index) { crash() }
        return decoded
    }

    /// The server's copy of a job, for a repair (no faults: a repair is rare and read-only).
    func job(_ id: JobID) async throws -> Job? {
        note("repair \(id)")
        return try? server.service.projectedLedger(company: server.company).job(id)
    }
}

import LedgerCore
import LedgerTestSupport

/// How often each fault happens in one world, in parts per thousand of the chances it gets.
/// Each seed draws its own rates and turns some faults off entirely (swarm testing): a bug
/// that one fault hides behind another shows in the worlds where the other is off.
public struct FaultRates: Hashable, Sendable {
    /// A request lost on its way: the server never sees it.
    public var drop = 0
    /// A request delivered twice; the device hears the second answer.
    public var duplicate = 0
    /// A request held back and delivered later, after the device gave up on it.
    public var delay = 0
    /// The server committed, the answer never came back.
    public var loseResponse = 0
    /// Bytes of a request or an answer flipped on the way.
    public var corrupt = 0
    /// A request or an answer cut short.
    public var truncate = 0
    /// The device dies somewhere inside a sync (after sending, after the answer, mid-pull).
    public var crashInSync = 0
    /// The device dies (or loses power) between two things it does.
    public var crash = 0
    /// A device loses signal for a while: minutes to weeks.
    public var partition = 0
    /// The server process restarts.
    public var serverRestart = 0
    /// A device's clock jumps (a wrong time set by hand, a dead battery).
    public var clockJump = 0
    /// An old change set arrives again (a proxy, a retry queue).
    public var replay = 0
    /// A device sends one of its old actions again with another body.
    public var alteredResend = 0

    /// Every rate with its name, in a fixed order.
    public var named: [(name: String, perMille: Int)] {
        [("drop", drop), ("duplicate", duplicate), ("delay", delay), ("lose-response", loseResponse), ("corrupt", corrupt), ("truncate", truncate),
         ("crash-in-sync", crashInSync), ("crash", crash), ("partition", partition), ("server-restart", serverRestart), ("clock-jump", clockJump),
         ("replay", replay), ("altered-resend", alteredResend)]
    }

    /// No faults at all: the healed world of the convergence phase.
    public static let none = FaultRates()
}

/// Everything one world does, derived from its seed (and overridable from the command line).
public struct SimulationParameters: Hashable, Sendable {
    /// The number that derives everything else.
    public let seed: UInt64
    /// Each device's role, in device order (device 0 is always an office user's).
    public var roles: [Role]
    /// Events in the safety phase (faults on).
    public var steps: Int
    /// Jobs the office opens at most.
    public var jobsMax: Int
    /// Log entries a device asks for per pull page.
    public var pageEntries: UInt32
    /// Entries a device folds before it stores them mid-sync.
    public var saveEveryEntries: Int
    /// Log entries between the server's stored snapshots.
    public var snapshotLagEntries: UInt64
    /// Jobs per write of a snapshot (decision 0038): small enough here that snapshots of these
    /// worlds' few jobs take several writes, between which the server may restart.
    public var snapshotChunkJobs: Int
    /// Percent of events that are a device acting (the rest: syncs and faults).
    public var actPercent: Int
    /// Percent of the office's acts that are portal payments taken by the server itself.
    public var portalPercent: Int
    /// The fault rates of the safety phase.
    public var faults: FaultRates
    /// Each device's clock offset from true time, in milliseconds.
    public var skewMillis: [Int64]
    /// Each device's clock drift, in parts per million.
    public var driftPPM: [Int64]
    /// The longest a device stays offline, in milliseconds.
    public var offlineMillisMax: Int64
    /// The longest time between two events, in milliseconds.
    public var gapMillisMax: Int64

    /// The world of `seed`: devices, workload and faults drawn from one generator.
    public init(seed: UInt64) {
        self.seed = seed
        var rng = SeededRandom(seed: seed ^ 0x51D0_F1E1_D1ED_6E55)
        // Most worlds are small (fast, and small worlds collide more); some are crowded.
        let deviceCount = rng.chance(80) ? rng.int(in: 1...6) : rng.int(in: 7...SimulationLimits.devicesMax)
        roles = [.office] + (1..<max(deviceCount, 1)).map { _ in rng.chance(20) ? Role.office : .technician }
        steps = rng.int(in: 60...SimulationLimits.defaultStepsMax)
        jobsMax = rng.int(in: 1...8)
        pageEntries = UInt32(rng.pick([1, 2, 3, 5, 8, 20, 100, 5_000]))
        saveEveryEntries = rng.pick([1, 3, 10, 50_000])
        snapshotLagEntries = UInt64(rng.pick([1, 7, 50, 1_000]))
        actPercent = rng.int(in: 35...75)
        portalPercent = rng.chance(50) ? 0 : rng.int(in: 5...30)
        func rate(_ high: Int) -> Int { rng.chance(35) ? 0 : rng.int(in: 1...high) }
        faults = FaultRates(drop: rate(150), duplicate: rate(100), delay: rate(80), loseResponse: rate(150), corrupt: rate(60), truncate: rate(60),
                            crashInSync: rate(150), crash: rate(40), partition: rate(60), serverRestart: rate(20), clockJump: rate(20),
                            replay: rate(40), alteredResend: rate(20))
        let skewMax: Int64 = rng.pick([0, 60_000, 3_600_000, 172_800_000])
        skewMillis = roles.indices.map { _ in skewMax == 0 ? 0 : rng.int64(in: -skewMax...skewMax) }
        driftPPM = roles.indices.map { _ in rng.chance(50) ? 0 : rng.int64(in: -500...500) }
        let minute: Int64 = 60_000, hour: Int64 = 3_600_000, day: Int64 = 86_400_000
        offlineMillisMax = rng.pick([10 * minute, 6 * hour, 3 * day, 21 * day])
        gapMillisMax = rng.pick([minute, 20 * minute, 4 * hour])
        // From a generator of its own, so that the draws above stay what they were for every seed.
        var chunks = SeededRandom(seed: seed ^ 0xC4_0A6C)
        snapshotChunkJobs = chunks.pick([1, 2, 3, 100])
    }

    /// The same world with `count` devices: extra ones drawn from the seed as well, so an
    /// override is as repeatable as the default.
    public mutating func resize(devices count: Int) {
        var rng = SeededRandom(seed: seed ^ 0xD5_1CE5)
        let skewMax = skewMillis.map { abs($0) }.max() ?? 0
        while roles.count < count {
            roles.append(rng.chance(20) ? .office : .technician)
            skewMillis.append(skewMax == 0 ? 0 : rng.int64(in: -skewMax...skewMax))
            driftPPM.append(rng.chance(50) ? 0 : rng.int64(in: -500...500))
        }
        roles = Array(roles.prefix(max(count, 1)))
        skewMillis = Array(skewMillis.prefix(roles.count))
        driftPPM = Array(driftPPM.prefix(roles.count))
    }

    /// The parameters as lines, printed before the run so a reader knows which world this was.
    public var summary: [String] {
        let offices = roles.filter { $0 != .technician }.count
        var lines = [
            "devices \(roles.count) (office \(offices), technician \(roles.count - offices)), steps \(steps), jobs up to \(jobsMax)",
            "pages of \(pageEntries) entries, stored every \(saveEveryEntries), server snapshot every \(snapshotLagEntries) in chunks of \(snapshotChunkJobs) jobs; acting \(actPercent)%, portal payments \(portalPercent)% of the office's",
        ]
        lines.append("faults (per mille): " + faults.named.map { $0.perMille == 0 ? "\($0.name) off" : "\($0.name) \($0.perMille)" }.joined(separator: ", "))
        lines.append("clocks: skew " + skewMillis.map { "\($0 / 1000)s" }.joined(separator: " ") + "; drift " + driftPPM.map { "\($0)ppm" }.joined(separator: " "))
        lines.append("offline up to \(offlineMillisMax / 60_000) min, gaps up to \(gapMillisMax / 60_000) min")
        return lines
    }
}

/// The simulator's bounds, in one place.
public enum SimulationLimits {
    /// Devices in one world, at most.
    public static let devicesMax = 50
    /// Safety-phase events of a default-size world, at most.
    public static let defaultStepsMax = 300
    /// Rounds of everyone syncing, with faults healed, within which every device must drain its
    /// outbox and match the server.
    public static let convergenceRounds = 4
    /// Actions one device has waiting before it stops acting until it syncs (a phone's outbox is
    /// not unbounded in practice, and long outboxes only slow the run).
    public static let pendingPerDeviceMax = 60
}

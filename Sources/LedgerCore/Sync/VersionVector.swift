/// How two version vectors relate. A partial order: "concurrent" is a real answer.
public enum CausalOrder: String, Hashable, Sendable, Codable {
    case equal
    /// The left side happened before the right (every dot it has, the right has too).
    case before
    /// The left side includes everything the right has, and more.
    case after
    case concurrent
}

/// For each replica, the highest counter of its actions that touched a job.
///
/// Because the server logs each replica's actions in counter order, seeing a replica's action
/// N on a job implies seeing its earlier ones on that job, so the maxima describe the whole
/// set of dots. Entries are kept sorted by replica and never hold a zero counter.
public struct VersionVector: Hashable, Sendable, Codable, CustomStringConvertible {
    /// One replica's highest counter.
    public struct Entry: Hashable, Sendable, Codable {
        public let replica: ReplicaID
        public let counter: UInt64

        /// Makes an entry.
        public init(replica: ReplicaID, counter: UInt64) {
            self.replica = replica
            self.counter = counter
        }
    }

    public private(set) var entries: [Entry]

    /// The empty vector: nothing seen.
    public init() { entries = [] }

    /// Entries read back from a store's record, kept only if sorted, distinct and non-zero as
    /// written; otherwise rebuilt as from any entries.
    init(record entries: [Entry]) {
        let sound = !entries.contains { $0.counter == 0 } && zip(entries, entries.dropFirst()).allSatisfy { $0.replica < $1.replica }
        self.init()
        if sound {
            self.entries = entries
        } else {
            for entry in entries { record(Dot(replica: entry.replica, counter: entry.counter)) }
        }
    }

    /// A vector from entries in any order; duplicates keep their highest counter, zeros vanish.
    public init(_ entries: [Entry]) {
        self.init()
        for entry in entries { record(Dot(replica: entry.replica, counter: entry.counter)) }
    }

    /// The highest counter seen from `replica` (0 when none).
    public subscript(replica: ReplicaID) -> UInt64 {
        guard let index = position(of: replica) else { return 0 }
        return entries[index].counter
    }

    /// Whether the dot is covered.
    public func contains(_ dot: Dot) -> Bool { self[dot.replica] >= dot.counter }

    /// Covers `dot` (and, per replica, everything before it).
    public mutating func record(_ dot: Dot) {
        guard dot.counter > 0 else { return }
        if let index = position(of: dot.replica) {
            if entries[index].counter < dot.counter { entries[index] = Entry(replica: dot.replica, counter: dot.counter) }
        } else {
            let insertAt = entries.firstIndex { dot.replica < $0.replica } ?? entries.count
            entries.insert(Entry(replica: dot.replica, counter: dot.counter), at: insertAt)
        }
    }

    /// Covers everything `other` covers.
    public mutating func merge(_ other: VersionVector) {
        for entry in other.entries { record(Dot(replica: entry.replica, counter: entry.counter)) }
    }

    /// Whether this vector has a dot that `context` does not cover: the author of an action with
    /// that context had not seen everything here.
    public func hasDotsNotIn(_ context: VersionVector) -> Bool {
        entries.contains { $0.counter > context[$0.replica] }
    }

    /// The partial order between this vector and `other`.
    public func compare(_ other: VersionVector) -> CausalOrder {
        let missingFromOther = hasDotsNotIn(other)
        let missingFromSelf = other.hasDotsNotIn(self)
        switch (missingFromOther, missingFromSelf) {
        case (false, false): return .equal
        case (false, true): return .before
        case (true, false): return .after
        case (true, true): return .concurrent
        }
    }

    public var description: String {
        "[" + entries.map { "\($0.replica.description.prefix(8)):\($0.counter)" }.joined(separator: ", ") + "]"
    }

    private func position(of replica: ReplicaID) -> Int? {
        // Vectors are short (the replicas that touched one job); a linear scan beats a search.
        entries.firstIndex { $0.replica == replica }
    }
}

/// For each replica, the log sequence of its latest change of one kind (payments, or plan
/// changes) to a job: what the merge compares an action's `seenSequence` with (decision 0009).
///
/// A change applied on a device before the log has it (its own pending action) sits at
/// `ChangeMarks.unlogged`. Marks are kept sorted by replica.
public struct ChangeMarks: Hashable, Sendable, Codable {
    /// One replica's latest change.
    public struct Mark: Hashable, Sendable, Codable {
        public let replica: ReplicaID
        public let sequence: UInt64
    }

    /// Where a change not yet in the log sits: after everything.
    public static let unlogged = UInt64.max

    public private(set) var marks: [Mark] = []

    /// No changes.
    public init() {}

    /// Marks read back from a store's record, sorted by replica as written (re-sorted otherwise).
    init(record marks: [Mark]) {
        self.marks = marks.sorted { $0.replica < $1.replica }
    }

    /// Records a change by `replica` at log `sequence`.
    mutating func record(_ replica: ReplicaID, sequence: UInt64) {
        if let index = marks.firstIndex(where: { $0.replica == replica }) {
            marks[index] = Mark(replica: replica, sequence: max(marks[index].sequence, sequence))
        } else {
            let insertAt = marks.firstIndex { replica < $0.replica } ?? marks.count
            marks.insert(Mark(replica: replica, sequence: sequence), at: insertAt)
        }
    }

    /// The latest change by another replica than `author` after log sequence `seen`, if any.
    func latestChange(unseenBy author: ReplicaID, seen: UInt64) -> Mark? {
        marks.filter { $0.replica != author && $0.sequence > seen }.max { ($0.sequence, $0.replica) < ($1.sequence, $1.replica) }
    }

    /// Whether another replica than `author` made a change after log sequence `seen`: a change
    /// the author had not seen. The author's own earlier changes are always seen.
    public func hasChanges(unseenBy author: ReplicaID, seen: UInt64) -> Bool {
        marks.contains { $0.replica != author && $0.sequence > seen }
    }
}

/// A hybrid logical clock: physical time when the clock is sane, logical counts when it is not.
///
/// Device clocks may be hours or days off. The clock never refuses a reading because of that;
/// it only keeps its own readings increasing and after every reading it has received. The
/// physical time is an argument, so the core never reads a clock.
public struct HybridLogicalClock: Hashable, Sendable, Codable {
    /// The latest reading this clock gave or received.
    public private(set) var last: HLCTimestamp

    /// Starts a clock whose first reading comes after `last`.
    public init(last: HLCTimestamp = HLCTimestamp(wallMillis: 0)) {
        self.last = last
    }

    /// A reading for a local event or a message about to be sent.
    public mutating func tick(physicalMillis: Int64) -> HLCTimestamp {
        let wall = max(last.wallMillis, physicalMillis)
        last = wall == last.wallMillis ? bumped(wall, last.logical) : HLCTimestamp(wallMillis: wall, logical: 0)
        return last
    }

    /// A reading after receiving `remote`: later than both it and everything this clock gave.
    public mutating func receive(_ remote: HLCTimestamp, physicalMillis: Int64) -> HLCTimestamp {
        let wall = max(last.wallMillis, remote.wallMillis, physicalMillis)
        let sameAsLast = wall == last.wallMillis, sameAsRemote = wall == remote.wallMillis
        if sameAsLast && sameAsRemote {
            last = bumped(wall, max(last.logical, remote.logical))
        } else if sameAsLast {
            last = bumped(wall, last.logical)
        } else if sameAsRemote {
            last = bumped(wall, remote.logical)
        } else {
            last = HLCTimestamp(wallMillis: wall, logical: 0)
        }
        return last
    }

    // The logical counter never wraps: at its end the reading moves to the next millisecond.
    private func bumped(_ wall: Int64, _ logical: UInt32) -> HLCTimestamp {
        logical == UInt32.max ? HLCTimestamp(wallMillis: wall + 1, logical: 0) : HLCTimestamp(wallMillis: wall, logical: logical + 1)
    }
}

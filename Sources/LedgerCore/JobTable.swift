/// A ledger's jobs, stored one after another and found by id (decision 0033).
///
/// A dictionary of jobs keeps each `Job` (~690 bytes) in its buckets, and a dictionary has up
/// to twice the buckets it has entries: a company of 10,000 jobs took 11.7 MB that way. Here
/// the jobs sit in an array sized to them and the dictionary holds only positions. The order of
/// the array is the order jobs arrived, which differs between replicas, so nothing reads it:
/// listing goes by id, and equality and hashing ignore it.
struct JobTable: Sendable {
    private var slots: [Job] = []
    private var positions: [JobID: Int] = [:]

    init() {}

    /// The number of jobs.
    var count: Int { slots.count }

    /// Room for `count` jobs without growing.
    mutating func reserveCapacity(_ count: Int) {
        slots.reserveCapacity(count)
        positions.reserveCapacity(count)
    }

    /// The job with this id; setting nil removes it.
    subscript(id: JobID) -> Job? {
        get { positions[id].map { slots[$0] } }
        set {
            switch (positions[id], newValue) {
            case (let index?, let job?): slots[index] = job
            case (nil, let job?):
                positions[id] = slots.count
                slots.append(job)
            case (let index?, nil): remove(at: index, id: id)
            case (nil, nil): break
            }
        }
    }

    /// Whether a job with this id is here.
    func contains(_ id: JobID) -> Bool { positions[id] != nil }

    /// Runs `body` on the stored job itself, not a copy (a copy of a job is a copy of its
    /// arrays' references, and its first change then copies the arrays); nil when absent.
    mutating func update<Result>(_ id: JobID, _ body: (inout Job) -> Result) -> Result? {
        guard let index = positions[id] else { return nil }
        return body(&slots[index])
    }

    /// Every id, in order.
    var sortedIDs: [JobID] { positions.keys.sorted() }

    private mutating func remove(at index: Int, id: JobID) {
        let last = slots.count - 1
        if index != last {
            slots.swapAt(index, last)
            positions[slots[index].id] = index
        }
        slots.removeLast()
        positions[id] = nil
    }
}

extension JobTable: Hashable {
    static func == (lhs: JobTable, rhs: JobTable) -> Bool {
        guard lhs.count == rhs.count else { return false }
        return lhs.slots.allSatisfy { rhs[$0.id] == $0 }
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(count)
        for id in sortedIDs { hasher.combine(id) }
    }
}

/// Canonical bytes that do not read back as the type asked for.
public struct CanonicalDecodingError: Error, Hashable, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

extension CanonicalEncoding {
    /// Reads a value back from its canonical bytes (the server stores log entries and jobs so).
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        var reader = CanonicalReader(bytes: bytes)
        let tree = try reader.value(depth: 0)
        guard reader.offset == bytes.count else { throw CanonicalDecodingError(message: "\(bytes.count - reader.offset) bytes follow the value") }
        return try decodeTree(type, tree, codingPath: [])
    }
}

/// The tagged tree `Node.write` produces, read back.
indirect enum CanonicalValue {
    case null
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case string(String)
    case keyed([(key: String, value: CanonicalValue)])
    case unkeyed([CanonicalValue])
}

struct CanonicalReader {
    /// Deeper trees are refused rather than followed (stored values nest a dozen levels).
    static let depthMax = 64
    let bytes: [UInt8]
    var offset = 0

    mutating func value(depth: Int) throws -> CanonicalValue {
        guard depth < Self.depthMax else { throw CanonicalDecodingError(message: "nested deeper than \(Self.depthMax)") }
        switch try byte() {
        case 0: return .null
        case 1:
            switch try byte() {
            case 0: return .bool(false)
            case 1: return .bool(true)
            default: throw CanonicalDecodingError(message: "a boolean is 0 or 1")
            }
        case 2:
            let zigzag = try varint()
            return .int(Int64(bitPattern: (zigzag >> 1) ^ (0 &- (zigzag & 1))))
        case 3: return .uint(try varint())
        case 4: return .string(try string())
        case 5:
            let count = try length()
            var entries: [(key: String, value: CanonicalValue)] = []
            entries.reserveCapacity(count)
            for _ in 0..<count { entries.append((try string(), try value(depth: depth + 1))) }
            return .keyed(entries)
        case 6:
            let count = try length()
            var items: [CanonicalValue] = []
            items.reserveCapacity(count)
            for _ in 0..<count { items.append(try value(depth: depth + 1)) }
            return .unkeyed(items)
        case let tag: throw CanonicalDecodingError(message: "unknown tag \(tag) at byte \(offset - 1)")
        }
    }

    private mutating func byte() throws -> UInt8 {
        guard offset < bytes.count else { throw CanonicalDecodingError(message: "the bytes end inside a value") }
        defer { offset += 1 }
        return bytes[offset]
    }

    private mutating func varint() throws -> UInt64 {
        guard let value = readVarint(bytes, at: &offset) else {
            throw CanonicalDecodingError(message: offset >= bytes.count ? "the bytes end inside a value" : "a number runs past 64 bits")
        }
        return value
    }

    /// A count or byte length, which can be no more than the bytes left.
    private mutating func length() throws -> Int {
        let count = try varint()
        guard count <= UInt64(bytes.count - offset) else { throw CanonicalDecodingError(message: "a length runs past the end") }
        return Int(count)
    }

    private mutating func string() throws -> String {
        let count = try length()
        defer { offset += count }
        return String(decoding: bytes[offset..<(offset + count)], as: UTF8.self)
    }
}

/// Numbers and strings directly; anything else through its own `init(from:)`.
func decodeTree<T: Decodable>(_ type: T.Type, _ value: CanonicalValue, codingPath: [any CodingKey]) throws -> T {
    func mismatch(_ expected: String) -> CanonicalDecodingError {
        CanonicalDecodingError(message: "expected \(expected) at \(codingPath.map(\.stringValue).joined(separator: ".")), found \(value)")
    }
    func signed() throws -> Int64 {
        switch value {
        case .int(let number): return number
        case .uint(let number) where number <= UInt64(Int64.max): return Int64(number)
        default: throw mismatch("a signed number")
        }
    }
    func unsigned() throws -> UInt64 {
        switch value {
        case .uint(let number): return number
        case .int(let number) where number >= 0: return UInt64(number)
        default: throw mismatch("an unsigned number")
        }
    }
    func fit<N: BinaryInteger>(_ number: some BinaryInteger, _: N.Type) throws -> N {
        guard let fitted = N(exactly: number) else { throw mismatch("a number that fits \(N.self)") }
        return fitted
    }
    // Metadata comparisons rather than dynamic casts: this runs for every stored value read.
    if T.self == String.self {
        guard case .string(let text) = value else { throw mismatch("a string") }
        return unsafeBitCast(text, to: T.self)
    } else if T.self == UInt64.self {
        return unsafeBitCast(try unsigned(), to: T.self)
    } else if T.self == Int64.self {
        return unsafeBitCast(try signed(), to: T.self)
    } else if T.self == Int.self {
        return unsafeBitCast(try fit(try signed(), Int.self), to: T.self)
    } else if T.self == Bool.self {
        guard case .bool(let flag) = value else { throw mismatch("a boolean") }
        return unsafeBitCast(flag, to: T.self)
    } else if T.self == Int32.self {
        return unsafeBitCast(try fit(try signed(), Int32.self), to: T.self)
    } else if T.self == UInt32.self {
        return unsafeBitCast(try fit(try unsigned(), UInt32.self), to: T.self)
    } else if T.self == UInt.self {
        return unsafeBitCast(try fit(try unsigned(), UInt.self), to: T.self)
    }
    return try T(from: TreeDecoder(value: value, codingPath: codingPath))
}

struct TreeDecoder: Decoder {
    let value: CanonicalValue
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .keyed(let entries) = value else { throw CanonicalDecodingError(message: "expected a keyed value, found \(value)") }
        return KeyedDecodingContainer(KeyedReader(entries: entries, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .unkeyed(let items) = value else { throw CanonicalDecodingError(message: "expected a list, found \(value)") }
        return UnkeyedReader(items: items, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { SingleReader(value: value, codingPath: codingPath) }
}

struct KeyedReader<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let entries: [(key: String, value: CanonicalValue)]
    let codingPath: [any CodingKey]

    var allKeys: [Key] { entries.compactMap { Key(stringValue: $0.key) } }
    func contains(_ key: Key) -> Bool { entries.contains { $0.key == key.stringValue } }

    private func value(_ key: Key) throws -> CanonicalValue {
        guard let found = entries.first(where: { $0.key == key.stringValue }) else {
            throw CanonicalDecodingError(message: "no '\(key.stringValue)' at \(codingPath.map(\.stringValue).joined(separator: "."))")
        }
        return found.value
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        if case .null = try value(key) { return true }
        return false
    }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try decodeTree(type, try value(key), codingPath: codingPath) }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try decodeTree(type, try value(key), codingPath: codingPath) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try decodeTree(type, try value(key), codingPath: codingPath) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try decodeTree(type, try value(key), codingPath: codingPath) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try decodeTree(type, try value(key), codingPath: codingPath) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try decodeTree(type, try value(key), codingPath: codingPath) }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try TreeDecoder(value: try value(key), codingPath: codingPath + [key]).container(keyedBy: type)
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try TreeDecoder(value: try value(key), codingPath: codingPath + [key]).unkeyedContainer()
    }
    func superDecoder() throws -> any Decoder {
        guard let found = entries.first(where: { $0.key == "super" }) else { throw CanonicalDecodingError(message: "no 'super'") }
        return TreeDecoder(value: found.value, codingPath: codingPath)
    }
    func superDecoder(forKey key: Key) throws -> any Decoder { TreeDecoder(value: try value(key), codingPath: codingPath + [key]) }
}

struct UnkeyedReader: UnkeyedDecodingContainer {
    let items: [CanonicalValue]
    let codingPath: [any CodingKey]
    var currentIndex = 0
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    private mutating func next() throws -> CanonicalValue {
        guard !isAtEnd else { throw CanonicalDecodingError(message: "a list ends early at \(codingPath.map(\.stringValue).joined(separator: "."))") }
        defer { currentIndex += 1 }
        return items[currentIndex]
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, case .null = items[currentIndex] else { return false }
        currentIndex += 1
        return true
    }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try decodeTree(type, try next(), codingPath: codingPath) }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try TreeDecoder(value: try next(), codingPath: codingPath).container(keyedBy: type)
    }
    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try TreeDecoder(value: try next(), codingPath: codingPath).unkeyedContainer()
    }
    mutating func superDecoder() throws -> any Decoder { TreeDecoder(value: try next(), codingPath: codingPath) }
}

struct SingleReader: SingleValueDecodingContainer {
    let value: CanonicalValue
    let codingPath: [any CodingKey]

    func decodeNil() -> Bool {
        if case .null = value { return true }
        return false
    }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decodeTree(type, value, codingPath: codingPath) }
}

extension CanonicalEncoding {
    /// Reads a log entry back from its canonical bytes. The shapes the server logs most (a
    /// payment, any outcome but a rejection) are read by hand in the order the encoder writes
    /// them; any other payload or outcome goes through `decode` for that part alone, and bytes
    /// that are not in that order at all through `decode` whole, which also gives the error.
    /// A server answering a pull reads every entry it sends this way.
    public static func decodeEntry(_ bytes: [UInt8]) throws -> LogEntry {
        var scanner = EntryScanner(bytes: bytes)
        if let entry = try? scanner.entry(), scanner.offset == bytes.count { return entry }
        return try decode(LogEntry.self, from: bytes)
    }
}

extension CanonicalEncoding {
    /// Reads an action back from its canonical bytes, by hand as `decodeEntry` reads the action
    /// of an entry (a device reads every action of its outbox each time a command opens it).
    public static func decodeAction(_ bytes: [UInt8]) throws -> Action {
        var scanner = EntryScanner(bytes: bytes)
        if let action = try? scanner.action(), scanner.offset == bytes.count { return action }
        return try decode(Action.self, from: bytes)
    }

    /// Reads an outcome back from its canonical bytes, by hand as `decodeEntry` reads one.
    public static func decodeOutcome(_ bytes: [UInt8]) throws -> Outcome {
        var scanner = EntryScanner(bytes: bytes)
        if let outcome = try? scanner.outcome(), scanner.offset == bytes.count { return outcome }
        return try decode(Outcome.self, from: bytes)
    }
}

/// The hand-written reader behind `decodeEntry`; any surprise throws and the caller falls back.
struct EntryScanner {
    struct Unexpected: Error {}

    let bytes: [UInt8]
    var offset = 0

    mutating func entry() throws -> LogEntry {
        try keyed(3)
        try key("sequence")
        let sequence = try uint()
        try key("action")
        let action = try self.action()
        try key("outcome")
        return LogEntry(sequence: sequence, action: action, outcome: try outcome())
    }

    mutating func action() throws -> Action {
        let count = try keyedCount()
        guard count == 6 || count == 7 else { throw Unexpected() }
        try key("dot")
        let dot = try self.dot()
        try key("hlc")
        let hlc = try self.hlc()
        try key("actor")
        let actor = try self.actor()
        var job: JobID?
        if count == 7 {
            try key("job")
            job = JobID(try dotIdentifier())
        }
        try key("seenSequence")
        let seen = try uint()
        try key("businessDay")
        let day = try date()
        try key("payload")
        return Action(dot: dot, hlc: hlc, actor: actor, job: job, seenSequence: seen, businessDay: day, payload: try payload())
    }

    /// Every payload the encoder writes by hand, read back in the same order; settings and
    /// job-info updates through the generic decoder.
    mutating func payload() throws -> ActionPayload {
        let start = offset
        guard try keyedCount() == 1 else { throw Unexpected() }
        let name = try rawString()
        let count = try keyedCount()
        switch name {
        case "createJob":
            guard count == 4 || count == 5 else { throw Unexpected() }
            try key("number")
            let number = try string()
            try key("customer")
            try keyed(2)
            try key("name")
            let customer = try string()
            try key("remindersOptOut")
            let optOut = try bool()
            var department: String?
            if count == 5 {
                try key("department")
                department = try string()
            }
            try key("currency")
            let currency = try self.currency()
            try key("notes")
            return .createJob(number: number, customer: Customer(name: customer, remindersOptOut: optOut), department: department, currency: currency, notes: try string())
        case "setInvoice":
            guard count == 2 || count == 3 else { throw Unexpected() }
            try key("number")
            let number = try string()
            try key("baseTotalMinor")
            let total = try int()
            var issued: CalendarDate?
            if count == 3 {
                try key("issuedOn")
                issued = try date()
            }
            return .setInvoice(number: number, baseTotalMinor: total, issuedOn: issued)
        case "finalizeInvoice", "voidInvoice", "cancelPlan":
            guard count == 0 else { throw Unexpected() }
            return name == "finalizeInvoice" ? .finalizeInvoice : name == "voidInvoice" ? .voidInvoice : .cancelPlan
        case "createPlan", "editPlan":
            guard count == 1 else { throw Unexpected() }
            try key("_0")
            let draft = try self.draft()
            return name == "createPlan" ? .createPlan(draft) : .editPlan(draft)
        case "editInstallment":
            guard count == 2 || count == 3 else { throw Unexpected() }
            try key("_0")
            let id = try installmentID()
            var label: String?
            if count == 3 {
                try key("label")
                label = try string()
            }
            try key("dueDate")
            guard try keyedCount() == 1 else { throw Unexpected() }
            let change: DueDateChange
            switch try rawString() {
            case "keep":
                try keyed(0)
                change = .keep
            case "clear":
                try keyed(0)
                change = .clear
            case "set":
                try keyed(1)
                try key("_0")
                change = .set(try date())
            default: throw Unexpected()
            }
            return .editInstallment(id, label: label, dueDate: change)
        case "recordPayment":
            guard count == 1 else { throw Unexpected() }
            try key("_0")
            let fields = try keyedCount()
            guard fields == 4 || fields == 5 else { throw Unexpected() }
            try key("amountMinor")
            let amount = try int()
            try key("currency")
            let currency = try self.currency()
            try key("method")
            guard let method = PaymentMethod(rawValue: try string()) else { throw Unexpected() }
            var reference: String?
            if fields == 5 {
                try key("reference")
                reference = try string()
            }
            try key("pending")
            return .recordPayment(PaymentRequest(amountMinor: amount, currency: currency, method: method, reference: reference, pending: try bool()))
        case "confirmPayment", "failPayment":
            guard count == 1 else { throw Unexpected() }
            try key("_0")
            let id = PaymentID(try dotIdentifier())
            return name == "confirmPayment" ? .confirmPayment(id) : .failPayment(id)
        case "recordRefund":
            guard count == 1 else { throw Unexpected() }
            try key("_0")
            try keyed(5)
            try key("paymentID")
            let payment = PaymentID(try dotIdentifier())
            try key("amountMinor")
            let amount = try int()
            try key("currency")
            let currency = try self.currency()
            try key("reason")
            let reason = try string()
            try key("cancelsRemainingPlan")
            return .recordRefund(RefundRequest(paymentID: payment, amountMinor: amount, currency: currency, reason: reason, cancelsRemainingPlan: try bool()))
        case "proposeChangeOrder":
            guard count == 3 else { throw Unexpected() }
            try key("summary")
            let summary = try string()
            try key("amountMinor")
            let amount = try int()
            try key("currency")
            return .proposeChangeOrder(summary: summary, amountMinor: amount, currency: try self.currency())
        case "approveChangeOrder", "rejectChangeOrder":
            guard count == 2 else { throw Unexpected() }
            try key("_0")
            let id = ChangeOrderID(try dotIdentifier())
            try key("reason")
            let reason = try string()
            return name == "approveChangeOrder" ? .approveChangeOrder(id, reason: reason) : .rejectChangeOrder(id, reason: reason)
        case "resolveReviewCase":
            guard count == 3 else { throw Unexpected() }
            try key("_0")
            let id = try reviewCaseID()
            try key("_1")
            guard let resolution = Resolution(rawValue: try string()) else { throw Unexpected() }
            try key("note")
            return .resolveReviewCase(id, resolution, note: try string())
        default:
            offset = start
            return try generic(ActionPayload.self)
        }
    }

    mutating func draft() throws -> PlanDraft {
        let count = try keyedCount()
        guard count == 2 || count == 3 else { throw Unexpected() }
        try key("mode")
        guard let mode = PlanMode(rawValue: try string()) else { throw Unexpected() }
        try key("rows")
        guard try byte() == 6 else { throw Unexpected() }
        let rowCount = Int(try varint())
        guard rowCount <= bytes.count - offset else { throw Unexpected() }
        var rows: [PlanDraft.Row] = []
        rows.reserveCapacity(rowCount)
        for _ in 0..<rowCount {
            let fields = try keyedCount()
            var seen: UInt64 = 1
            try key("label")
            var row = PlanDraft.Row(label: try string())
            if seen < fields, try nextKeyIs("percentage") {
                try keyed(1)
                try key("value")
                row.percentage = try PartsPerMillion(try int())
                seen += 1
            }
            if seen < fields, try nextKeyIs("amountMinor") {
                row.amountMinor = try int()
                seen += 1
            }
            if seen < fields, try nextKeyIs("dueDate") {
                row.dueDate = try date()
                seen += 1
            }
            if seen < fields, try nextKeyIs("id") {
                row.id = try installmentID()
                seen += 1
            }
            guard seen == fields else { throw Unexpected() }
            rows.append(row)
        }
        var template: String?
        if count == 3 {
            try key("templateName")
            template = try string()
        }
        return PlanDraft(mode: mode, rows: rows, templateName: template)
    }

    mutating func installmentID() throws -> InstallmentID {
        try keyed(2)
        try key("origin")
        let origin = try dot()
        try key("index")
        guard let index = Int(exactly: try int()) else { throw Unexpected() }
        return InstallmentID(origin: origin, index: index)
    }

    mutating func dotIdentifier() throws -> Dot {
        try keyed(1)
        try key("dot")
        return try dot()
    }

    mutating func reviewCaseID() throws -> ReviewCaseID {
        try keyed(2)
        try key("dot")
        let dot = try self.dot()
        try key("index")
        guard let index = Int(exactly: try int()) else { throw Unexpected() }
        return ReviewCaseID(dot, index: index)
    }

    mutating func currency() throws -> Currency {
        let code = try string()
        return code == Currency.usd.code ? Currency.usd : try Currency(code: code)
    }

    /// An ISO date as the encoder writes it, "YYYY-MM-DD", read without splitting strings.
    mutating func date() throws -> CalendarDate {
        guard try byte() == 4, try varint() == 10, bytes.count - offset >= 10 else { throw Unexpected() }
        func digits(_ from: Int, _ count: Int) throws -> Int {
            var value = 0
            for index in from..<(from + count) {
                let byte = bytes[offset + index]
                guard (48...57).contains(byte) else { throw Unexpected() }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        guard bytes[offset + 4] == UInt8(ascii: "-"), bytes[offset + 7] == UInt8(ascii: "-") else { throw Unexpected() }
        let date = try CalendarDate(year: try digits(0, 4), month: try digits(5, 2), day: try digits(8, 2))
        offset += 10
        return date
    }

    mutating func outcome() throws -> Outcome {
        let start = offset
        guard try keyedCount() == 1 else { throw Unexpected() }
        let name = try rawString()
        switch name {
        case "applied", "exists":
            try keyed(0)
            return name == "applied" ? .applied : .exists
        case "appliedWithException", "parkedForReview":
            try keyed(1)
            try key("_0")
            try keyed(2)
            try key("dot")
            let dot = try self.dot()
            try key("index")
            guard let index = Int(exactly: try int()) else { throw Unexpected() }
            let id = ReviewCaseID(dot, index: index)
            return name == "parkedForReview" ? .parkedForReview(id) : .appliedWithException(id)
        case "rejected":
            try keyed(1)
            try key("_0")
            try keyed(2)
            try key("code")
            let code = LedgerError.Code(rawValue: try string())
            try key("message")
            return .rejected(LedgerError(code, try string()))
        default:
            offset = start
            return try generic(Outcome.self)
        }
    }

    /// The next value through the generic decoder.
    mutating func generic<T: Decodable>(_ type: T.Type) throws -> T {
        var reader = CanonicalReader(bytes: bytes)
        reader.offset = offset
        let start = offset
        _ = try reader.value(depth: 0)
        offset = reader.offset
        return try CanonicalEncoding.decode(type, from: Array(bytes[start..<offset]))
    }

    mutating func dot() throws -> Dot {
        try keyed(2)
        try key("replica")
        let replica = try self.replica()
        try key("counter")
        return Dot(replica: replica, counter: try uint())
    }

    mutating func hlc() throws -> HLCTimestamp {
        try keyed(2)
        try key("wallMillis")
        let wall = try int()
        try key("logical")
        guard let logical = UInt32(exactly: try uint()) else { throw Unexpected() }
        return HLCTimestamp(wallMillis: wall, logical: logical)
    }

    mutating func actor() throws -> Actor {
        try keyed(2)
        try key("user")
        try keyed(1)
        try key("rawValue")
        let user = try UserID(try string())
        try key("role")
        guard let role = Role(rawValue: try string()) else { throw Unexpected() }
        return Actor(user: user, role: role)
    }

    // MARK: Bytes

    mutating func byte() throws -> UInt8 {
        guard offset < bytes.count else { throw Unexpected() }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func varint() throws -> UInt64 {
        guard let value = readVarint(bytes, at: &offset) else { throw Unexpected() }
        return value
    }

    mutating func keyedCount() throws -> UInt64 {
        guard try byte() == 5 else { throw Unexpected() }
        return try varint()
    }

    mutating func keyed(_ count: UInt64) throws {
        guard try keyedCount() == count else { throw Unexpected() }
    }

    /// A key (a string without a tag) that must be `expected`.
    mutating func key(_ expected: StaticString) throws {
        guard try nextKeyIs(expected) else { throw Unexpected() }
    }

    /// Whether the key here is `expected`; moves past it when it is.
    mutating func nextKeyIs(_ expected: StaticString) throws -> Bool {
        let start = offset
        let length = Int(try varint())
        guard length == expected.utf8CodeUnitCount, bytes.count - offset >= length else {
            offset = start
            return false
        }
        let same = expected.withUTF8Buffer { wanted in (0..<length).allSatisfy { bytes[offset + $0] == wanted[$0] } }
        offset = same ? offset + length : start
        return same
    }

    mutating func rawString() throws -> String {
        let length = Int(try varint())
        guard bytes.count - offset >= length else { throw Unexpected() }
        defer { offset += length }
        return String(decoding: bytes[offset..<(offset + length)], as: UTF8.self)
    }

    /// A replica id's string, parsed where it lies.
    mutating func replica() throws -> ReplicaID {
        guard try byte() == 4, try varint() == 36, bytes.count - offset >= 36 else { throw Unexpected() }
        let parsed = bytes.withUnsafeBufferPointer { ReplicaID.parseUUID($0, from: offset) }
        guard let parsed else { throw Unexpected() }
        offset += 36
        return parsed
    }

    mutating func string() throws -> String {
        guard try byte() == 4 else { throw Unexpected() }
        return try rawString()
    }

    mutating func uint() throws -> UInt64 {
        guard try byte() == 3 else { throw Unexpected() }
        return try varint()
    }

    mutating func int() throws -> Int64 {
        guard try byte() == 2 else { throw Unexpected() }
        let zigzag = try varint()
        return Int64(bitPattern: (zigzag >> 1) ^ (0 &- (zigzag & 1)))
    }

    mutating func bool() throws -> Bool {
        guard try byte() == 1 else { throw Unexpected() }
        switch try byte() {
        case 0: return false
        case 1: return true
        default: throw Unexpected()
        }
    }
}

/// An unsigned LEB128 number (seven bits a byte, lowest first) at `offset`, which moves past it;
/// nil when the bytes end inside it or it runs past 64 bits. Every reader of the core's binary
/// forms (canonical bytes, log entries, job records) reads numbers through this, and so does the
/// wire's walk over Protocol Buffers fields (the same encoding).
public func readVarint<Bytes: RandomAccessCollection<UInt8>>(_ bytes: Bytes, at offset: inout Int) -> UInt64? where Bytes.Index == Int {
    var result: UInt64 = 0
    var shift: UInt64 = 0
    while shift < 64 {
        guard offset < bytes.endIndex else { return nil }
        let next = bytes[offset]
        offset += 1
        result |= UInt64(next & 0x7F) << shift
        if next < 0x80 { return result }
        shift += 7
    }
    return nil
}

extension Reports {
    /// Builds the outstanding-draws table straight from stored installment records
    /// (`JobRecord.bytes(of:)`): names and numbers go from the record's bytes into the table's,
    /// with no `OutstandingInstallment` or `String` in between.
    ///
    /// A device lists a large company's draws this way (50,000 jobs, over 100,000 rows): making
    /// a value with four strings per installment, then a table from those, was most of the
    /// report's time. The table equals `outstandingDrawsCSV(installments, today:, settings:)`
    /// over the same installments, whatever order records and installments arrive in.
    public struct DrawsTableGatherer: Sendable {
        fileprivate let today: CalendarDate
        private let todayPacked: UInt32
        /// The installments as their records hold them (the records' replica tables left
        /// out: no column needs a dot), one after another as they arrive.
        fileprivate var arena: [UInt8] = []
        fileprivate var sortKeys: [DrawKey] = []
        /// The widest cell of each column so far, in characters (as a table for people counts them).
        fileprivate var widths = [Int](repeating: 0, count: Reports.drawColumns)

        /// Sorts a row where the report lists it.
        fileprivate struct DrawKey: Sendable {
            /// The status's rank in the top bits, the due date (year, month, day packed as a
            /// record stores them, so the order of dates) below.
            let rankAndDue: UInt64
            let job: JobID
            let number: Int
            /// Where the installment starts in `arena`.
            let offset: Int
        }

        /// A gatherer for the report on `today`, with room for about `rows` rows.
        public init(today: CalendarDate, rows: Int) {
            self.today = today
            todayPacked = Self.packed(today)
            arena.reserveCapacity(rows * Self.installmentBytesGuess)
            sortKeys.reserveCapacity(rows)
        }

        /// About what an installment takes in its record (three names, two dots, five numbers,
        /// a label, a currency code, a date).
        private static let installmentBytesGuess = 64

        /// Rows gathered so far.
        public var rowCount: Int { sortKeys.count }

        /// Adds the installments in `record` unless `skip` is true of their job (every
        /// installment of a record is of one job); throws for bytes that are not such a record,
        /// having added nothing.
        public mutating func append(record: UnsafeRawBufferPointer, skip: (JobID) -> Bool = { _ in false }) throws(JobRecord.Damaged) {
            var reader = try RecordReader(record: record)
            let count = try reader.count()
            let body = reader.at, base = arena.count, keyCount = sortKeys.count
            var widths = self.widths
            // Read and checked whole before its bytes are kept: a damaged record adds nothing.
            do {
                for index in 0..<count {
                    let offset = base + reader.at - body
                    let customer = try reader.utf8()
                    let job = JobID(try reader.dot())
                    if index == 0, skip(job) { return }
                    let jobNumber = try reader.utf8(), invoiceNumber = try reader.utf8()
                    _ = try reader.dot()
                    _ = try reader.int()
                    let number = try reader.int()
                    let label = try reader.utf8(), code = try reader.utf8()
                    let currency = try RecordReader.currency(code: code.bytes)
                    let amount = try reader.int64(), remaining = try reader.int64(), pending = try reader.int64()
                    let due = try reader.optional { r throws(JobRecord.Damaged) in try r.date() }
                    let duePacked = due.map(Self.packed)
                    sortKeys.append(DrawKey(rankAndDue: rankAndDue(duePacked), job: job, number: number, offset: offset))
                    // The cells `writeRow` writes, measured without writing them.
                    let status = status(duePacked)
                    func widen(_ column: Int, _ shown: Int) { if shown > widths[column] { widths[column] = shown } }
                    widen(0, Reports.characters(customer))
                    widen(1, Reports.characters(jobNumber))
                    widen(2, Reports.characters(invoiceNumber))
                    widen(3, Reports.decimalWidth(Int64(number)))
                    widen(4, Reports.characters(label))
                    widen(5, Reports.characters(code))
                    widen(6, Reports.plainDecimalWidth(amount, currency))
                    widen(7, Reports.plainDecimalWidth(remaining, currency))
                    widen(8, Reports.plainDecimalWidth(pending, currency))
                    widen(9, due == nil ? 0 : CalendarDate.isoLength)
                    widen(10, status.rawValue.utf8.count)
                    widen(11, Reports.decimalWidth(Int64(status == .pastDue ? due!.days(until: today) : 0)))
                }
                try reader.finish()
            } catch {
                sortKeys.removeSubrange(keyCount...)
                throw error
            }
            arena.append(contentsOf: UnsafeRawBufferPointer(rebasing: record[body...]))
            self.widths = widths
        }

        /// Adds installments that are not stored as a record (jobs a device changed since).
        public mutating func append(_ installments: [OutstandingInstallment]) {
            do {
                // An untyped closure: Swift 6.3.1 crashes emitting a typed-throws one here.
                try JobRecord.bytes(of: installments).withUnsafeBytes { bytes in try append(record: bytes) }
            } catch {
                preconditionFailure("a record just written does not read back: \(error)")
            }
        }

        private func rankAndDue(_ duePacked: UInt32?) -> UInt64 {
            UInt64(status(duePacked).rank) << 32 | UInt64(duePacked ?? UInt32.max)
        }

        private func status(_ duePacked: UInt32?) -> DrawStatus {
            guard let duePacked else { return .noDueDate }
            return duePacked < todayPacked ? .pastDue : duePacked == todayPacked ? .dueToday : .upcoming
        }

        /// The table, its rows ordered as `outstandingDraws` orders them. Consuming: the keys
        /// are sorted where they are, not copied first (they are a few megabytes).
        public consuming func table(settings: CompanySettings) -> CSVTable {
            sort()
            let order = DrawsTableOrder(merging: [self])
            return order.table(settings: settings, parts: [order.cells(rows: 0..<order.rowCount)])
        }

        /// Puts the rows gathered so far in the report's order, ready for `DrawsTableOrder`.
        public mutating func sort() { sortKeys.sort(by: Self.precedes) }

        /// Whether `a`'s row comes before `b`'s. A total order: no two installments share a
        /// job and a number, so however rows are split and merged they come out alike.
        fileprivate static func precedes(_ a: DrawKey, _ b: DrawKey) -> Bool {
            if a.rankAndDue != b.rankAndDue { return a.rankAndDue < b.rankAndDue }
            if a.job != b.job { return a.job < b.job }
            return a.number < b.number
        }

        /// Appends the cells of the row `key` names, read a second time from the arena; what
        /// `append(record:skip:)` checked cannot fail here (texts are scanned again for the
        /// cells' ASCII flags).
        fileprivate func writeRow(_ key: DrawKey, to cells: inout CSVTable.Builder) {
            arena.withUnsafeBytes { arena in
                do {
                    var reader = RecordReader(body: arena, at: key.offset)
                    let customer = try reader.utf8()
                    _ = try reader.uint(); _ = try reader.uint() // the job's dot: in the key
                    let jobNumber = try reader.utf8(), invoiceNumber = try reader.utf8()
                    _ = try reader.uint(); _ = try reader.uint(); _ = try reader.uint() // the installment's id
                    let number = try reader.int()
                    let label = try reader.utf8(), code = try reader.utf8()
                    let currency = try RecordReader.currency(code: code.bytes)
                    let amount = try reader.int64(), remaining = try reader.int64(), pending = try reader.int64()
                    let due = try reader.optional { r throws(JobRecord.Damaged) in try r.date() }
                    let status = status(due.map(Self.packed))
                    cells.text(utf8: customer.bytes, ascii: customer.ascii)
                    cells.text(utf8: jobNumber.bytes, ascii: jobNumber.ascii)
                    cells.text(utf8: invoiceNumber.bytes, ascii: invoiceNumber.ascii)
                    cells.number(number)
                    cells.text(utf8: label.bytes, ascii: label.ascii)
                    cells.text(utf8: code.bytes, ascii: code.ascii)
                    cells.amount(amount, currency)
                    cells.amount(remaining, currency)
                    cells.amount(pending, currency)
                    cells.date(due)
                    cells.text(status.rawValue)
                    cells.number(status == .pastDue ? due!.days(until: today) : 0)
                } catch {
                    preconditionFailure("installments read once do not read again: \(error)")
                }
            }
        }

        /// What a row's cells take beyond its record's texts: amounts, a date, a status.
        fileprivate static let cellBytesBeyondRecord = 48

        private static func packed(_ date: CalendarDate) -> UInt32 { UInt32(date.year << 9 | date.month << 5 | date.day) }
    }

    /// Rows gathered in parts (on several threads, say), each part sorted, merged into the
    /// report's order; its cells can then be written a range of rows at a time, the ranges at
    /// once, and joined.
    public struct DrawsTableOrder: Sendable {
        private let parts: [DrawsTableGatherer]
        /// The rows in order: which part, and which of its keys.
        private let order: [(part: UInt32, key: UInt32)]
        /// The widest cell of each column, in characters (the header not counted): a table for
        /// people can be laid out before any cell is written.
        public let columnWidths: [Int]

        /// Merges sorted parts (`DrawsTableGatherer.sort()`) gathered for one day.
        public init(merging parts: [DrawsTableGatherer]) {
            precondition(parts.allSatisfy { $0.today == parts[0].today }, "parts gathered for one day")
            self.parts = parts
            columnWidths = parts.reduce([Int](repeating: 0, count: Reports.drawColumns)) { widths, part in zip(widths, part.widths).map { max($0, $1) } }
            var order: [(part: UInt32, key: UInt32)] = []
            order.reserveCapacity(parts.reduce(0) { $0 + $1.sortKeys.count })
            var next = [Int](repeating: 0, count: parts.count)
            // Few parts (one per thread): the least of their heads, found by looking at each.
            while true {
                var least: Int?
                for part in parts.indices where next[part] < parts[part].sortKeys.count {
                    if let best = least, !DrawsTableGatherer.precedes(parts[part].sortKeys[next[part]], parts[best].sortKeys[next[best]]) { continue }
                    least = part
                }
                guard let part = least else { break }
                order.append((UInt32(part), UInt32(next[part])))
                next[part] += 1
            }
            self.order = order
        }

        /// Rows in the table.
        public var rowCount: Int { order.count }

        /// The cells of `rows` (a range of the table's rows), to be joined by `table`, with room
        /// for `room` rows if that is more (the part the others are appended to).
        public func cells(rows: Range<Int>, room: Int = 0) -> CSVTable.Builder {
            let arenaBytes = parts.reduce(0) { $0 + $1.arena.count }
            let roomRows = max(rows.count, room)
            let guess = order.isEmpty ? 0 : arenaBytes * roomRows / order.count + roomRows * DrawsTableGatherer.cellBytesBeyondRecord
            var cells = CSVTable.Builder(cells: roomRows * Reports.drawColumns, bytes: guess)
            self.cells(rows: rows, appendingTo: &cells)
            return cells
        }

        /// Appends the cells of `rows` to `cells` (a builder emptied and filled again, batch
        /// after batch, keeps its room).
        public func cells(rows: Range<Int>, appendingTo cells: inout CSVTable.Builder) {
            for row in rows {
                let (part, key) = order[row]
                parts[Int(part)].writeRow(parts[Int(part)].sortKeys[Int(key)], to: &cells)
            }
        }

        /// The table's header, which names the plan's intervals as the company does.
        public func header(settings: CompanySettings) -> [String] { Reports.drawHeader(settings) }

        /// The table whose rows are the cells of consecutive ranges, in order, covering all.
        public func table(settings: CompanySettings, parts cells: consuming [CSVTable.Builder]) -> CSVTable {
            var cells = cells
            guard !cells.isEmpty else { return CSVTable.Builder(cells: 0, bytes: 0).table(header: Reports.drawHeader(settings)) }
            // Taken out of the array, not copied from it: appending to a copy would copy it all.
            var joined = cells.removeFirst()
            for part in cells { joined.append(contentsOf: part) }
            precondition(joined.cellCount == order.count * Reports.drawColumns, "the parts cover every row once")
            return joined.table(header: Reports.drawHeader(settings))
        }
    }
}

extension Reports {
    /// The characters a UTF-8 text takes on screen: its length in bytes when ASCII (`ascii`,
    /// worked out here when not given), its characters otherwise. Tables for people are padded
    /// by this (`TableText`), and the draws' column widths are gathered by it.
    public static func characters(utf8: UnsafeRawBufferPointer, ascii: Bool? = nil) -> Int {
        let ascii = ascii ?? {
            var high: UInt8 = 0
            for byte in utf8 { high |= byte }
            return high < 0x80
        }()
        return ascii ? utf8.count : String(decoding: utf8, as: UTF8.self).count
    }

    /// `characters(utf8:ascii:)` of a text a record reader gave.
    private static func characters(_ text: (bytes: UnsafeRawBufferPointer, ascii: Bool)) -> Int {
        characters(utf8: text.bytes, ascii: text.ascii)
    }

    /// The characters of `value` in decimal, as `CSVTable.Builder.number` writes it.
    static func decimalWidth(_ value: Int64) -> Int { (value < 0 ? 1 : 0) + digitCount(value.magnitude) }

    /// The characters of an amount as `CSVTable.Builder.amount` writes it ("-1250.00").
    static func plainDecimalWidth(_ minor: Int64, _ currency: Currency) -> Int {
        let digits = currency.minorUnitDigits
        var major = minor.magnitude
        for _ in 0..<digits { major /= 10 }
        return (minor < 0 ? 1 : 0) + digitCount(major) + (digits > 0 ? digits + 1 : 0)
    }

    /// Decimal digits of `value` (one for zero).
    private static func digitCount(_ value: UInt64) -> Int {
        var count = 1, rest = value
        while rest >= 10 {
            rest /= 10
            count += 1
        }
        return count
    }
}

extension RecordReader {
    /// A reader at `at` in the body of a record whose version and replica table are elsewhere
    /// (it can read anything but a dot's replica).
    init(body bytes: UnsafeRawBufferPointer, at: Int) {
        self.bytes = bytes
        self.at = at
    }
}

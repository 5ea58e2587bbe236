extension Reports {
    /// Builds the outstanding-draws table straight from stored installment records
    /// (`JobRecord.bytes(of:)`): names and numbers go from the record's bytes into the table's,
    /// with no `OutstandingInstallment` or `String` in between.
    ///
    /// A device lists a large company's draws this way (50,000 jobs, over 100,000 rows): making
    /// a value with four strings per installment, then a table from those, was most of the
    /// report's time. The table equals `outstandingDrawsCSV(installments, today:, settings:)`
    /// over the same installments, whatever order records and installments arrive in.
    public struct DrawsTableGatherer {
        private let today: CalendarDate
        private let todayPacked: UInt32
        /// The installments as their records hold them (the records' replica tables left
        /// out: no column needs a dot), one after another as they arrive.
        private var arena: [UInt8] = []
        private var keys: [DrawKey] = []

        /// Sorts a row where the report lists it.
        private struct DrawKey {
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
            keys.reserveCapacity(rows)
        }

        /// About what an installment takes in its record (three names, two dots, five numbers,
        /// a label, a currency code, a date).
        private static let installmentBytesGuess = 64

        /// Rows gathered so far.
        public var rowCount: Int { keys.count }

        /// Adds the installments in `record` unless `skip` is true of their job (every
        /// installment of a record is of one job); throws for bytes that are not such a record,
        /// having added nothing.
        public mutating func append(record: UnsafeRawBufferPointer, skip: (JobID) -> Bool = { _ in false }) throws(JobRecord.Damaged) {
            var reader = try RecordReader(record: record)
            let count = try reader.count()
            let body = reader.at, base = arena.count, keyCount = keys.count
            // Read and checked whole before its bytes are kept: a damaged record adds nothing.
            do {
                for index in 0..<count {
                    let offset = base + reader.at - body
                    _ = try reader.utf8()
                    let job = JobID(try reader.dot())
                    if index == 0, skip(job) { return }
                    _ = try reader.utf8()
                    _ = try reader.utf8()
                    _ = try reader.dot()
                    _ = try reader.int()
                    let number = try reader.int()
                    _ = try reader.utf8()
                    _ = try reader.currency()
                    _ = try reader.int64()
                    _ = try reader.int64()
                    _ = try reader.int64()
                    let due = try reader.optional { r throws(JobRecord.Damaged) in try r.date() }
                    keys.append(DrawKey(rankAndDue: rankAndDue(due.map(Self.packed)), job: job, number: number, offset: offset))
                }
                try reader.finish()
            } catch {
                keys.removeSubrange(keyCount...)
                throw error
            }
            arena.append(contentsOf: UnsafeRawBufferPointer(rebasing: record[body...]))
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
            keys.sort { a, b in
                if a.rankAndDue != b.rankAndDue { return a.rankAndDue < b.rankAndDue }
                if a.job != b.job { return a.job < b.job }
                return a.number < b.number
            }
            var cells = CSVTable.Builder(cells: keys.count * Reports.drawColumns, bytes: arena.count + keys.count * Self.cellBytesBeyondRecord)
            arena.withUnsafeBytes { arena in
                do {
                    for key in keys {
                        // Read a second time; what `append` checked cannot fail here (texts are
                        // scanned again for the cells' ASCII flags).
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
                    }
                } catch {
                    preconditionFailure("installments read once do not read again: \(error)")
                }
            }
            return cells.table(header: Reports.drawHeader(settings))
        }

        /// What a row's cells take beyond its record's texts: amounts, a date, a status.
        private static let cellBytesBeyondRecord = 48

        private static func packed(_ date: CalendarDate) -> UInt32 { UInt32(date.year << 9 | date.month << 5 | date.day) }
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

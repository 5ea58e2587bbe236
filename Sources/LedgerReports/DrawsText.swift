import LedgerCore

extension TableText {
    /// The layout of the outstanding draws' table from the widths its rows were gathered with:
    /// no cell is measured, so rows can be written before the others are made.
    public init(draws: Reports.DrawsTableOrder, header: [String]) {
        self.init(widths: zip(header.map(TableText.width), draws.columnWidths).map { max($0, $1) },
                  rightAligned: Array(repeating: false, count: header.count))
    }
}

extension Reports.DrawsTableOrder {
    /// Writes the rows `rows` as `text` lays them out, or as CSV when `text` is nil, after the
    /// header if `withHeader`, `batchRows` rows' cells made at a time in one reused room: a
    /// large company's table is never held whole, and shares of it can be written at once.
    /// The shares' bytes, handed on in order, are the whole table's (`TableText.render` plus
    /// "\n", or `CSVTable.csvBytes()`).
    public func write(rows: Range<Int>, header: [String], text: TableText?, withHeader: Bool, batchRows: Int,
                      emit: (UnsafeBufferPointer<UInt8>) -> Void) {
        precondition(batchRows > 0, "batches of at least one row")
        var cells = CSVTable.Builder(cells: 0, bytes: 0)
        // An empty share still has one batch: an empty table's header.
        for start in stride(from: rows.lowerBound, to: max(rows.upperBound, rows.lowerBound + 1), by: batchRows) {
            cells.removeAll()
            self.cells(rows: start..<min(start + batchRows, rows.upperBound), appendingTo: &cells)
            let batch = cells.table(header: header), batchHeader = withHeader && start == rows.lowerBound
            if let text {
                text.write(batch, rows: 0..<batch.rowCount, header: batchHeader, emit: emit)
            } else {
                batch.csvBytes(header: batchHeader).withUnsafeBufferPointer(emit)
            }
        }
    }
}

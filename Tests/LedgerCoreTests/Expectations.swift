import LedgerCore
import Testing

/// Runs `change` on `value`, expects it to throw a `LedgerError` with `code` and a message, and
/// expects `value` to be exactly as it was before.
func expectRefusal<T: Equatable>(
    _ code: LedgerError.Code, on value: inout T, sourceLocation: SourceLocation = #_sourceLocation,
    _ change: (inout T) throws(LedgerError) -> Void
) {
    let before = value
    do {
        try change(&value)
        Issue.record("expected \(code), but the change succeeded", sourceLocation: sourceLocation)
    } catch {
        #expect(error.code == code, "got \(error)", sourceLocation: sourceLocation)
        #expect(!error.message.isEmpty, sourceLocation: sourceLocation)
    }
    #expect(value == before, "a refused change altered the state", sourceLocation: sourceLocation)
}

/// Expects `work` to throw a `LedgerError` with `code`.
func expectError<T>(_ code: LedgerError.Code, sourceLocation: SourceLocation = #_sourceLocation, _ work: () throws(LedgerError) -> T) {
    do {
        _ = try work()
        Issue.record("expected \(code), but it succeeded", sourceLocation: sourceLocation)
    } catch {
        #expect(error.code == code, "got \(error)", sourceLocation: sourceLocation)
    }
}

import CSHA256
import Foundation
import LedgerCore

/// The processor's SHA instructions for the core's SHA-256 (decision 0026): the core stays
/// portable Swift, and a program installs these at its start where the processor has them.
public enum HardwareSHA256 {
    /// Set to `portable` to keep the core's own rounds (to measure one against the other).
    public static let environmentVariable = "FIELDLEDGER_SHA256"

    /// Whether this processor has the instructions (x86 SHA extensions with SSSE3 and SSE4.1).
    public static var isAvailable: Bool { csha256_hardware_available() == 1 }

    /// The compression with the instructions, for tests that hold it to the portable rounds.
    /// Call only where `isAvailable`.
    public static let blocks: SHA256.Blocks = csha256_hardware_blocks

    /// Installs the instructions into the core's SHA-256 if the processor has them and the
    /// environment does not ask for the portable rounds; returns whether it did. Call first
    /// thing in a program's start, before any hashing or thread.
    @discardableResult
    public static func installIfAvailable() -> Bool {
        guard isAvailable, ProcessInfo.processInfo.environment[environmentVariable] != "portable" else { return false }
        SHA256.install(blocks)
        return true
    }
}

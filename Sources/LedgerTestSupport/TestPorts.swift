import Foundation
import Synchronization

/// Loopback ports for test servers that must be given a port before they start (a restarted
/// server keeps its port). Each test process gets a block of 30 below Linux's ephemeral range
/// (32768–60999), so an outgoing connection of this machine never holds one of them.
public enum TestPorts {
    /// The block's size: offsets 0..<30 are this process's.
    public static let block = 30

    /// The port at `offset` in this process's block.
    public static func port(_ offset: Int) -> Int {
        precondition((0..<block).contains(offset), "a test port offset is 0..<\(block)")
        return 20_000 + Int(getpid()) % 400 * block + offset
    }

    /// Offsets handed out one after another by `next()`; those below are named by their tests.
    public static let sharedOffsets = 21..<30

    private static let handedOut = Mutex(0)

    /// The next port of the shared offsets (servers that several tests make, such as the CLI
    /// tests'); after the last it starts again from the first.
    public static func next() -> Int {
        let index = handedOut.withLock { count in
            defer { count += 1 }
            return count
        }
        return port(sharedOffsets.lowerBound + index % sharedOffsets.count)
    }
}

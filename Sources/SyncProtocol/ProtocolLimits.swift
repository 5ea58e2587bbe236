/// Every bound of the wire format, in one place (DESIGN §5, Protocol/README.md "Limits").
///
/// The decoder checks each before it allocates or inflates anything; the domain's own bounds
/// (amounts, labels, rows) are `LedgerCore.Limits`.
public enum ProtocolLimits {
    /// Bytes of the fixed envelope header.
    public static let headerBytes = 20
    /// The largest payload (compressed or raw) a message may carry on the wire.
    public static let payloadBytesMax = 4 << 20
    /// The largest body a message may declare or inflate to.
    public static let bodyBytesMax = 16 << 20
    /// The largest ratio of body to compressed payload; a bomb exceeds it long before memory runs out.
    public static let compressionRatioMax = 100
    /// Inflate output grows in steps of this size, never by a declared length.
    public static let inflateChunkBytes = 64 << 10
    /// zlib compression level of every encoder, so equal bodies give equal bytes.
    public static let compressionLevel: Int32 = 6
    /// Bodies from this size up end a deflate block at each column (`DeflateBlocks`); smaller
    /// ones are one block, since a block's own Huffman table would cost more than it saves.
    public static let blockCutBodyBytesMin = 4 << 10

    /// Actions in one change set or pull page.
    public static let actionsPerMessageMax = 10_000
    /// Entries of the interned replica table.
    public static let internedReplicasMax = 10_000
    /// Entries of the interned user and currency tables.
    public static let internedValuesMax = 1_000
    /// Bytes of any string on the wire; the domain checks its own, tighter limits on apply.
    public static let stringBytesMax = 500
    /// Bytes of the settings document inside a settings update.
    public static let settingsBytesMax = 64 << 10
}

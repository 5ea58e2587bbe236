import Foundation

/// The preset zlib dictionary of the wire format, version 1 (Protocol/README.md §3).
///
/// zlib starts every stream as if these bytes had just been sent, so a small message pays for
/// the protocol's repeated structure (field tags, the built-in plan templates, payment framing)
/// only once per device, not once per message.
public enum PresetDictionary {
    /// Its size: enough for a sample of typical messages, small beside zlib's 32 KiB window.
    public static let sizeBytes = 16 << 10
    /// The dictionary's bytes.
    public static let bytes: [UInt8] = Array(Data(base64Encoded: base64) ?? Data())
    /// How zlib names it in a stream's header (FDICT, DICTID).
    public static let adler32: UInt32 = Zlib.adler32(bytes)
}

// libFuzzer entry point: every input is offered to each decoder of the wire format. A decoder
// may refuse an input (a ProtocolError), but must never crash, hang or accept bytes that
// re-decode to something else.
import SyncProtocol

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    if let envelope = try? Envelope.decode(bytes) {
        // What decodes must survive a round trip unchanged.
        guard let again = try? Envelope.decode(envelope.encoded()), again == envelope else {
            fatalError("an envelope did not survive re-encoding")
        }
    }
    if let message = try? SyncMessage.decode(bytes) {
        // Re-encoded raw: compressing with the dictionary on every input would halve the rate,
        // and the inflate side is what hostile bytes reach.
        guard let again = try? SyncMessage.decode(message.encoded(compression: .none)), again == message else {
            fatalError("a message did not survive re-encoding")
        }
    }
    // The bodies without an envelope, so the fuzzer reaches them without forging checksums.
    for type in MessageType.allCases {
        guard let wire = try? Envelope(type: type, body: bytes, compression: .none).encoded(), let message = try? SyncMessage.decode(wire) else { continue }
        guard let again = try? SyncMessage.decode(message.encoded(compression: .none)), again == message else {
            fatalError("a \(type) body did not survive re-encoding")
        }
    }
    if let changeSet = try? ChangeSetCodec.decodeBody(bytes) {
        guard let body = try? ChangeSetCodec.encodeBody(changeSet), let again = try? ChangeSetCodec.decodeBody(body), again == changeSet else {
            fatalError("a change set did not survive re-encoding")
        }
    }
    return 0
}

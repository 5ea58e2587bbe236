/// Turns any `Encodable` value of the ledger into canonical bytes for digests.
///
/// The format is for hashing and comparing, not for the wire: every value carries a type tag,
/// strings and containers a length, and keyed values their key's name, so two different
/// values never give the same bytes. Keyed fields come in the order the type encodes them
/// (declaration order for synthesized conformances), which is the same in every process.
/// Types whose encoding would depend on hash order (dictionaries, sets) must encode themselves
/// as sorted arrays; floating point is refused.
public enum CanonicalEncoding {
    /// The canonical bytes of `value`.
    public static func bytes<T: Encodable>(of value: T) -> [UInt8] {
        let root = NodeBox()
        do {
            try value.encode(to: NodeEncoder(box: root, codingPath: []))
        } catch {
            preconditionFailure("canonical encoding failed: \(error)")
        }
        var out: [UInt8] = []
        root.node.write(to: &out)
        return out
    }

    /// The SHA-256 of the canonical bytes of `value`.
    public static func digest<T: Encodable>(of value: T) -> [UInt8] { SHA256.hash(bytes(of: value)) }
}

final class NodeBox {
    var node: Node = .null
}

final class KeyedNode {
    var entries: [(String, NodeBox)] = []
}

final class UnkeyedNode {
    var items: [NodeBox] = []
}

enum Node {
    case null
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case string(String)
    case keyed(KeyedNode)
    case unkeyed(UnkeyedNode)

    func write(to out: inout [UInt8]) {
        switch self {
        case .null: out.append(0)
        case .bool(let value): out.append(1); out.append(value ? 1 : 0)
        case .int(let value): out.append(2); writeVarint(UInt64(bitPattern: (value << 1) ^ (value >> 63)), to: &out)
        case .uint(let value): out.append(3); writeVarint(value, to: &out)
        case .string(let value): out.append(4); writeString(value, to: &out)
        case .keyed(let keyed):
            out.append(5)
            writeVarint(UInt64(keyed.entries.count), to: &out)
            for (key, box) in keyed.entries {
                writeString(key, to: &out)
                box.node.write(to: &out)
            }
        case .unkeyed(let unkeyed):
            out.append(6)
            writeVarint(UInt64(unkeyed.items.count), to: &out)
            for box in unkeyed.items { box.node.write(to: &out) }
        }
    }
}

private func writeVarint(_ value: UInt64, to out: inout [UInt8]) {
    var rest = value
    while rest >= 0x80 {
        out.append(UInt8(truncatingIfNeeded: rest) | 0x80)
        rest >>= 7
    }
    out.append(UInt8(rest))
}

private func writeString(_ value: String, to out: inout [UInt8]) {
    let utf8 = Array(value.utf8)
    writeVarint(UInt64(utf8.count), to: &out)
    out.append(contentsOf: utf8)
}

struct CanonicalEncodingError: Error {
    let message: String
}

private func node<T: Encodable>(for value: T, codingPath: [any CodingKey]) throws -> NodeBox {
    let box = NodeBox()
    switch value {
    case let value as String: box.node = .string(value)
    case let value as Bool: box.node = .bool(value)
    case let value as Int: box.node = .int(Int64(value))
    case let value as Int64: box.node = .int(value)
    case let value as Int32: box.node = .int(Int64(value))
    case let value as UInt64: box.node = .uint(value)
    case let value as UInt32: box.node = .uint(UInt64(value))
    case let value as UInt: box.node = .uint(UInt64(value))
    case is Double, is Float: throw CanonicalEncodingError(message: "floating point has no canonical form here")
    default: try value.encode(to: NodeEncoder(box: box, codingPath: codingPath))
    }
    return box
}

struct NodeEncoder: Encoder {
    let box: NodeBox
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .keyed(let keyed) = box.node { return KeyedEncodingContainer(KeyedContainer(keyed: keyed, codingPath: codingPath)) }
        let keyed = KeyedNode()
        box.node = .keyed(keyed)
        return KeyedEncodingContainer(KeyedContainer(keyed: keyed, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .unkeyed(let unkeyed) = box.node { return UnkeyedContainer(unkeyed: unkeyed, codingPath: codingPath) }
        let unkeyed = UnkeyedNode()
        box.node = .unkeyed(unkeyed)
        return UnkeyedContainer(unkeyed: unkeyed, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { SingleContainer(box: box, codingPath: codingPath) }
}

struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let keyed: KeyedNode
    let codingPath: [any CodingKey]

    mutating func encodeNil(forKey key: Key) throws { keyed.entries.append((key.stringValue, NodeBox())) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        keyed.entries.append((key.stringValue, try node(for: value, codingPath: codingPath + [key])))
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let box = NodeBox()
        keyed.entries.append((key.stringValue, box))
        return NodeEncoder(box: box, codingPath: codingPath + [key]).container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let box = NodeBox()
        keyed.entries.append((key.stringValue, box))
        return NodeEncoder(box: box, codingPath: codingPath + [key]).unkeyedContainer()
    }
    mutating func superEncoder() -> any Encoder {
        let box = NodeBox()
        keyed.entries.append(("super", box))
        return NodeEncoder(box: box, codingPath: codingPath)
    }
    mutating func superEncoder(forKey key: Key) -> any Encoder {
        let box = NodeBox()
        keyed.entries.append((key.stringValue, box))
        return NodeEncoder(box: box, codingPath: codingPath + [key])
    }
}

struct UnkeyedContainer: UnkeyedEncodingContainer {
    let unkeyed: UnkeyedNode
    let codingPath: [any CodingKey]
    var count: Int { unkeyed.items.count }

    mutating func encodeNil() throws { unkeyed.items.append(NodeBox()) }
    mutating func encode<T: Encodable>(_ value: T) throws { unkeyed.items.append(try node(for: value, codingPath: codingPath)) }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let box = NodeBox()
        unkeyed.items.append(box)
        return NodeEncoder(box: box, codingPath: codingPath).container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let box = NodeBox()
        unkeyed.items.append(box)
        return NodeEncoder(box: box, codingPath: codingPath).unkeyedContainer()
    }
    mutating func superEncoder() -> any Encoder {
        let box = NodeBox()
        unkeyed.items.append(box)
        return NodeEncoder(box: box, codingPath: codingPath)
    }
}

struct SingleContainer: SingleValueEncodingContainer {
    let box: NodeBox
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws { box.node = .null }
    mutating func encode<T: Encodable>(_ value: T) throws { box.node = try node(for: value, codingPath: codingPath).node }
}

import LedgerCore

/// The tree-building canonical encoder the core used before session 3, kept as an independent
/// reference: the streaming encoder in `LedgerCore` must write exactly its bytes.
enum ReferenceCanonicalEncoding {
    static func bytes<T: Encodable>(of value: T) throws -> [UInt8] {
        let root = RefBox()
        try value.encode(to: RefEncoder(box: root, codingPath: []))
        var out: [UInt8] = []
        root.node.write(to: &out)
        return out
    }
}

final class RefBox {
    var node: RefNode = .null
}

final class RefKeyedNode {
    var entries: [(String, RefBox)] = []
}

final class RefUnkeyedNode {
    var items: [RefBox] = []
}

enum RefNode {
    case null
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case string(String)
    case keyed(RefKeyedNode)
    case unkeyed(RefUnkeyedNode)

    func write(to out: inout [UInt8]) {
        switch self {
        case .null: out.append(0)
        case .bool(let value): out.append(1); out.append(value ? 1 : 0)
        case .int(let value): out.append(2); refWriteVarint(UInt64(bitPattern: (value << 1) ^ (value >> 63)), to: &out)
        case .uint(let value): out.append(3); refWriteVarint(value, to: &out)
        case .string(let value): out.append(4); refWriteString(value, to: &out)
        case .keyed(let keyed):
            out.append(5)
            refWriteVarint(UInt64(keyed.entries.count), to: &out)
            for (key, box) in keyed.entries {
                refWriteString(key, to: &out)
                box.node.write(to: &out)
            }
        case .unkeyed(let unkeyed):
            out.append(6)
            refWriteVarint(UInt64(unkeyed.items.count), to: &out)
            for box in unkeyed.items { box.node.write(to: &out) }
        }
    }
}

fileprivate func refWriteVarint(_ value: UInt64, to out: inout [UInt8]) {
    var rest = value
    while rest >= 0x80 {
        out.append(UInt8(truncatingIfNeeded: rest) | 0x80)
        rest >>= 7
    }
    out.append(UInt8(rest))
}

fileprivate func refWriteString(_ value: String, to out: inout [UInt8]) {
    let utf8 = Array(value.utf8)
    refWriteVarint(UInt64(utf8.count), to: &out)
    out.append(contentsOf: utf8)
}

struct RefEncodingError: Error {
    let message: String
}

fileprivate func refNode<T: Encodable>(for value: T, codingPath: [any CodingKey]) throws -> RefBox {
    let box = RefBox()
    switch value {
    case let value as String: box.node = .string(value)
    case let value as Bool: box.node = .bool(value)
    case let value as Int: box.node = .int(Int64(value))
    case let value as Int64: box.node = .int(value)
    case let value as Int32: box.node = .int(Int64(value))
    case let value as UInt64: box.node = .uint(value)
    case let value as UInt32: box.node = .uint(UInt64(value))
    case let value as UInt: box.node = .uint(UInt64(value))
    case is Double, is Float: throw RefEncodingError(message: "floating point has no canonical form here")
    default: try value.encode(to: RefEncoder(box: box, codingPath: codingPath))
    }
    return box
}

struct RefEncoder: Encoder {
    let box: RefBox
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .keyed(let keyed) = box.node { return KeyedEncodingContainer(RefKeyedContainer(keyed: keyed, codingPath: codingPath)) }
        let keyed = RefKeyedNode()
        box.node = .keyed(keyed)
        return KeyedEncodingContainer(RefKeyedContainer(keyed: keyed, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .unkeyed(let unkeyed) = box.node { return RefUnkeyedContainer(unkeyed: unkeyed, codingPath: codingPath) }
        let unkeyed = RefUnkeyedNode()
        box.node = .unkeyed(unkeyed)
        return RefUnkeyedContainer(unkeyed: unkeyed, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { RefSingleContainer(box: box, codingPath: codingPath) }
}

struct RefKeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let keyed: RefKeyedNode
    let codingPath: [any CodingKey]

    mutating func encodeNil(forKey key: Key) throws { keyed.entries.append((key.stringValue, RefBox())) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        keyed.entries.append((key.stringValue, try refNode(for: value, codingPath: codingPath + [key])))
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let box = RefBox()
        keyed.entries.append((key.stringValue, box))
        return RefEncoder(box: box, codingPath: codingPath + [key]).container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let box = RefBox()
        keyed.entries.append((key.stringValue, box))
        return RefEncoder(box: box, codingPath: codingPath + [key]).unkeyedContainer()
    }
    mutating func superEncoder() -> any Encoder {
        let box = RefBox()
        keyed.entries.append(("super", box))
        return RefEncoder(box: box, codingPath: codingPath)
    }
    mutating func superEncoder(forKey key: Key) -> any Encoder {
        let box = RefBox()
        keyed.entries.append((key.stringValue, box))
        return RefEncoder(box: box, codingPath: codingPath + [key])
    }
}

struct RefUnkeyedContainer: UnkeyedEncodingContainer {
    let unkeyed: RefUnkeyedNode
    let codingPath: [any CodingKey]
    var count: Int { unkeyed.items.count }

    mutating func encodeNil() throws { unkeyed.items.append(RefBox()) }
    mutating func encode<T: Encodable>(_ value: T) throws { unkeyed.items.append(try refNode(for: value, codingPath: codingPath)) }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let box = RefBox()
        unkeyed.items.append(box)
        return RefEncoder(box: box, codingPath: codingPath).container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let box = RefBox()
        unkeyed.items.append(box)
        return RefEncoder(box: box, codingPath: codingPath).unkeyedContainer()
    }
    mutating func superEncoder() -> any Encoder {
        let box = RefBox()
        unkeyed.items.append(box)
        return RefEncoder(box: box, codingPath: codingPath)
    }
}

struct RefSingleContainer: SingleValueEncodingContainer {
    let box: RefBox
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws { box.node = .null }
    mutating func encode<T: Encodable>(_ value: T) throws { box.node = try refNode(for: value, codingPath: codingPath).node }
}

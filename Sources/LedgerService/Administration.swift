import Foundation
import LedgerCore

/// What a device token stands for: a company, a user with a role, and the device's replica.
public struct DeviceCredential: Hashable, Sendable, Codable {
    public let company: CompanyID
    public let actor: Actor
    public let replica: ReplicaID

    /// Makes a credential.
    public init(company: CompanyID, actor: Actor, replica: ReplicaID) {
        self.company = company
        self.actor = actor
        self.replica = replica
    }
}

/// Users and device tokens (tokens only as SHA-256 hashes).
public protocol AdminStorage: Sendable {
    /// Adds a user to a company, or changes its role.
    func setUser(_ user: UserID, role: Role, company: CompanyID) throws
    /// The company's users, by id.
    func users(company: CompanyID) throws -> [Actor]
    /// Stores a new device under the hash of its token.
    func registerDevice(tokenHash: [UInt8], credential: DeviceCredential) throws
    /// The device a token hash belongs to, and whether it was revoked.
    func device(tokenHash: [UInt8]) throws -> (credential: DeviceCredential, revoked: Bool)?
    /// Revokes a company's device; false when there is no such device.
    func revokeDevice(replica: ReplicaID, company: CompanyID) throws -> Bool
}

/// Companies, users and device tokens: what `fieldledger-server` administers.
public struct Administration<Storage: LedgerStorage & AdminStorage>: Sendable {
    public let storage: Storage

    /// Makes the administration of `storage`.
    public init(storage: Storage) {
        self.storage = storage
    }

    /// Creates a company with checked settings. The server acts for the office as
    /// `serverReplica` (a fresh random one unless the simulator names it, to stay repeatable).
    public func createCompany(_ id: CompanyID, settings: CompanySettings = CompanySettings(), serverReplica: ReplicaID = DeviceTokens.newReplica()) throws {
        do {
            try storage.createCompany(id, state: CompanyState(settings: try settings.validated()), serverReplica: serverReplica)
        } catch let error as LedgerError {
            throw ServiceError(.invalidRequest, "The settings are not valid: \(error.message)")
        }
    }

    /// Adds a user (or changes a user's role); the company must exist.
    public func setUser(_ user: UserID, role: Role, company: CompanyID) throws {
        _ = try storage.read(company) { _ in () }
        try storage.setUser(user, role: role, company: company)
    }

    /// Issues a token for a user's new device. The token is returned once and stored hashed.
    public func issueToken(company: CompanyID, user: UserID) throws -> (token: String, credential: DeviceCredential) {
        guard let actor = try storage.users(company: company).first(where: { $0.user == user }) else {
            throw ServiceError(.notFound, "There is no user '\(user.rawValue)' in company '\(company)'; add the user first.")
        }
        let token = DeviceTokens.make()
        let credential = DeviceCredential(company: company, actor: actor, replica: DeviceTokens.newReplica())
        try storage.registerDevice(tokenHash: DeviceTokens.hash(token), credential: credential)
        return (token, credential)
    }

    /// Revokes a device by its replica id.
    public func revoke(replica: ReplicaID, company: CompanyID) throws {
        guard try storage.revokeDevice(replica: replica, company: company) else {
            throw ServiceError(.notFound, "Company '\(company)' has no device \(replica); list the devices to find it.")
        }
    }

    /// The credential of a bearer token; unknown and revoked tokens are `unauthorized`.
    public func authenticate(token: String) throws -> DeviceCredential {
        guard token.utf8.count <= DeviceTokens.lengthMax, let found = try storage.device(tokenHash: DeviceTokens.hash(token)) else {
            throw ServiceError(.unauthorized, "The device token is unknown; ask the office for a new one.")
        }
        guard !found.revoked else {
            throw ServiceError(.unauthorized, "This device's token was revoked; ask the office for a new one. Unsent changes stay on the device.")
        }
        return found.credential
    }
}

/// Device tokens: 32 random bytes, written as text with a version prefix.
public enum DeviceTokens {
    static let prefix = "flt1_"
    /// The longest text accepted as a token (longer ones are not hashed, just refused).
    public static let lengthMax = 128

    static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        return prefix + (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    /// The stored form of a token.
    public static func hash(_ token: String) -> [UInt8] { SHA256.hash(Array(token.utf8)) }

    /// A fresh random replica id, for a new device or a company's server replica.
    public static func newReplica() -> ReplicaID {
        var generator = SystemRandomNumberGenerator()
        return ReplicaID(high: generator.next(), low: generator.next())
    }
}

/// Whichever storage the server was started with (SQLite or PostgreSQL), behind one type, so
/// the HTTP shell is written once.
public struct AnyServerStorage: LedgerStorage, AdminStorage {
    /// The storage every call goes to.
    public let base: any LedgerStorage & AdminStorage

    /// Wraps a storage.
    public init(_ base: any LedgerStorage & AdminStorage) {
        self.base = base
    }

    public func createCompany(_ id: CompanyID, state: CompanyState, serverReplica: ReplicaID) throws {
        try base.createCompany(id, state: state, serverReplica: serverReplica)
    }

    public func write<T>(_ body: (_ open: (CompanyID) throws -> any LedgerTransaction) throws -> T) throws -> T { try base.write(body) }
    public func companies() throws -> [CompanyID] { try base.companies() }
    public var writersAtOnce: Int { base.writersAtOnce }
    public func read<T>(_ company: CompanyID, _ body: (any LedgerTransaction) throws -> T) throws -> T { try base.read(company, body) }
    public func setUser(_ user: UserID, role: Role, company: CompanyID) throws { try base.setUser(user, role: role, company: company) }
    public func users(company: CompanyID) throws -> [Actor] { try base.users(company: company) }
    public func registerDevice(tokenHash: [UInt8], credential: DeviceCredential) throws { try base.registerDevice(tokenHash: tokenHash, credential: credential) }
    public func device(tokenHash: [UInt8]) throws -> (credential: DeviceCredential, revoked: Bool)? { try base.device(tokenHash: tokenHash) }
    public func revokeDevice(replica: ReplicaID, company: CompanyID) throws -> Bool { try base.revokeDevice(replica: replica, company: company) }
}

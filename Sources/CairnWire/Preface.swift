import NIOCore

/// The 8 bytes each side sends first on a connection, before any frame:
/// ASCII `CAIRN`, `u8 version`, `u8 role`, `u8 reserved` (0).
///
/// The dialer sends its preface first; the acceptor checks it and answers with its own (role
/// ``Role/server``, the same version) or with an `error` frame (``WireError/Code/badMagic``,
/// ``WireError/Code/unsupportedVersion``, ``WireError/Code/invalidValue``) and closes.
/// ``PrefaceExchange`` is that handshake as a state machine; ``PrefaceHandler`` runs it in a pipeline.
///
/// The preface layout and the `error` frame layout never change between protocol versions, so that
/// any two versions can tell each other they do not match.
public struct Preface: Sendable, Hashable {
    /// Who is speaking.
    public enum Role: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        /// A server dialing another server (Raft and `peerHello` frames follow).
        case peer = 1
        /// A client dialing a server (requests follow).
        case client = 2
        /// A server answering a dialer, peer or client.
        case server = 3

        /// The role's name.
        public var description: String {
            switch self {
            case .peer: return "peer"
            case .client: return "client"
            case .server: return "server"
            }
        }
    }

    /// The protocol version the sender speaks on this connection.
    public var version: UInt8
    /// The sender's role.
    public var role: Role

    /// Creates a preface.
    public init(version: UInt8 = Preface.currentVersion, role: Role) {
        self.version = version
        self.role = role
    }

    /// The five ASCII bytes every preface starts with: `CAIRN`.
    public static let magic: [UInt8] = Array("CAIRN".utf8)
    /// The protocol version this implementation speaks.
    public static let currentVersion: UInt8 = 1
    /// The protocol versions this implementation accepts.
    public static let supportedVersions: ClosedRange<UInt8> = 1...1
    /// The preface's size in bytes.
    public static let byteCount = 8
}

extension ByteBuffer {
    /// Writes `preface` (8 bytes).
    @discardableResult
    public mutating func writePreface(_ preface: Preface) -> Int {
        writeBytes(Preface.magic) + writeMultipleIntegers(preface.version, preface.role.rawValue, UInt8(0))
    }

    /// Reads a preface, or returns nil (consuming nothing) while fewer than 8 bytes are readable.
    ///
    /// Fails as soon as the bytes available cannot start a valid preface, so a connection speaking
    /// another protocol is refused on its first bytes: ``WireError/Code/badMagic`` when the bytes
    /// are not `CAIRN`, ``WireError/Code/unsupportedVersion`` when the version is outside
    /// `supportedVersions`, ``WireError/Code/invalidValue`` for an undefined role or a non-zero
    /// reserved byte. On failure nothing is consumed.
    public mutating func readPreface(
        supportedVersions: ClosedRange<UInt8> = Preface.supportedVersions
    ) throws(WireError) -> Preface? {
        let available = Swift.min(readableBytes, Preface.magic.count)
        for offset in 0..<available {
            let byte = getInteger(at: readerIndex + offset, as: UInt8.self)!
            guard byte == Preface.magic[offset] else {
                let seen = getBytes(at: readerIndex, length: available)!
                throw WireError(.badMagic, "expected the preface magic 'CAIRN' (43 41 49 52 4e), got \(seen.hexDump)")
            }
        }
        guard readableBytes >= Preface.byteCount else { return nil }
        let (version, roleByte, reserved) = getMultipleIntegers(
            at: readerIndex + Preface.magic.count, as: (UInt8, UInt8, UInt8).self)!
        guard supportedVersions.contains(version) else {
            throw WireError(
                .unsupportedVersion,
                "protocol version \(version) is not supported (supported: \(supportedVersions.lowerBound)...\(supportedVersions.upperBound))")
        }
        guard let role = Preface.Role(rawValue: roleByte) else {
            throw WireError(.invalidValue, "preface role \(roleByte) is undefined (1 peer, 2 client, 3 server)")
        }
        guard reserved == 0 else {
            throw WireError(.invalidValue, "preface reserved byte must be 0, got \(reserved)")
        }
        moveReaderIndex(forwardBy: Preface.byteCount)
        return Preface(version: version, role: role)
    }
}

extension Array where Element == UInt8 {
    /// Space-separated lowercase hex, for error reasons.
    var hexDump: String {
        map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined(separator: " ")
    }
}

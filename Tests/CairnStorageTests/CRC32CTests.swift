import CairnStorage
import Testing

/// The textbook bit-at-a-time CRC-32C, as an independent reference for the table-driven one.
private func bitwiseCRC32C(_ bytes: some Sequence<UInt8>) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
    }
    return ~crc
}

@Suite("CRC32C")
struct CRC32CTests {
    /// A published check value.
    struct Vector: Sendable, CustomTestStringConvertible {
        var name: String
        var bytes: [UInt8]
        var expected: UInt32
        var testDescription: String { name }
    }

    static let vectors: [Vector] = [
        Vector(name: "\"123456789\"", bytes: Array("123456789".utf8), expected: 0xE306_9283),
        // RFC 3720 appendix B.4.
        Vector(name: "32 zero bytes", bytes: [UInt8](repeating: 0, count: 32), expected: 0x8A91_36AA),
        Vector(name: "32 0xFF bytes", bytes: [UInt8](repeating: 0xFF, count: 32), expected: 0x62A8_AB43),
        Vector(name: "0...31", bytes: (0..<32).map { UInt8($0) }, expected: 0x46DD_794E),
        Vector(name: "31...0", bytes: (0..<32).reversed().map { UInt8($0) }, expected: 0x113F_DB5C),
        Vector(name: "no bytes", bytes: [], expected: 0),
    ]

    @Test("matches the published check values", arguments: vectors)
    func knownVectors(vector: Vector) {
        #expect(CRC32C.checksum(vector.bytes) == vector.expected)
        #expect(vector.bytes.withUnsafeBytes { CRC32C.checksum($0) } == vector.expected)
    }

    @Test("agrees with the bitwise definition for every length and alignment up to 80 bytes")
    func matchesReference() {
        let data = (0..<100).map { UInt8(truncatingIfNeeded: $0 &* 151 &+ 29) }
        for start in 0..<8 {
            for length in 0...(80) {
                let slice = data[start..<(start + length)]
                let fast = slice.withUnsafeBytes { CRC32C.checksum($0) }
                #expect(fast == bitwiseCRC32C(slice), "start \(start) length \(length)")
            }
        }
    }

    @Test("an incremental checksum equals the one-shot checksum at every split point")
    func incrementalEqualsOneShot() {
        let data = (0..<257).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        let whole = CRC32C.checksum(data)
        for split in 0...data.count {
            var crc = CRC32C()
            crc.update(Array(data[..<split]))
            data[split...].withUnsafeBytes { crc.update($0) }
            #expect(crc.value == whole, "split at \(split)")
            #expect(CRC32C.checksum(Array(data[split...]), seed: CRC32C.checksum(Array(data[..<split]))) == whole)
        }
    }

    @Test("a single flipped bit changes the checksum")
    func detectsBitFlips() {
        let data = [UInt8](repeating: 0x5A, count: 64)
        let original = CRC32C.checksum(data)
        for bit in 0..<(data.count * 8) {
            var damaged = data
            damaged[bit / 8] ^= 1 << (bit % 8)
            #expect(CRC32C.checksum(damaged) != original)
        }
    }
}

/// CRC-32C (Castagnoli): the checksum guarding every write-ahead-log record and snapshot file.
///
/// The reflected polynomial is `0x82F63B78`, the initial value and final XOR are `0xFFFFFFFF`
/// (so `checksum("123456789") == 0xE3069283`). The software implementation processes eight bytes
/// per step ("slicing-by-8") with eight 256-entry tables computed once per process.
///
/// Checksums chain: `checksum(b, seed: checksum(a)) == checksum(a + b)`, and a ``CRC32C`` value
/// accumulates the same way with `update(_:)`.
public struct CRC32C: Sendable, Hashable {
    /// The checksum of every byte passed to `update(_:)` so far.
    public private(set) var value: UInt32

    /// Starts a checksum; `seed` is the checksum of bytes that logically precede the next update.
    public init(seed: UInt32 = 0) {
        self.value = seed
    }

    /// Adds `buffer` to the checksum.
    public mutating func update(_ buffer: UnsafeRawBufferPointer) {
        value = Self.checksum(buffer, seed: value)
    }

    /// Adds `bytes` to the checksum.
    public mutating func update(_ bytes: [UInt8]) {
        value = Self.checksum(bytes, seed: value)
    }

    /// The reflected Castagnoli polynomial.
    public static let polynomial: UInt32 = 0x82F6_3B78

    /// The checksum of `buffer`, continuing from `seed` (the checksum of the preceding bytes, or 0).
    public static func checksum(_ buffer: UnsafeRawBufferPointer, seed: UInt32 = 0) -> UInt32 {
        var crc = ~seed
        let count = buffer.count
        guard count > 0 else { return seed }
        tables.withUnsafeBufferPointer { table in
            var offset = 0
            while count - offset >= 8 {
                let low = UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) ^ crc
                let high = UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self))
                let a = table[7 &* 256 &+ Int(low & 0xFF)] ^ table[6 &* 256 &+ Int((low >> 8) & 0xFF)]
                let b = table[5 &* 256 &+ Int((low >> 16) & 0xFF)] ^ table[4 &* 256 &+ Int(low >> 24)]
                let c = table[3 &* 256 &+ Int(high & 0xFF)] ^ table[2 &* 256 &+ Int((high >> 8) & 0xFF)]
                let d = table[256 &+ Int((high >> 16) & 0xFF)] ^ table[Int(high >> 24)]
                crc = a ^ b ^ c ^ d
                offset &+= 8
            }
            while offset < count {
                crc = table[Int((crc ^ UInt32(buffer[offset])) & 0xFF)] ^ (crc >> 8)
                offset &+= 1
            }
        }
        return ~crc
    }

    /// The checksum of `bytes`, continuing from `seed`.
    public static func checksum(_ bytes: [UInt8], seed: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0, seed: seed) }
    }

    /// Eight 256-entry tables, flattened: entry `k * 256 + b` is the CRC register after feeding
    /// byte `b` followed by `k` zero bytes.
    private static let tables: [UInt32] = {
        var tables = [UInt32](repeating: 0, count: 8 * 256)
        for byte in 0..<256 {
            var crc = UInt32(byte)
            for _ in 0..<8 {
                crc = (crc & 1) == 1 ? (crc >> 1) ^ polynomial : crc >> 1
            }
            tables[byte] = crc
        }
        for slice in 1..<8 {
            for byte in 0..<256 {
                let previous = tables[(slice - 1) * 256 + byte]
                tables[slice * 256 + byte] = (previous >> 8) ^ tables[Int(previous & 0xFF)]
            }
        }
        return tables
    }()
}

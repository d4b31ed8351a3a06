#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CKernels

/// The IDX format of MNIST and Fashion-MNIST, gzip-compressed or raw: a big-endian header —
/// two zero bytes, a type byte (0x08: unsigned bytes), the number of dimensions `d` — then `d`
/// big-endian 32-bit sizes and the elements in row-major order.
///
/// Only unsigned-byte files (every MNIST-style dataset) are read. The file is untrusted input:
/// the magic number, the dimension count, and the sizes against the data actually present are
/// all checked, and sizes are computed with overflow checks and capped at
/// ``maximumDataSize``; bad files throw ``PeregrineError`` naming the file and the problem.
///
/// ```swift
/// let images = try IDXFile.read(URL(fileURLWithPath: "t10k-images-idx3-ubyte.gz"),
///                               rank: 3, scale: 1 / 255)
/// images.shape   // [10000, 28, 28]
/// ```
public enum IDXFile {
    /// The largest data section accepted: 2 GiB of bytes (the float tensor is 4× that).
    ///
    /// ```swift
    /// IDXFile.maximumDataSize   // 2_147_483_648
    /// ```
    public static let maximumDataSize = 1 << 31

    /// Reads an IDX file (gzip or raw) into a float tensor of its dimensions, each byte times
    /// `scale`.
    ///
    /// - Parameters:
    ///   - rank: the number of dimensions required (3 for images, magic 0x00000803; 1 for
    ///     labels, 0x00000801), or nil for any.
    ///   - limit: read only the first `limit` items along the first dimension.
    ///   - scale: multiplies every byte (`1 / 255` maps pixels to [0, 1]).
    ///
    /// ```swift
    /// let labels = try IDXFile.read(URL(fileURLWithPath: "t10k-labels-idx1-ubyte.gz"), rank: 1)
    /// ```
    public static func read(_ url: URL, rank: Int? = nil, limit: Int? = nil, scale: Float = 1) throws -> Tensor {
        let bytes = try FileBytes.read(url, operation: "IDXFile.read")
        return try decode(bytes, name: url.path, rank: rank, limit: limit, scale: scale)
    }

    /// Parses IDX bytes (gzip or raw); `name` labels the errors. Same checks and options as
    /// ``read(_:rank:limit:scale:)``.
    ///
    /// ```swift
    /// let x = try IDXFile.decode([0, 0, 8, 1, 0, 0, 0, 2, 7, 9])   // Tensor([2]) [7.0, 9.0]
    /// ```
    public static func decode(
        _ bytes: [UInt8], name: String = "<memory>", rank: Int? = nil, limit: Int? = nil, scale: Float = 1
    ) throws -> Tensor {
        let fail = { (expected: String, actual: String) in
            PeregrineError.invalidArgument(operation: "IDXFile.read '\(name)'", expected: expected, actual: actual)
        }
        if let limit, limit < 0 { throw fail("a limit >= 0", "\(limit)") }
        if let rank, !(1...Int(CK_MAX_RANK)).contains(rank) {
            throw fail("a rank in 1...\(CK_MAX_RANK)", "\(rank)")
        }
        let reader: DecompressingReader
        do { reader = try DecompressingReader(bytes) } catch { throw fail("readable data", error.message) }

        func pull(_ buffer: UnsafeMutableRawBufferPointer, what: String) throws -> Int {
            do { return try reader.read(into: buffer) } catch { throw fail(what, error.message) }
        }
        func readExactly(_ count: Int, what: String) throws -> [UInt8] {
            var out = [UInt8](repeating: 0, count: count)
            let n = try out.withUnsafeMutableBytes { try pull($0, what: what) }
            guard n == count else { throw fail(what, "the file ends after \(n) of its \(count) bytes") }
            return out
        }
        func bigEndian32(_ b: [UInt8], at i: Int) -> Int {
            Int(b[i]) << 24 | Int(b[i + 1]) << 16 | Int(b[i + 2]) << 8 | Int(b[i + 3])
        }

        // Magic number: 0x00 0x00, type, dimension count.
        let magicBytes = try readExactly(4, what: "a 4-byte magic number")
        let magic = bigEndian32(magicBytes, at: 0)
        let hexMagic = "0x" + String(repeating: "0", count: 8 - String(magic, radix: 16).count) + String(magic, radix: 16)
        if let rank {
            let wanted = 0x800 | rank
            guard magic == wanted else {
                throw fail("magic number 0x00000\(String(wanted, radix: 16)) (unsigned bytes, \(rank) dimension\(rank == 1 ? "" : "s"))",
                           hexMagic)
            }
        }
        guard magicBytes[0] == 0, magicBytes[1] == 0 else {
            throw fail("an IDX magic number 0x0000TTDD", hexMagic)
        }
        guard magicBytes[2] == 0x08 else {
            throw fail("data type 0x08 (unsigned bytes, the only type read)", "type 0x\(String(magicBytes[2], radix: 16)) in magic \(hexMagic)")
        }
        let dimensionCount = Int(magicBytes[3])
        guard (1...Int(CK_MAX_RANK)).contains(dimensionCount) else {
            throw fail("1 to \(CK_MAX_RANK) dimensions", "\(dimensionCount) in magic \(hexMagic)")
        }

        // Sizes, with the product checked for overflow and capped.
        let sizeBytes = try readExactly(4 * dimensionCount, what: "\(dimensionCount) dimension sizes")
        let dims = (0..<dimensionCount).map { bigEndian32(sizeBytes, at: 4 * $0) }
        var declared = 1
        for d in dims {
            let (product, overflow) = declared.multipliedReportingOverflow(by: d)
            guard !overflow, product <= maximumDataSize else {
                throw fail("dimensions of at most \(maximumDataSize) bytes in total", "dimensions \(dims)")
            }
            declared = product
        }

        var shape = dims
        if let limit { shape[0] = min(dims[0], limit) }
        let wanted = shape.reduce(1, *)
        // Raw input: the size is known, so check the whole file even when reading a prefix.
        if !reader.isCompressed {
            let present = bytes.count - 4 - 4 * dimensionCount
            guard present == declared else {
                throw fail("\(declared) data bytes for dimensions \(dims)",
                           present < declared ? "\(present) (truncated file)" : "\(present) (data beyond the declared size)")
            }
        }

        // Read in chunks converted one by one, so memory grows only with data that is really
        // there (a header may promise gigabytes that a small compressed file cannot hold): the
        // float tensor is allocated once the bytes are all in.
        var chunks: [[UInt8]] = []
        var received = 0
        while received < wanted {
            let want = min(1 << 22, wanted - received)
            let chunk = try [UInt8](unsafeUninitializedCapacity: want) { buffer, initialized in
                initialized = try pull(UnsafeMutableRawBufferPointer(buffer),
                                       what: "\(declared) data bytes for dimensions \(dims)")
            }
            received += chunk.count
            guard chunk.count == want else {
                throw fail("\(declared) data bytes for dimensions \(dims)", "\(received) (truncated file)")
            }
            chunks.append(chunk)
        }
        if wanted == declared {
            var extra: UInt8 = 0
            let n = try withUnsafeMutableBytes(of: &extra) {
                try pull($0, what: "nothing after the \(declared) data bytes")
            }
            guard n == 0 else {
                throw fail("\(declared) data bytes for dimensions \(dims)", "more (data beyond the declared size)")
            }
        }

        let result = Tensor(uninitializedShape: shape)
        var offset = 0
        for chunk in chunks {
            chunk.withUnsafeBufferPointer {
                ck_u8_to_float(Int64($0.count), $0.baseAddress!, scale, result.pointer + offset)
            }
            offset += chunk.count
        }
        return result
    }
}
